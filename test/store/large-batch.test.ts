import type { Db } from 'mongodb';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { bounded } from '../../src/kernel/bounded.js';
import { processLocks } from '../../src/store/document-locks.js';
import { QueueMetrics } from '../../src/store/queue-metrics.js';
import { MemoryStreamQueue } from '../../src/store/stream-queue-memory.js';
import type { WriteOp } from '../../src/store/write-queue.js';
import { Writer } from '../../src/store/writer.js';
import { openDb, uid, waitUntil } from '../support/chat.js';

interface Wallet {
  _id: string;
  balance: number;
  version: number;
  note?: string;
}

/**
 * One default-sized batch writing hundreds of distinct documents of one collection (a gift burst
 * moves hundreds of wallets). FerretDB 1.24 deadlocks on a single `update` command of more than
 * ~100 statements on distinct documents (each holds one of its 100 pooled SQLite connections until
 * the command ends), so the writer splits a collection's models into bounded bulk writes.
 */
describe('writer: large batches', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  /** A database with `count` wallets at version 1, and a writer on a memory queue with the default batch sizes. */
  async function setup(count: number): Promise<{ db: Db; engine: MemoryStreamQueue<WriteOp[]>; writer: Writer; metrics: QueueMetrics; batchSize: number }> {
    const { db, close } = await openDb(inject('mongoUrl'), uid('bigbatch'));
    // A wedged database (the failure this test is about) must not hang the cleanup.
    cleanups.push(async () => {
      await bounded(db.dropDatabase(), 10_000, 'drop database').catch(() => undefined);
      await close();
    });
    await db.collection<Wallet>('wallets').insertMany(Array.from({ length: count }, (_, i) => ({ _id: `u${i}`, balance: 1000, version: 1 })));
    const defaults = loadConfig({ JWT_SECRET: 'x'.repeat(32) }).writeQueue;
    const engine = new MemoryStreamQueue<WriteOp[]>();
    const metrics = new QueueMetrics(new Registry(), engine);
    // Defaults for the sizes; short timeouts so that a hung write shows up within the test's bounds.
    const writer = new Writer(engine, processLocks, db, metrics, pino({ level: 'silent' }), {
      batchSize: defaults.batchSize,
      maxBulkOps: defaults.maxBulkOps,
      blockMs: 50,
      claimEveryMs: 60_000,
      maxBackoffMs: 200,
      writeTimeoutMs: 5000,
    });
    return { db, engine, writer, metrics, batchSize: defaults.batchSize };
  }

  async function drain(engine: MemoryStreamQueue<WriteOp[]>, writer: Writer): Promise<void> {
    writer.start();
    try {
      await waitUntil('the write queue to drain', async () => (await engine.stats()).length === 0 || undefined, 20_000);
    } finally {
      await writer.stop(0);
    }
  }

  const count = async (metrics: QueueMetrics, result: string): Promise<number> =>
    (await metrics.ops.get()).values.find((v) => v.labels['result'] === result)?.value ?? 0;

  it('drains one default-sized batch of versioned updates to 300 distinct documents', async () => {
    const WALLETS = 300;
    const { db, engine, writer, batchSize } = await setup(WALLETS);
    // Gifts: each entry debits a sender and credits a receiver (two wallets); 150 entries, one batch.
    for (let i = 0; i < WALLETS; i += 2) {
      await engine.append([i, i + 1].map((w): WriteOp => ({ kind: 'setIfNewer', collection: 'wallets', id: `u${w}`, version: 2, set: { balance: 1000 + w } })));
    }
    expect((await engine.stats()).length).toBeLessThanOrEqual(batchSize);
    await drain(engine, writer);
    const wallets = await db.collection<Wallet>('wallets').find().toArray();
    expect(wallets).toHaveLength(WALLETS);
    expect(wallets.filter((w) => w.version !== 2 || w.balance !== 1000 + Number(w._id.slice(1)))).toEqual([]);
    expect(engine.dead).toEqual([]);
  }, 60_000);

  it('keeps queue order across chunks and handles a stale and a refused op in a middle chunk', async () => {
    const WALLETS = 160;
    const { db, engine, writer, metrics } = await setup(WALLETS);
    await db.collection<Wallet>('wallets').insertOne({ _id: 'newer', balance: 7, version: 9 });
    const ops: WriteOp[] = Array.from({ length: WALLETS }, (_, w) => ({
      kind: 'setIfNewer',
      collection: 'wallets',
      id: `u${w}`,
      version: 2,
      set: { balance: 1000 + w },
    }));
    // u0 is written twice, first in the first chunk and last in the last one: the batch is ordered.
    ops.splice(1, 0, { kind: 'upsert', collection: 'wallets', id: 'u0', set: { note: 'first' } });
    ops.push({ kind: 'upsert', collection: 'wallets', id: 'u0', set: { note: 'second' } });
    // In the second chunk: an older version (stale, ignored) and an op the server refuses for good.
    ops.splice(60, 0, { kind: 'setIfNewer', collection: 'wallets', id: 'newer', version: 5, set: { balance: 5 } });
    ops.splice(70, 0, { kind: 'upsert', collection: 'wallets', id: 'refused', set: { balance: 1 }, setOnInsert: { balance: 2 } });
    for (let i = 0; i < ops.length; i += 2) await engine.append(ops.slice(i, i + 2));
    await drain(engine, writer);

    const wallets = new Map((await db.collection<Wallet>('wallets').find().toArray()).map((w) => [w._id, w]));
    expect([...wallets.keys()].filter((id) => id.startsWith('u'))).toHaveLength(WALLETS);
    expect([...wallets.values()].filter((w) => w._id.startsWith('u') && (w.version !== 2 || w.balance !== 1000 + Number(w._id.slice(1))))).toEqual([]);
    expect(wallets.get('u0')?.note).toBe('second');
    expect(wallets.get('newer')).toEqual({ _id: 'newer', balance: 7, version: 9 });
    expect(wallets.has('refused')).toBe(false);
    expect(engine.dead.map((d) => JSON.parse(d.raw) as unknown)).toEqual([[expect.objectContaining({ kind: 'upsert', id: 'refused' })]]);
    expect(await count(metrics, 'stale')).toBe(1);
    expect(await count(metrics, 'dead')).toBe(1);
    expect(await count(metrics, 'applied')).toBe(ops.length - 2);
  }, 60_000);
});
