/**
 * A unique index that correctness depends on (`required`) and that the MongoDB-wire server cannot
 * build is a startup error, not a skipped index: against the run's real FerretDB (which cannot
 * build partial indexes), and a real gateway process that exits with code 1 and says why.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { INDEXES, RequiredIndexError, ensureIndexes, type IndexSpec } from '../../src/store/indexes.js';
import { startGatewayExpectingFailure } from '../support/gateway.js';

describe('required indexes', () => {
  let mongo: MongoClient;
  const dbName = `indexes_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    mongo = await new MongoClient(inject('mongoUrl')).connect();
  });
  afterAll(async () => {
    await mongo
      .db(dbName)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
  });

  it('a required index of a kind the server lacks throws; the same index not required is skipped', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const partial: IndexSpec = {
      collection: 'idx_probe',
      key: { userId: 1, key: 1 },
      options: { unique: true, name: 'probe_partial_unique', partialFilterExpression: { key: { $type: 'string' } } },
    };
    await expect(ensureIndexes(mongo.db(dbName), [partial], log)).resolves.toBeUndefined();
    expect(lines.some((l) => l.includes('index not supported by this server; skipped'))).toBe(true);
    const failure = await ensureIndexes(mongo.db(dbName), [{ ...partial, required: true }], log).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(RequiredIndexError);
    expect((failure as Error).message).toMatch(/required index probe_partial_unique on idx_probe cannot be built/);
  });

  it('livegate itself declares no partial unique index, and marks its guarding unique indexes required', () => {
    expect(INDEXES.filter((s) => s.options?.partialFilterExpression)).toEqual([]);
    const unique = INDEXES.filter((s) => s.options?.unique);
    expect(unique.length).toBeGreaterThan(0);
    expect(unique.filter((s) => !s.required)).toEqual([]);
  });

  it('a gateway whose required unique index cannot be built exits with code 1 and a clear reason', async () => {
    const db = mongo.db(dbName);
    // Two accounts with one email: email_unique (required) cannot be built over this data.
    await db.collection<{ _id: string; email: string }>('users').insertMany([
      { _id: 'dup-1', email: 'same@example.com' },
      { _id: 'dup-2', email: 'same@example.com' },
    ]);
    const { code, stderr } = await startGatewayExpectingFailure({ MONGO_URL: inject('mongoUrl'), MONGO_DB: dbName });
    expect(code).toBe(1);
    expect(stderr).toMatch(/required index email_unique on users cannot be built \(DuplicateKey\)/);
  }, 60_000);
});
