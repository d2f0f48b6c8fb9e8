import { MongoBulkWriteError, type AnyBulkWriteOperation, type Collection, type Db, type WriteError } from 'mongodb';
import type { Logger } from 'pino';
import { bounded } from '../kernel/bounded.js';
import { chunkBatch, DUPLICATE_KEY, planBatch, type CollectionBatch, type StoredDoc } from './bulk.js';
import type { DocumentLocker, DocumentLocks } from './document-locks.js';
import type { QueueMetrics } from './queue-metrics.js';
import { encodeOps, type Batch, type WriteStreamQueue } from './stream-queue.js';
import type { WriteOp } from './write-queue.js';

export interface WriterOptions {
  /** Most entries read per batch. */
  batchSize: number;
  /** Most ops (statements) in one bulk write: a collection's share of a batch is sent in chunks of this size. */
  maxBulkOps: number;
  /** How long one read waits for new entries. */
  blockMs: number;
  /** How often to look for entries a crashed writer left pending. */
  claimEveryMs: number;
  /** Longest pause between attempts while MongoDB is unreachable. */
  maxBackoffMs: number;
  /** Upper bound for one bulk write; a hung server counts as unreachable (the batch is retried). */
  writeTimeoutMs: number;
}

interface Rejected {
  op: WriteOp;
  reason: string;
}

const EMPTY: Batch<WriteOp[]> = { entries: [], bad: [] };
const isEmpty = (b: Batch<WriteOp[]>): boolean => b.entries.length === 0 && b.bad.length === 0;

/**
 * Drains the queue into MongoDB: one batch at a time, bulk writes per collection, idempotent.
 * While MongoDB is unreachable it retries the same batch with backoff (the entries stay queued;
 * sockets never wait). Ops MongoDB refuses for good (not a transient error) go to the dead-letter
 * store instead of blocking the queue. Runs in the background until `stop`.
 */
export class Writer {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private deadline = Number.POSITIVE_INFINITY;

  constructor(
    private readonly engine: WriteStreamQueue,
    private readonly locks: DocumentLocker,
    private readonly db: Db,
    private readonly metrics: QueueMetrics,
    private readonly log: Logger,
    private readonly opts: WriterOptions,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  get running(): boolean {
    return this.loop !== undefined && !this.stopping;
  }

  /** Stops reading, then applies what is queued until `flushMs` has passed. Returns what is left. */
  async stop(flushMs: number): Promise<number> {
    if (!this.loop) return (await this.engine.stats()).length;
    this.deadline = Date.now() + flushMs;
    this.stopping = true;
    await this.loop;
    while (Date.now() < this.deadline) {
      const batch = await this.engine.next(this.opts.batchSize, 0).catch(() => EMPTY);
      if (isEmpty(batch) || !(await this.process(batch))) break;
    }
    const left = (await this.engine.stats().catch(() => ({ length: -1 }))).length;
    this.log.info({ left, engine: this.engine.name }, 'write queue flushed');
    return left;
  }

  private async run(): Promise<void> {
    let lastClaim = 0;
    while (!this.stopping) {
      try {
        let batch = EMPTY;
        if (Date.now() - lastClaim >= this.opts.claimEveryMs) {
          batch = await this.engine.reclaim(this.opts.batchSize);
          if (isEmpty(batch)) lastClaim = Date.now();
          else this.log.info({ entries: batch.entries.length }, 'write queue: reclaimed pending entries');
        }
        if (isEmpty(batch)) batch = await this.engine.next(this.opts.batchSize, this.opts.blockMs);
        await this.process(batch);
      } catch (err) {
        this.metrics.failures.inc({ reason: 'queue' });
        this.log.warn({ err: (err as Error).message }, 'write queue read failed; retrying');
        await sleep(1000);
      }
    }
  }

  /** Applies one batch; false if it was abandoned at the shutdown deadline (left queued). */
  private async process(batch: Batch<WriteOp[]>): Promise<boolean> {
    if (batch.bad.length > 0) {
      this.metrics.failures.inc({ reason: 'bad_entry' }, batch.bad.length);
      this.log.error({ ids: batch.bad.map((b) => b.id) }, 'write queue: undecodable entries moved to dead letters');
      await this.engine.deadLetter(batch.bad);
    }
    if (batch.entries.length === 0) return true;
    const ids = batch.entries.map((e) => e.id);
    const entryOf = new Map<WriteOp, string>();
    for (const entry of batch.entries) for (const op of entry.value) entryOf.set(op, entry.id);
    const plan = planBatch(batch.entries.flatMap((e) => e.value));
    this.metrics.batchOps.observe(entryOf.size);
    const planned = plan.reduce((n, cb) => n + cb.ops.length, 0);
    if (planned < entryOf.size) this.metrics.ops.inc({ result: 'superseded' }, entryOf.size - planned);

    // One collection, and one chunk of at most maxBulkOps ops, after the other: fewer concurrent
    // write transactions on the server, and queue order kept for ops on one document. A retry
    // resumes after the chunks already applied (they are idempotent, but replaying inserts is slow).
    const chunks = plan.flatMap((cb) => chunkBatch(cb, this.opts.maxBulkOps));
    const rejected: Rejected[] = [];
    let done = 0;
    // The last moment Redis confirmed it still held the entries (or this writer's locks).
    let confirmedAt = Date.now();
    // Set when Redis lost the entries after part of the batch was written: the rest must land by then.
    let finishBy: number | undefined;
    for (let attempt = 1; ; attempt++) {
      let locks: DocumentLocks | undefined;
      try {
        // After a failure, make sure MongoDB answers before taking locks other writers may be waiting for.
        if (attempt > 1) await this.bounded(this.db.command({ ping: 1 }));
        // Every write below is bounded by writeTimeoutMs and the locks last that + 1 s; they are
        // extended after every chunk, so a batch of many slow writes keeps them to the end.
        locks = await this.locks.lock(lockKeys(plan), this.opts.writeTimeoutMs + 1000);
        // Only entries still queued on this Redis are applied: after Redis lost its data (restart
        // without persistence) the entries read from it are gone, and so are the balances that
        // spent them; writing them later would let a reloaded wallet spend the same coins again.
        // Past this point a lost Redis is noticed at the next `extend` (its locks are gone too).
        const asked = Date.now();
        const held = new Set(await this.engine.keepClaimed(ids));
        if (held.size === ids.length) {
          if (finishBy === undefined) confirmedAt = asked;
        } else if (done === 0) {
          await locks.release();
          const lost = batch.entries.filter((e) => !held.has(e.id));
          this.metrics.failures.inc({ reason: 'not_held' }, lost.length);
          this.log.error(
            { entries: lost.length, ops: lost.reduce((n, e) => n + e.value.length, 0) },
            'write queue: entries no longer queued (Redis lost its data, or another writer took them over); not applied',
          );
          return this.process({ entries: batch.entries.filter((e) => held.has(e.id)), bad: [] });
        } else if (finishBy === undefined) {
          // Part of the batch is in MongoDB: finish it, so each entry is whole, but only while it
          // lands before any wallet may be reloaded (money waits WRITE_TIMEOUT_MS + 1 s after a
          // Redis restart, MONEY_RELOAD_FENCE_MS; the restart came after `confirmedAt`).
          finishBy = confirmedAt + this.opts.writeTimeoutMs + 1000;
          this.log.warn({ chunks: chunks.length, done }, 'write queue: Redis lost the entries of a batch being written; finishing it');
        }
        while (done < chunks.length) {
          const left = finishBy === undefined ? this.opts.writeTimeoutMs : finishBy - Date.now();
          if (left <= 0) {
            await locks.release().catch(() => undefined);
            this.metrics.failures.inc({ reason: 'abandoned' }, ids.length);
            this.log.error(
              { entries: ids.length, chunks: chunks.length, done },
              'write queue: batch abandoned part-written: this writer no longer holds its entries (another writer took them over, or Redis lost its data: then it stays half written) and the rest could not land before wallets may reload',
            );
            return true;
          }
          rejected.push(...(await this.applyCollection(chunks[done]!, Math.min(left, this.opts.writeTimeoutMs))));
          done++;
          const extending = Date.now();
          await locks.extend();
          if (finishBy === undefined) confirmedAt = extending;
        }
        await locks.release();
        break;
      } catch (err) {
        await locks?.release().catch(() => undefined);
        this.metrics.retries.inc();
        this.metrics.failures.inc({ reason: 'mongodb' });
        if (attempt === 1 || attempt % 10 === 0)
          this.log.warn({ err: (err as Error).message, attempt, ops: entryOf.size }, 'mongodb write failed; batch kept and retried');
        const pause = Math.min(this.opts.maxBackoffMs, 100 * 2 ** Math.min(attempt, 10)) * (0.75 + Math.random() / 2);
        if (Date.now() + pause >= this.deadline) {
          this.log.error({ ops: entryOf.size, engine: this.engine.name }, 'shutdown deadline: batch left in the queue');
          return false;
        }
        await this.engine.keepClaimed(ids).catch(() => undefined);
        await sleep(pause);
      }
    }
    if (rejected.length > 0) {
      this.metrics.ops.inc({ result: 'dead' }, rejected.length);
      this.metrics.failures.inc({ reason: 'rejected_op' }, rejected.length);
      this.log.error(
        { rejected: rejected.map((r) => ({ collection: r.op.collection, reason: r.reason })) },
        'mongodb refused operations; moved to dead letters',
      );
      await this.engine.deadLetter(rejected.map((r) => ({ id: entryOf.get(r.op) ?? 'unknown', raw: encodeOps([r.op]), reason: r.reason })));
    }
    await this.engine.ack(ids);
    return true;
  }

  /**
   * One bulkWrite of (a chunk of) a collection's ops. When it reports per-op errors, the ops are
   * applied again one by one (all are idempotent): servers differ in what an unordered bulk
   * executes after an error (FerretDB stops at the first one and misreports its index), so only
   * single-op results are trusted. Duplicate key = a stale version or a lost race (expected); other per-op errors are
   * permanent rejections; anything else throws (transient: the whole batch is retried).
   */
  private async applyCollection(cb: CollectionBatch, timeoutMs: number): Promise<Rejected[]> {
    const collection = this.db.collection<StoredDoc>(cb.collection);
    const stop = this.metrics.writeDuration.startTimer({ collection: cb.collection });
    try {
      await this.bounded(collection.bulkWrite(cb.models, { ordered: cb.ordered }), timeoutMs);
      stop();
      this.metrics.ops.inc({ result: 'applied' }, cb.models.length);
      return [];
    } catch (err) {
      if (!writeErrorsOf(err)) throw err;
    }
    const rejected: Rejected[] = [];
    for (const [i, model] of cb.models.entries()) {
      const op = cb.ops[i]!;
      const error = await this.applyOne(collection, model, op.kind === 'insert' || op.kind === 'delete' ? 1 : 2, timeoutMs);
      if (!error) this.metrics.ops.inc({ result: 'applied' });
      else if (error.code === DUPLICATE_KEY) this.metrics.ops.inc({ result: 'stale' });
      else rejected.push({ op, reason: `${error.code}: ${error.errmsg ?? ''}` });
    }
    return rejected;
  }

  private bounded<T>(write: Promise<T>, timeoutMs = this.opts.writeTimeoutMs): Promise<T> {
    return bounded(write, timeoutMs, 'mongodb write');
  }

  /**
   * One op; its per-op error if MongoDB refused it. An upsert (plain or setIfNewer) that collided
   * with a concurrent insert of the same _id is tried once more: the document exists now, so a
   * second duplicate key means it really is newer (stale), and otherwise the update applies.
   */
  private async applyOne(
    collection: Collection<StoredDoc>,
    model: AnyBulkWriteOperation<StoredDoc>,
    attempts: number,
    timeoutMs: number,
  ): Promise<WriteError | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bounded(collection.bulkWrite([model], { ordered: true }), timeoutMs);
        return undefined;
      } catch (err) {
        const error = writeErrorsOf(err)?.[0];
        if (!error) throw err;
        if (error.code !== DUPLICATE_KEY || attempt >= attempts) return error;
      }
    }
  }
}

/** Per-op errors of a bulk write, or undefined when the failure was not per-op (network, selection). */
function writeErrorsOf(err: unknown): WriteError[] | undefined {
  if (!(err instanceof MongoBulkWriteError)) return undefined;
  const list = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  if (list.length === 0 || err.result?.getWriteConcernError?.()) return undefined;
  return list;
}

/** The documents a batch read-modify-writes (conditional or upserting updates), sorted: lock order. */
function lockKeys(plan: CollectionBatch[]): string[] {
  const keys = new Set<string>();
  for (const cb of plan) for (const op of cb.ops) if (op.kind === 'setIfNewer' || op.kind === 'upsert') keys.add(`${cb.collection}:${op.id}`);
  return [...keys].sort();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
