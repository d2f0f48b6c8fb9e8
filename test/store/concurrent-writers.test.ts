import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RedisDocumentLocks } from '../../src/store/document-locks.js';
import { QueueMetrics } from '../../src/store/queue-metrics.js';
import { RedisStreamQueue } from '../../src/store/stream-queue-redis.js';
import { writeOpsCodec } from '../../src/store/stream-queue.js';
import type { WriteOp } from '../../src/store/write-queue.js';
import { Writer } from '../../src/store/writer.js';
import { openDb, uid, waitUntil } from '../support/chat.js';

/**
 * Several writers drain one stream into one database. Versioned writes to the same documents
 * land in different writers' batches at the same time; the highest version must win everywhere.
 */
describe('concurrent writers', () => {
  const redis: Redis[] = [];
  afterAll(() => redis.forEach((r) => r.disconnect()));

  it('ends every document on its highest version, inserts racing versioned updates included', async () => {
    const dbName = uid('writers');
    const stream = `lg-test:${dbName}`;
    const { db, close } = await openDb(inject('mongoUrl'), dbName);
    const engine = (consumer: string): RedisStreamQueue<WriteOp[]> => {
      const [cmd, reader] = [new Redis(inject('redisUrl')), new Redis(inject('redisUrl'))];
      redis.push(cmd, reader);
      return new RedisStreamQueue(cmd, reader, writeOpsCodec, { stream, group: 'writers', consumer, claimIdleMs: 60_000 });
    };
    const engines = [engine('w1'), engine('w2'), engine('w3')];
    const writers = engines.map(
      (e, i) =>
        new Writer(e, new RedisDocumentLocks(redis[0]!, stream, `w${i + 1}`), db, new QueueMetrics(new Registry(), e), pino({ level: 'silent' }), {
          batchSize: 3,
          maxBulkOps: 50,
          blockMs: 50,
          claimEveryMs: 60_000,
          maxBackoffMs: 200,
          writeTimeoutMs: 10_000,
        }),
    );
    writers.forEach((w) => w.start());
    try {
      const DOCS = 20;
      const VERSIONS = 8;
      // Each document: an insert at version 1 and whole-state updates 2..8, enqueued shuffled in small entries.
      const ops: WriteOp[] = [];
      for (let d = 0; d < DOCS; d++) {
        ops.push({ kind: 'insert', collection: 'docs', doc: { _id: `d${d}`, val: 1, version: 1 } });
        for (let v = 2; v <= VERSIONS; v++) ops.push({ kind: 'setIfNewer', collection: 'docs', id: `d${d}`, version: v, set: { val: v } });
      }
      ops.sort(() => Math.random() - 0.5);
      for (let i = 0; i < ops.length; i += 2) await engines[0]!.append(ops.slice(i, i + 2));
      await waitUntil('the stream to drain', async () => (await engines[0]!.stats()).length === 0 || undefined, 60_000);
      const docs = await db.collection<{ _id: string; val: number; version: number }>('docs').find().toArray();
      expect(docs).toHaveLength(DOCS);
      expect(docs.filter((d) => d.version !== VERSIONS || d.val !== VERSIONS)).toEqual([]);
    } finally {
      await Promise.all(writers.map((w) => w.stop(0)));
      await db.dropDatabase();
      await close();
    }
  }, 90_000);
});
