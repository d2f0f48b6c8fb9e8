import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/store/bulk.js';
import type { WriteOp } from '../../src/store/write-queue.js';

const wallet = (id: string, version: number, set: Record<string, unknown>): WriteOp => ({ kind: 'setIfNewer', collection: 'wallets', id, version, set });
const insert = (id: string): WriteOp => ({ kind: 'insert', collection: 'rows', doc: { _id: id } });

describe('coalesce (superseded versioned writes)', () => {
  it('keeps one op per document and field set, the newest, and everything else in order', () => {
    const ops = [
      insert('r1'),
      wallet('u', 3, { balance: 1 }),
      wallet('h', 4, { balance: 2, totalEarnings: 2 }),
      insert('r2'),
      wallet('u', 5, { balance: 0 }),
      wallet('h', 6, { balance: 4, totalEarnings: 4 }),
      wallet('u', 4, { balance: 9 }),
    ];
    expect(coalesce(ops)).toEqual([insert('r1'), insert('r2'), wallet('u', 5, { balance: 0 }), wallet('h', 6, { balance: 4, totalEarnings: 4 })]);
  });

  it('keeps ops on one document that set different fields', () => {
    const ops = [wallet('u', 3, { balance: 1, totalEarnings: 1 }), wallet('u', 4, { balance: 0 })];
    expect(coalesce(ops)).toEqual(ops);
  });

  it('keeps one of two ops with the same version', () => {
    expect(coalesce([wallet('u', 3, { balance: 1 }), wallet('u', 3, { balance: 1 })])).toEqual([wallet('u', 3, { balance: 1 })]);
  });
});
