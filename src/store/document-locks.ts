/**
 * Document locks for the writers of one write queue: a writer excludes the others from the
 * documents of its batch until it releases them (or `ttlMs` passes without an `extend`). Taken in
 * the given (sorted) order, so writers never deadlock. Needed because not every server applies a
 * conditional update atomically under concurrency: FerretDB 1.x loses updates when two writers race
 * on one document (measured: 16 of 30 rounds ended on an older version). MongoDB does not need it;
 * it costs one Redis round trip per contended document (one for all of them when none is contended).
 */
import type { Redis } from 'ioredis';
import { LuaScript } from '../rooms/lua.js';

/** Locks one writer holds on documents. */
export interface DocumentLocks {
  /** Gives every lock a full `ttlMs` again; throws if one was lost (expired and taken by another writer). */
  extend(): Promise<void>;
  release(): Promise<void>;
}

export interface DocumentLocker {
  lock(keys: string[], ttlMs: number): Promise<DocumentLocks>;
}

/** One writer per process (no Redis): nothing to exclude. */
export const processLocks: DocumentLocker = { lock: async () => ({ extend: async () => {}, release: async () => {} }) };

const RELEASE = new LuaScript(
  'writer_unlock',
  `-- Releases document locks held by one writer (a lock that expired and was taken by another stays).
-- KEYS[1..n] lock keys
-- ARGV[1] the holder's token
-- Returns the number released.
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('DEL', key) end
end
return n`,
);

const TAKE = new LuaScript(
  'writer_lock',
  `-- Takes document locks in order, stopping at the first one another writer holds.
-- KEYS[1..n] lock keys (sorted)
-- ARGV[1] the holder's token   ARGV[2] lock TTL ms
-- Returns how many of KEYS are now held (n when all).
for i, key in ipairs(KEYS) do
  if not redis.call('SET', key, ARGV[1], 'PX', ARGV[2], 'NX') then return i - 1 end
end
return #KEYS`,
);

const EXTEND = new LuaScript(
  'writer_lock_extend',
  `-- Gives one writer's locks a full TTL again.
-- KEYS[1..n] lock keys   ARGV[1] the holder's token   ARGV[2] lock TTL ms
-- Returns how many were still held by that token.
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    n = n + 1
  end
end
return n`,
);

/** Locks in Redis, under `<prefix>:lock:<document key>` (the prefix is the write queue's stream). */
export class RedisDocumentLocks implements DocumentLocker {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Names the holder in the lock values (the NODE_ID). */
    private readonly holder: string,
  ) {}

  async lock(keys: string[], ttlMs: number): Promise<DocumentLocks> {
    const token = `${this.holder}:${Math.random().toString(36).slice(2)}`;
    const held: string[] = [];
    const lockKeys = (): string[] => held.map((k) => this.lockKey(k));
    const release = async (): Promise<void> => {
      if (held.length > 0) await RELEASE.run(this.redis, lockKeys(), [token]);
    };
    const deadline = Date.now() + ttlMs;
    try {
      // One round trip takes every free lock; a contended one is waited for, then the rest follow.
      for (let wait = 2; held.length < keys.length; wait = Math.min(wait * 2, 50)) {
        const rest = keys.slice(held.length);
        const taken = Number(
          await TAKE.run(
            this.redis,
            rest.map((k) => this.lockKey(k)),
            [token, ttlMs],
          ),
        );
        held.push(...rest.slice(0, taken));
        if (held.length === keys.length) break;
        if (Date.now() > deadline) throw new Error(`document ${keys[held.length]} stayed locked by another writer`);
        await new Promise((r) => setTimeout(r, wait));
      }
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }
    return {
      release,
      extend: async () => {
        if (held.length === 0) return;
        const still = Number(await EXTEND.run(this.redis, lockKeys(), [token, ttlMs]));
        if (still < held.length) throw new Error(`${held.length - still} document locks expired while this writer held them`);
      },
    };
  }

  private lockKey = (key: string): string => `${this.prefix}:lock:${key}`;
}
