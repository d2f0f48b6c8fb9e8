import { describe, expect, it } from 'vitest';
import { jumpHash, shardOf, stableHash } from '../../src/rooms/sharding.js';

describe('room sharding', () => {
  it('hashes stably (FNV-1a 64 reference values)', () => {
    expect(stableHash('')).toBe(0xcbf29ce484222325n);
    expect(stableHash('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(stableHash('foobar')).toBe(0x85944171f73967e8n);
  });

  it("matches the paper's C reference implementation", () => {
    // (key, buckets) -> bucket, printed by JumpConsistentHash from Lamport & Veach compiled with gcc.
    const vectors: Array<[bigint, number, number]> = [
      [1n, 2, 0],
      [1n, 10, 6],
      [1n, 100, 55],
      [1n, 1000, 549],
      [42n, 2, 1],
      [42n, 10, 2],
      [42n, 100, 43],
      [42n, 1000, 571],
      [0xdeadbeefn, 2, 1],
      [0xdeadbeefn, 10, 5],
      [0xdeadbeefn, 100, 87],
      [0xdeadbeefn, 1000, 285],
      [0xffffffffffffffffn, 2, 1],
      [0xffffffffffffffffn, 10, 9],
      [0xffffffffffffffffn, 100, 92],
      [0xffffffffffffffffn, 1000, 313],
      [123456789012345n, 2, 0],
      [123456789012345n, 10, 7],
      [123456789012345n, 100, 76],
      [123456789012345n, 1000, 76],
    ];
    for (const [key, buckets, expected] of vectors) expect(jumpHash(key, buckets), `${key} in ${buckets}`).toBe(expected);
    expect(jumpHash(0n, 1)).toBe(0);
    expect(() => jumpHash(1n, 0)).toThrow(RangeError);
  });

  it('spreads rooms evenly and moves only ~1/(n+1) of them when a shard is added', () => {
    const rooms = Array.from({ length: 20_000 }, (_, i) => `live:stream-${i}`);
    const counts = [0, 0, 0, 0];
    let moved = 0;
    for (const room of rooms) {
      const before = shardOf(room, 4);
      counts[before]!++;
      const after = shardOf(room, 5);
      if (after !== before) {
        moved++;
        expect(after).toBe(4); // a room only ever moves to the new shard
      }
    }
    for (const c of counts) expect(Math.abs(c - 5000)).toBeLessThan(500);
    expect(moved / rooms.length).toBeGreaterThan(0.15);
    expect(moved / rooms.length).toBeLessThan(0.25);
  });

  it('puts everything on shard 0 with one shard', () => {
    expect(shardOf('anything', 1)).toBe(0);
  });
});
