import { describe, expect, it } from 'vitest';
import { jumpHash, shardOf, stableHash } from '../../src/rooms/sharding.js';

describe('room sharding', () => {
  it('hashes stably (FNV-1a 64 reference values)', () => {
    expect(stableHash('')).toBe(0xcbf29ce484222325n);
    expect(stableHash('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(stableHash('foobar')).toBe(0x85944171f73967e8n);
  });

  it('matches the jump hash reference implementation', () => {
    // Values from the paper's C++ reference (key, buckets) -> bucket.
    expect(jumpHash(0n, 1)).toBe(0);
    expect(jumpHash(1n, 2)).toBe(0);
    expect(jumpHash(0xdeadbeefn, 1)).toBe(0);
    for (let key = 0n; key < 200n; key++) {
      const b = jumpHash(key, 10);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(10);
    }
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
