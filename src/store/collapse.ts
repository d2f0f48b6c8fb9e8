import type { WriteOp } from './write-queue.js';

/**
 * Drops every `setIfNewer` op that a later-versioned op on the same document with the same fields
 * supersedes: applying both leaves what applying the newer one alone leaves, since an older version
 * never overwrites a newer one. Ops with other field sets (say, a wallet's balance alone and its
 * balance with its earnings) are all kept. Everything else passes through in order.
 */
export function collapseNewer(ops: WriteOp[]): WriteOp[] {
  const newest = new Map<string, number>();
  // Field names in insertion order: one producer builds them in one order; a different order only
  // means two ops are both kept.
  const keyOf = (op: Extract<WriteOp, { kind: 'setIfNewer' }>): string => `${op.collection}\u0000${op.id}\u0000${Object.keys(op.set).join(',')}`;
  for (const op of ops) {
    if (op.kind !== 'setIfNewer') continue;
    const key = keyOf(op);
    if ((newest.get(key) ?? Number.NEGATIVE_INFINITY) < op.version) newest.set(key, op.version);
  }
  if (newest.size === ops.filter((op) => op.kind === 'setIfNewer').length) return ops;
  const out: WriteOp[] = [];
  for (const op of ops) {
    if (op.kind !== 'setIfNewer') {
      out.push(op);
      continue;
    }
    const key = keyOf(op);
    if (newest.get(key) !== op.version) continue;
    newest.delete(key); // one op per key, even if two carry the same version
    out.push(op);
  }
  return out;
}
