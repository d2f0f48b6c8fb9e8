import type { Redis } from 'ioredis';
import { LuaScript } from '../rooms/lua.js';
import type { Batch, DocumentLocks, QueueEngine, QueueStats } from './stream-queue.js';
import { decodeOps, encodeOps } from './stream-queue.js';
import type { QueueGuard, WriteOp } from './write-queue.js';

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

const GUARDED_APPEND = new LuaScript(
  'writer_append_guarded',
  `-- Appends an entry only while every guard member is in the guard set, and removes them with it.
-- KEYS[1] stream   KEYS[2] guard zset
-- ARGV[1] encoded ops   ARGV[2..n] guard members
-- Returns 1 when appended, 0 when a member was missing (nothing appended, nothing removed).
for i = 2, #ARGV do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then return 0 end
end
redis.call('XADD', KEYS[1], '*', 'd', ARGV[1])
redis.call('ZREM', KEYS[2], unpack(ARGV, 2))
return 1`,
  2,
);

/** [id, [field, value, ...]] as XREADGROUP / XAUTOCLAIM return it; fields are null for a deleted entry. */
type RawEntry = [string, string[] | null];

export interface RedisQueueOptions {
  /** Stream key; `<stream>:dead` holds entries that can never be applied. */
  stream: string;
  group: string;
  /** This writer's consumer name (the NODE_ID: a restarted node finds its own pending entries). */
  consumer: string;
  /** A pending entry idle this long belongs to a crashed writer and may be claimed. */
  claimIdleMs: number;
}

/**
 * Durable engine: one Redis Stream shared by every node, one consumer group of writers.
 * XADD appends (durable once acknowledged by Redis, as durable as Redis' persistence settings);
 * XREADGROUP hands each entry to one writer; XACK + XDEL remove it once applied. An entry read
 * but never acknowledged stays in the group's pending list: its writer re-reads it after a
 * restart (id 0), and after `claimIdleMs` any writer takes it over with XAUTOCLAIM.
 * `reader` must be a dedicated connection: XREADGROUP BLOCK holds it.
 */
export class RedisStreamQueue implements QueueEngine {
  readonly name = 'redis' as const;
  private ownPendingDone = false;
  private ownCursor = '0';
  private claimCursor = '0-0';
  private groupReady: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly reader: Redis,
    private readonly opts: RedisQueueOptions,
  ) {}

  async append(ops: WriteOp[]): Promise<void> {
    if (ops.length === 0) return;
    await this.redis.xadd(this.opts.stream, '*', 'd', encodeOps(ops));
  }

  async appendGuarded(ops: WriteOp[], guard: QueueGuard): Promise<boolean> {
    if (guard.members.length === 0) throw new Error('guarded append without guard members');
    const done = await GUARDED_APPEND.run(this.redis, [this.opts.stream, guard.set], [encodeOps(ops), ...guard.members]);
    return Number(done) === 1;
  }

  async reclaim(max: number): Promise<Batch> {
    return this.regroupOnLoss(() => this.reclaimFromGroup(max));
  }

  private async reclaimFromGroup(max: number): Promise<Batch> {
    await this.ensureGroup();
    const { stream, group, consumer, claimIdleMs } = this.opts;
    if (!this.ownPendingDone) {
      const reply = (await this.reader.xreadgroup('GROUP', group, consumer, 'COUNT', max, 'STREAMS', stream, this.ownCursor)) as Array<
        [string, RawEntry[]]
      > | null;
      const raw = reply?.[0]?.[1] ?? [];
      if (raw.length === 0) this.ownPendingDone = true;
      else {
        this.ownCursor = raw[raw.length - 1]![0];
        return toBatch(raw);
      }
    }
    const reply = (await this.redis.xautoclaim(stream, group, consumer, claimIdleMs, this.claimCursor, 'COUNT', max)) as [string, RawEntry[], string[]?];
    this.claimCursor = reply[0];
    return toBatch(reply[1]);
  }

  async next(max: number, blockMs: number): Promise<Batch> {
    return this.regroupOnLoss(() => this.nextFromGroup(max, blockMs));
  }

  private async nextFromGroup(max: number, blockMs: number): Promise<Batch> {
    await this.ensureGroup();
    const { stream, group, consumer } = this.opts;
    const args: Array<string | number> = ['GROUP', group, consumer, 'COUNT', max];
    if (blockMs > 0) args.push('BLOCK', blockMs);
    const reply = (await this.reader.call('XREADGROUP', ...args, 'STREAMS', stream, '>')) as Array<[string, RawEntry[]]> | null;
    return toBatch(reply?.[0]?.[1] ?? []);
  }

  async keepClaimed(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const { stream, group, consumer } = this.opts;
    try {
      return (await this.redis.xclaim(stream, group, consumer, 0, ...ids, 'JUSTID')) as string[];
    } catch (err) {
      // The stream or its group is gone: this Redis lost its data, and the entries with it.
      if (err instanceof Error && err.message.includes('NOGROUP')) return [];
      throw err;
    }
  }

  async lockDocuments(keys: string[], ttlMs: number): Promise<DocumentLocks> {
    const token = `${this.opts.consumer}:${Math.random().toString(36).slice(2)}`;
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

  private lockKey = (key: string): string => `${this.opts.stream}:lock:${key}`;

  async ack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { stream, group } = this.opts;
    await this.redis
      .multi()
      .xack(stream, group, ...ids)
      .xdel(stream, ...ids)
      .exec();
  }

  async deadLetter(items: Array<{ id: string; raw: string; reason: string }>): Promise<void> {
    if (items.length === 0) return;
    const tx = this.redis.multi();
    for (const item of items) tx.xadd(`${this.opts.stream}:dead`, '*', 'entry', item.id, 'reason', item.reason, 'd', item.raw);
    await tx.exec();
    await this.ack([...new Set(items.map((i) => i.id))]);
  }

  async stats(): Promise<QueueStats> {
    const [len, first] = await Promise.all([this.redis.xlen(this.opts.stream), this.redis.xrange(this.opts.stream, '-', '+', 'COUNT', 1)]);
    const oldest = first[0]?.[0];
    return { length: len, oldestAgeMs: oldest ? Math.max(0, Date.now() - Number(oldest.split('-')[0])) : 0 };
  }

  async close(): Promise<void> {
    this.reader.disconnect();
  }

  /**
   * A Redis that lost its data (restart without persistence) has no group any more: NOGROUP.
   * Forget the cached group so the next call creates it again, and start over from the stream head.
   */
  private async regroupOnLoss(read: () => Promise<Batch>): Promise<Batch> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof Error && err.message.includes('NOGROUP')) {
        this.groupReady = undefined;
        this.ownPendingDone = false;
        this.ownCursor = '0';
        this.claimCursor = '0-0';
      }
      throw err;
    }
  }

  private ensureGroup(): Promise<void> {
    this.groupReady ??= this.redis.xgroup('CREATE', this.opts.stream, this.opts.group, '0', 'MKSTREAM').then(
      () => undefined,
      (err: Error) => {
        if (err.message.includes('BUSYGROUP')) return;
        this.groupReady = undefined;
        throw err;
      },
    );
    return this.groupReady;
  }
}

function toBatch(raw: RawEntry[]): Batch {
  const batch: Batch = { entries: [], bad: [] };
  for (const [id, fields] of raw) {
    if (!fields) continue; // deleted while pending: already applied
    const payload = fields[fields.indexOf('d') + 1] ?? '';
    try {
      batch.entries.push({ id, enqueuedAt: Number(id.split('-')[0]), ops: decodeOps(payload) });
    } catch (err) {
      batch.bad.push({ id, raw: payload, reason: (err as Error).message });
    }
  }
  return batch;
}
