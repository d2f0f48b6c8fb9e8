/**
 * The seam between the socket path and MongoDB: domains enqueue idempotent write operations and
 * never wait for the database. Once `enqueue` resolves the operations are durable (Redis Stream
 * engine) or, in single-node mode without Redis, held in memory (weaker: lost on a crash).
 * A writer drains the queue in batches with bulk writes; every op must be safe to apply twice,
 * and ops that may race on one document from several nodes must commute (see docs/PERSISTENCE.md).
 */

export type Doc = { _id: string } & Record<string, unknown>;

export type WriteOp =
  /** Inserts the document once; a replay with the same _id changes nothing. */
  | { kind: 'insert'; collection: string; doc: Doc }
  /** Sets fields on a document, creating it if absent (idempotent). */
  | { kind: 'upsert'; collection: string; id: string; set: Record<string, unknown>; setOnInsert?: Record<string, unknown> }
  /**
   * Sets fields only if `version` is greater than the stored `version` (last writer by version wins);
   * creates the document when absent. Carry the whole state in `set` when the op can race an insert.
   */
  | { kind: 'setIfNewer'; collection: string; id: string; version: number; set: Record<string, unknown> }
  /** Deletes the document (idempotent). */
  | { kind: 'delete'; collection: string; id: string };

/**
 * Members of a Redis sorted set that vouch for the operations (the money outbox): the operations
 * are queued only while every member is there, and the members leave in the same atomic step.
 */
export interface QueueGuard {
  set: string;
  members: string[];
}

export interface WriteQueue {
  /** Durably queues the operations (in order). Never waits for MongoDB. */
  enqueue(ops: WriteOp[]): Promise<void>;
  /**
   * Queues the operations only if every member of `guard` is still in its set, removing them in
   * the same step; false (nothing queued, nothing removed) otherwise. A record is then queued only
   * on the Redis that made it: not twice, and not on a Redis that has lost it (docs/MONEY.md).
   */
  enqueueGuarded(ops: WriteOp[], guard: QueueGuard): Promise<boolean>;
}
