/**
 * Room -> Redis shard. A stable 64-bit hash of the room id (FNV-1a, identical on every node and
 * every version) picks a shard by jump consistent hashing (Lamport & Veach, 2014).
 *
 * Why jump hashing: it needs no ring or table, spreads keys evenly, and when a shard is added
 * (n -> n+1) only ~1/(n+1) of the rooms move, each to the new shard; a modulo would move
 * almost all of them. Every node must list the shards in the same order.
 */

const MASK64 = (1n << 64n) - 1n;
const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

/** FNV-1a over the UTF-8 bytes of `text`, as an unsigned 64-bit integer. */
export function stableHash(text: string): bigint {
  let hash = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= BigInt(byte);
    hash = (hash * FNV_PRIME) & MASK64;
  }
  return hash;
}

/** Jump consistent hash: a bucket in [0, buckets) for a 64-bit key. */
export function jumpHash(key: bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`buckets must be a positive integer, got ${buckets}`);
  let k = key & MASK64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & MASK64;
    j = Math.floor((b + 1) * (2 ** 31 / Number((k >> 33n) + 1n)));
  }
  return b;
}

/** The shard index of a room among `shards` shards. */
export function shardOf(room: string, shards: number): number {
  return shards === 1 ? 0 : jumpHash(stableHash(room), shards);
}
