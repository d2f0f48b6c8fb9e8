/**
 * The one durable queue primitive: a stream of entries read by a consumer group, each entry handed
 * to one consumer and kept until that consumer acknowledges it (or another consumer claims it after
 * its holder went idle). Engines: stream-queue-redis.ts (a Redis Stream + consumer group, shared by
 * every node) and stream-queue-memory.ts (this process only). Users: the write pipeline (entries
 * are lists of WriteOps, store/store.ts; docs/PERSISTENCE.md) and the webhooks (entries are
 * WebhookEvents, handlers/bridge/webhooks/service.ts; docs/BRIDGE.md).
 */
import { BSON } from 'mongodb';
import type { QueueGuard, WriteOp } from './write-queue.js';

/** How entries are written to and read from the stream; `decode` throws for an entry it cannot read. */
export interface QueueCodec<T> {
  encode(value: T): string;
  decode(raw: string): T;
}

/** One appended value; `id` is the queue's own (stream entry id). */
export interface QueueEntry<T> {
  readonly id: string;
  /** Milliseconds since epoch when the entry was queued. */
  readonly enqueuedAt: number;
  readonly value: T;
}

/** An entry whose payload could not be decoded (kept aside, never silently dropped). */
export interface BadEntry {
  readonly id: string;
  readonly raw: string;
  readonly reason: string;
}

export interface Batch<T> {
  entries: QueueEntry<T>[];
  bad: BadEntry[];
  /** From `reclaim`: more pending entries are left to look at (call again). */
  more?: boolean;
}

export interface QueueStats {
  /** Entries queued and not yet acknowledged (in flight included). */
  length: number;
  /** Age of the oldest unacknowledged entry in ms (0 when empty). */
  oldestAgeMs: number;
}

export interface StreamQueueOptions {
  /** A pending entry idle this long belongs to a consumer that stopped, and `reclaim` takes it over (0: at once). */
  claimIdleMs: number;
  /** Most unacknowledged entries; `append` refuses beyond it. */
  maxLength?: number;
  /** Most dead-lettered entries kept (oldest dropped first). */
  deadMaxLength?: number;
}

export interface StreamQueue<T> {
  readonly name: 'redis' | 'memory';
  /** Appends in order; resolves false when the queue holds `maxLength` entries (nothing appended). */
  append(value: T): Promise<boolean>;
  /**
   * Appends only while every member of the guard's set is present, removing them atomically
   * (WriteQueue.enqueueGuarded); resolves false when a member was missing (nothing appended).
   */
  appendGuarded(value: T, guard: QueueGuard): Promise<boolean>;
  /**
   * Entries to (re)process before new ones, one page per call (`more` when there is another):
   * this consumer's own unacknowledged entries (after a restart) and entries another consumer left
   * idle for `claimIdleMs`.
   */
  reclaim(max: number): Promise<Batch<T>>;
  /** Entries never handed out before, in order, waiting up to `blockMs` for some to arrive. */
  next(max: number, blockMs: number): Promise<Batch<T>>;
  /**
   * Tells other consumers these entries are still being worked on; returns those this consumer
   * still holds. An entry missing from the answer is no longer queued (a Redis that lost its data,
   * or another consumer took it over): the consumer must not apply it.
   */
  keepClaimed(ids: string[]): Promise<string[]>;
  /** The entries are done: removed for good. */
  ack(ids: string[]): Promise<void>;
  /** Moves entries that can never be processed to the dead-letter store, then acknowledges them. */
  deadLetter(items: BadEntry[]): Promise<void>;
  stats(): Promise<QueueStats>;
  close(): Promise<void>;
}

/** The write pipeline's entries: the operations of one enqueue call, applied and acknowledged together. */
export type WriteStreamQueue = StreamQueue<WriteOp[]>;

/**
 * Relaxed Extended JSON: plain JSON numbers, `{"$date": "<ISO>"}` for dates, so Dates (and other
 * BSON types) stay exact through the queue. Half the encoding and decoding time of canonical mode
 * and a sixth smaller; decodeOps reads both, so entries queued by older nodes still apply.
 */
export const encodeOps = (ops: WriteOp[]): string => BSON.EJSON.stringify(ops, { relaxed: true });

export function decodeOps(raw: string): WriteOp[] {
  // Relaxed parsing gives plain JS numbers back (Dates and other BSON types stay exact).
  const value: unknown = BSON.EJSON.parse(raw, { relaxed: true });
  if (!Array.isArray(value) || !value.every(isWriteOp)) throw new Error('not a list of write operations');
  return value;
}

export const writeOpsCodec: QueueCodec<WriteOp[]> = { encode: encodeOps, decode: decodeOps };

const KINDS = new Set(['insert', 'upsert', 'setIfNewer', 'delete']);

function isWriteOp(value: unknown): value is WriteOp {
  if (typeof value !== 'object' || value === null) return false;
  const op = value as Record<string, unknown>;
  return typeof op['kind'] === 'string' && KINDS.has(op['kind']) && typeof op['collection'] === 'string';
}
