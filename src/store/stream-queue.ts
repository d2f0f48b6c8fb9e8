/**
 * A durable queue engine under the WriteQueue seam: where queued operations wait until the
 * writer has applied them to MongoDB. Engines: queue-redis.ts (Redis Stream + consumer group,
 * shared by every node) and queue-memory.ts (this process only). See docs/PERSISTENCE.md.
 */
import { BSON } from 'mongodb';
import type { QueueGuard, WriteOp } from './write-queue.js';

/** One enqueue call: its operations travel and are acknowledged together. */
export interface QueueEntry {
  readonly id: string;
  /** Milliseconds since epoch when the entry was queued. */
  readonly enqueuedAt: number;
  readonly ops: WriteOp[];
}

/** An entry whose payload could not be decoded (kept aside, never silently dropped). */
export interface BadEntry {
  readonly id: string;
  readonly raw: string;
  readonly reason: string;
}

export interface Batch {
  entries: QueueEntry[];
  bad: BadEntry[];
}

export interface QueueStats {
  /** Entries queued and not yet acknowledged (in flight included). */
  length: number;
  /** Age of the oldest unacknowledged entry in ms (0 when empty). */
  oldestAgeMs: number;
}

/** Locks one writer holds on documents. */
export interface DocumentLocks {
  /** Gives every lock a full `ttlMs` again; throws if one was lost (expired and taken by another writer). */
  extend(): Promise<void>;
  release(): Promise<void>;
}

export interface QueueEngine {
  readonly name: 'redis' | 'memory';
  append(ops: WriteOp[]): Promise<void>;
  /** Appends only while every member of the guard's set is present, removing them atomically (WriteQueue.enqueueGuarded). */
  appendGuarded(ops: WriteOp[], guard: QueueGuard): Promise<boolean>;
  /**
   * Entries to (re)process before new ones: this writer's own unacknowledged entries (after a
   * restart) and entries a crashed writer left idle for longer than the claim timeout.
   */
  reclaim(max: number): Promise<Batch>;
  /** New entries, waiting up to `blockMs` for some to arrive. */
  next(max: number, blockMs: number): Promise<Batch>;
  /**
   * Tells other writers these entries are still being worked on; returns those this writer still
   * holds. An entry missing from the answer is no longer queued (a Redis that lost its data, or
   * another writer took it over): the writer must not apply it.
   */
  keepClaimed(ids: string[]): Promise<string[]>;
  /** The entries are applied: remove them for good. */
  ack(ids: string[]): Promise<void>;
  /** Moves entries that can never be applied to the dead-letter store, then acknowledges them. */
  deadLetter(items: Array<{ id: string; raw: string; reason: string }>): Promise<void>;
  stats(): Promise<QueueStats>;
  /**
   * Excludes other writers from these documents until the locks are released (or `ttlMs` passes
   * without an `extend`). Taken in the given (sorted) order, so writers never deadlock. Needed
   * because not every server applies a conditional update atomically under concurrency: FerretDB
   * 1.x loses updates when two writers race on one document (measured: 16 of 30 rounds ended on an
   * older version). MongoDB does not need it; it costs one Redis round trip per contended document
   * (one for all of them when none is contended).
   */
  lockDocuments(keys: string[], ttlMs: number): Promise<DocumentLocks>;
  close(): Promise<void>;
}

/** Canonical extended JSON keeps Dates (and other BSON types) exact through the queue. */
/**
 * Relaxed Extended JSON: plain JSON numbers, `{"$date": "<ISO>"}` for dates. Half the encoding and
 * decoding time of canonical mode and a sixth smaller; it decodes to the same values (decodeOps
 * reads both, so entries queued by older nodes still apply).
 */
export const encodeOps = (ops: WriteOp[]): string => BSON.EJSON.stringify(ops, { relaxed: true });

export function decodeOps(raw: string): WriteOp[] {
  // Relaxed parsing gives plain JS numbers back (Dates and other BSON types stay exact).
  const value: unknown = BSON.EJSON.parse(raw, { relaxed: true });
  if (!Array.isArray(value) || !value.every(isWriteOp)) throw new Error('not a list of write operations');
  return value;
}

const KINDS = new Set(['insert', 'upsert', 'setIfNewer', 'delete']);

function isWriteOp(value: unknown): value is WriteOp {
  if (typeof value !== 'object' || value === null) return false;
  const op = value as Record<string, unknown>;
  return typeof op['kind'] === 'string' && KINDS.has(op['kind']) && typeof op['collection'] === 'string';
}
