import type { AnyBulkWriteOperation } from 'mongodb';
import type { WriteOp } from './write-queue.js';

/** Documents livegate writes have string _ids (stable ids chosen by the domain). */
export type StoredDoc = { _id: string } & Record<string, unknown>;

/** One collection's share of a batch, in queue order. */
export interface CollectionBatch {
  collection: string;
  ops: WriteOp[];
  models: AnyBulkWriteOperation<StoredDoc>[];
  /** True when two ops touch the same document: then they must run in queue order. */
  ordered: boolean;
}

const opId = (op: WriteOp): string => (op.kind === 'insert' ? op.doc._id : op.id);

type ModelBuilder<K extends WriteOp['kind']> = (op: Extract<WriteOp, { kind: K }>) => AnyBulkWriteOperation<StoredDoc>;

/** Every op is an idempotent MongoDB write keyed by a stable _id. */
const MODELS: { [K in WriteOp['kind']]: ModelBuilder<K> } = {
  // Upsert + $setOnInsert: the first application inserts, any replay matches and changes nothing.
  insert: (op) => {
    const { _id, ...fields } = op.doc;
    return { updateOne: { filter: { _id }, update: { $setOnInsert: fields }, upsert: true } };
  },
  upsert: (op) => ({
    updateOne: { filter: { _id: op.id }, update: { $set: op.set, ...(op.setOnInsert ? { $setOnInsert: op.setOnInsert } : {}) }, upsert: true },
  }),
  // Matches only an older (or unversioned) document; when a newer one exists the upsert collides
  // on _id (duplicate key), which the writer counts as "stale" and ignores.
  setIfNewer: (op) => ({
    updateOne: {
      filter: { _id: op.id, $or: [{ version: { $lt: op.version } }, { version: { $exists: false } }] },
      update: { $set: { ...op.set, version: op.version } },
      upsert: true,
    },
  }),
  delete: (op) => ({ deleteOne: { filter: { _id: op.id } } }),
};

export function toModel(op: WriteOp): AnyBulkWriteOperation<StoredDoc> {
  return (MODELS[op.kind] as ModelBuilder<WriteOp['kind']>)(op);
}

/** Splits a batch by collection (queue order kept inside each). */
export function planBatch(ops: WriteOp[]): CollectionBatch[] {
  const byCollection = new Map<string, CollectionBatch>();
  const seen = new Map<string, Set<string>>();
  for (const op of ops) {
    let batch = byCollection.get(op.collection);
    if (!batch) byCollection.set(op.collection, (batch = { collection: op.collection, ops: [], models: [], ordered: false }));
    let ids = seen.get(op.collection);
    if (!ids) seen.set(op.collection, (ids = new Set()));
    const id = opId(op);
    if (ids.has(id)) batch.ordered = true;
    ids.add(id);
    batch.ops.push(op);
    batch.models.push(toModel(op));
  }
  return [...byCollection.values()];
}

/** Duplicate key: a stale setIfNewer, or an insert/upsert that raced another writer. */
export const DUPLICATE_KEY = 11000;
