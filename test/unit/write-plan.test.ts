import { describe, expect, it } from 'vitest';
import { chunkBatch, coalesce, planBatch } from '../../src/store/bulk.js';
import { decodeOps, encodeOps } from '../../src/store/stream-queue.js';
import type { WriteOp } from '../../src/store/write-queue.js';

const snap = (id: string, version: number, set: Record<string, unknown>): WriteOp => ({ kind: 'setIfNewer', collection: 'c', id, version, set });

describe('write plan', () => {
  it('drops a setIfNewer only when a later version of the same document sets every field it sets', () => {
    const ops = [snap('a', 1, { x: 1, y: 1 }), snap('a', 3, { x: 3, y: 3, z: 3 }), snap('a', 2, { x: 2 }), snap('b', 1, { x: 1 }), snap('a', 4, { z: 4 })];
    const kept = coalesce(ops);
    // v4 sets only z, so v3 (x, y, z) must still run; v1 and v2 are covered by v3.
    expect(kept.map((o) => (o.kind === 'setIfNewer' ? `${o.id}${o.version}` : ''))).toEqual(['a3', 'b1', 'a4']);
  });

  it('keeps inserts and deletes, and orders a collection batch when one document appears twice', () => {
    const ops: WriteOp[] = [
      { kind: 'insert', collection: 'm', doc: { _id: '1', t: 'a' } },
      { kind: 'insert', collection: 'm', doc: { _id: '2', t: 'b' } },
      { kind: 'insert', collection: 'n', doc: { _id: '1', t: 'c' } },
      { kind: 'delete', collection: 'm', id: '1' },
    ];
    const plan = planBatch(ops);
    expect(plan.map((p) => [p.collection, p.ops.length, p.ordered])).toEqual([
      ['m', 3, true],
      ['n', 1, false],
    ]);
    expect(plan[0]!.models[0]).toEqual({ insertOne: { document: { _id: '1', t: 'a' } } });
    expect(plan[0]!.models[2]).toEqual({ deleteOne: { filter: { _id: '1' } } });
  });

  it('splits a collection batch into bulk writes of at most maxOps ops, queue order and ordering kept', () => {
    // 120 wallets, one of them updated twice (at the end): the batch is ordered.
    const ops = [...Array.from({ length: 120 }, (_, i) => snap(`w${i}`, 2, { [`f${i}`]: i })), snap('w0', 3, { other: 1 })];
    const [cb] = planBatch(ops);
    expect(cb!.ordered).toBe(true);
    const chunks = chunkBatch(cb!, 50);
    expect(chunks.map((c) => [c.collection, c.ops.length, c.models.length, c.ordered])).toEqual([
      ['c', 50, 50, true],
      ['c', 50, 50, true],
      ['c', 21, 21, true],
    ]);
    // Concatenated, the chunks are the batch: same ops and models, same order, each model beside its op.
    expect(chunks.flatMap((c) => c.ops)).toEqual(cb!.ops);
    expect(chunks.flatMap((c) => c.models)).toEqual(cb!.models);
    expect(chunks[2]!.ops.at(-1)).toEqual(snap('w0', 3, { other: 1 }));
    // A batch within the bound is one write; a bound of 1 is one op per write; no bound is refused.
    expect(chunkBatch(cb!, 121)).toEqual([cb]);
    expect(chunkBatch(cb!, 1).map((c) => c.ops.length)).toEqual(Array(121).fill(1));
    expect(() => chunkBatch(cb!, 0)).toThrow(RangeError);
  });

  it('guards setIfNewer by version and creates the document when absent', () => {
    const [model] = planBatch([snap('a', 7, { x: 1 })])[0]!.models;
    expect(model).toEqual({
      updateOne: {
        filter: { _id: 'a', $or: [{ version: { $lt: 7 } }, { version: { $exists: false } }] },
        update: { $set: { x: 1, version: 7 } },
        upsert: true,
      },
    });
  });

  it('keeps dates exact through the queue encoding and rejects what is not a list of ops', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const [op] = decodeOps(encodeOps([{ kind: 'insert', collection: 'm', doc: { _id: 'x', at } }]));
    expect(op).toEqual({ kind: 'insert', collection: 'm', doc: { _id: 'x', at } });
    expect(() => decodeOps('{"kind":"insert"}')).toThrow();
    expect(() => decodeOps('[{"kind":"drop","collection":"m"}]')).toThrow();
    expect(() => decodeOps('not json')).toThrow();
  });
});
