/**
 * Revocations in Redis: the hash `livegate:revocations` (user id -> notBefore, seconds) and the
 * sorted set `livegate:revocations:until` (user id scored by when the revocation lapses, ms).
 * Lapsed entries are pruned by every call; both keys expire with the last entry, so a revocation
 * lives exactly its TTL (the longest token lifetime) and an idle cluster keeps nothing.
 */
import type { Redis } from 'ioredis';
import type { Revocation } from '../../gateway/auth/revocations.js';
import type { RevocationStore } from './revocations.js';

export const REVOCATIONS_KEY = 'livegate:revocations';
export const REVOCATIONS_UNTIL_KEY = 'livegate:revocations:until';

const PRUNE = `
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, user in ipairs(lapsed) do redis.call('HDEL', KEYS[1], user) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
`;

/** KEYS: hash, zset. ARGV: now (ms), userId, notBefore (s), until (ms). Returns {notBefore, until} merged. */
const SAVE = `${PRUNE}
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
local notBefore = math.max(current, tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], ARGV[2], notBefore)
redis.call('ZADD', KEYS[2], 'GT', ARGV[4], ARGV[2])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
redis.call('PEXPIREAT', KEYS[2], last[2])
return {notBefore, tonumber(redis.call('ZSCORE', KEYS[2], ARGV[2]))}
`;

/** KEYS: hash, zset. ARGV: now (ms). Returns a flat list userId, notBefore, until, ... */
const LOAD = `${PRUNE}
local out = {}
local entries = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #entries, 2 do
  local notBefore = redis.call('HGET', KEYS[1], entries[i])
  if notBefore then
    out[#out + 1] = entries[i]
    out[#out + 1] = notBefore
    out[#out + 1] = entries[i + 1]
  end
end
return out
`;

export class RedisRevocationStore implements RevocationStore {
  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {}

  async save(revocation: Revocation): Promise<Revocation> {
    const [notBefore, until] = (await this.redis.eval(
      SAVE,
      2,
      REVOCATIONS_KEY,
      REVOCATIONS_UNTIL_KEY,
      this.now(),
      revocation.userId,
      revocation.notBefore,
      revocation.until,
    )) as [number, number];
    return { userId: revocation.userId, notBefore: Number(notBefore), until: Number(until) };
  }

  async loadAll(): Promise<Revocation[]> {
    const flat = (await this.redis.eval(LOAD, 2, REVOCATIONS_KEY, REVOCATIONS_UNTIL_KEY, this.now())) as string[];
    const out: Revocation[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) out.push({ userId: flat[i]!, notBefore: Number(flat[i + 1]), until: Number(flat[i + 2]) });
    return out;
  }
}
