/**
 * STOPGAP until the durable pipeline (core.queue, the chat branch's engine) is merged: applies
 * WriteOps to MongoDB from process memory, in order, retrying until they succeed. Not durable
 * (lost if the process dies; the money outbox then re-queues them from Redis). Not a second
 * engine: once Core carries `queue`, money uses that and this file can go.
 */
import type { AnyBulkWriteOperation, Db } from 'mongodb';
import type { Logger } from 'pino';
import type { Doc, WriteOp, WriteQueue } from '../../store/write-queue.js';

type IdDoc = { _id: string } & Record<string, unknown>;

const DUPLICATE_KEY = 11000;

export class InterimWriteQueue implements WriteQueue {
  private readonly pending: WriteOp[] = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly db: () => Db, private readonly log: Logger) {}

  async enqueue(ops: WriteOp[]): Promise<void> {
    this.pending.push(...ops);
    if (!this.running) void this.drain();
  }

  size(): number {
    return this.pending.length;
  }

  /** Resolves when everything queued so far is written (or after `timeoutMs`). */
  async flush(timeoutMs: number): Promise<void> {
    if (!this.running && this.pending.length === 0) return;
    await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]);
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, 200);
      try {
        await this.apply(batch);
        this.pending.splice(0, batch.length);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, ops: batch.length }, 'interim write queue: MongoDB write failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.running = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Groups consecutive ops of one collection into unordered bulk writes (every op is idempotent). */
  private async apply(batch: WriteOp[]): Promise<void> {
    let i = 0;
    while (i < batch.length) {
      const collection = batch[i]!.collection;
      const group: AnyBulkWriteOperation<IdDoc>[] = [];
      while (i < batch.length && batch[i]!.collection === collection) group.push(toBulk(batch[i++]!));
      try {
        await this.db().collection<IdDoc>(collection).bulkWrite(group, { ordered: false });
      } catch (err) {
        const writeErrors = (err as { writeErrors?: Array<{ code?: number }> | { code?: number } }).writeErrors;
        const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : undefined;
        // A duplicate key is an op that already happened (insert replayed, or setIfNewer lost to a newer version).
        if (!list || list.some((e) => e.code !== DUPLICATE_KEY)) throw err;
      }
    }
  }
}

function toBulk(op: WriteOp): AnyBulkWriteOperation<IdDoc> {
  switch (op.kind) {
    case 'insert': {
      const { _id, ...fields } = op.doc as Doc;
      return { updateOne: { filter: { _id }, update: { $setOnInsert: fields }, upsert: true } };
    }
    case 'upsert':
      return { updateOne: { filter: { _id: op.id }, update: { $set: op.set, ...(op.setOnInsert ? { $setOnInsert: op.setOnInsert } : {}) }, upsert: true } };
    case 'setIfNewer':
      return {
        updateOne: {
          filter: { _id: op.id, $or: [{ version: { $lt: op.version } }, { version: { $exists: false } }] },
          update: { $set: { ...op.set, version: op.version } },
          upsert: true,
        },
      };
    case 'delete':
      return { deleteOne: { filter: { _id: op.id } } };
  }
}
