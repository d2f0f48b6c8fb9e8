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

export interface WriteQueue {
  /** Durably queues the operations (in order). Never waits for MongoDB. */
  enqueue(ops: WriteOp[]): Promise<void>;
}
