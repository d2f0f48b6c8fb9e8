import type { Redis } from 'ioredis';
import { LuaScript } from '../rooms/lua.js';
import type { Batch, BadEntry, QueueCodec, QueueStats, StreamQueue, StreamQueueOptions } from './stream-queue.js';
import type { QueueGuard } from './write-queue.js';

const APPEND_BOUNDED = new LuaScript(
  'stream_queue_append',
  `-- Appends one entry unless the stream already holds the most it may.
-- KEYS[1] the stream   ARGV[1] most entries   ARGV[2] payload field   ARGV[3] payload
-- Returns the entry id, or false when full.
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return false end
return redis.call('XADD', KEYS[1], '*', ARGV[2], ARGV[3])`,
);

const GUARDED_APPEND = new LuaScript(
  'writer_append_guarded',
  `-- Appends an entry only while every guard member is in the guard set, and removes them with it.
-- KEYS[1] stream   KEYS[2] guard zset
-- ARGV[1] payload field   ARGV[2] payload   ARGV[3..n] guard members
-- Returns 1 when appended, 0 when a member was missing (nothing appended, nothing removed).
for i = 3, #ARGV do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then return 0 end
end
redis.call('XADD', KEYS[1], '*', ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[2], unpack(ARGV, 3))
return 1`,
  2,
);

/** [id, [field, value, ...]] as XREADGROUP / XAUTOCLAIM return it; fields are null for a deleted entry. */
type RawEntry = [string, string[] | null];

export interface RedisQueueOptions extends StreamQueueOptions {
  /** Stream key; `<stream>:dead` holds entries that can never be processed. */
  stream: string;
  group: string;
  /** This consumer's name (the NODE_ID: a restarted node finds its own pending entries). */
  consumer: string;
  /** The entry field holding the payload (`d` for writes, `e` for webhooks: the layouts already in Redis). */
  field?: string;
}

/**
 * Durable engine: one Redis Stream shared by every node, one consumer group.
 * XADD appends (durable once acknowledged by Redis, as durable as Redis' persistence settings);
 * XREADGROUP hands each entry to one consumer; XACK + XDEL remove it once done, so XLEN is the
 * number of unacknowledged entries. An entry read but never acknowledged stays in the group's
 * pending list: its consumer re-reads it after a restart (id 0), and after `claimIdleMs` any
 * consumer takes it over with XAUTOCLAIM. `reader` must be a dedicated connection: XREADGROUP
 * BLOCK holds it.
 */
export class RedisStreamQueue<T> implements StreamQueue<T> {
  readonly name = 'redis' as const;
  private readonly field: string;
  private ownPendingDone = false;
  private ownCursor = '0';
  private claimCursor = '0-0';
  private groupReady: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly reader: Redis,
    private readonly codec: QueueCodec<T>,
    private readonly opts: RedisQueueOptions,
  ) {
    this.field = opts.field ?? 'd';
  }

  async append(value: T): Promise<boolean> {
    const payload = this.codec.encode(value);
    if (this.opts.maxLength === undefined) {
      await this.redis.xadd(this.opts.stream, '*', this.field, payload);
      return true;
    }
    const id = await APPEND_BOUNDED.run(this.redis, [this.opts.stream], [this.opts.maxLength, this.field, payload]);
    return typeof id === 'string';
  }

  /** Not bounded by `maxLength`: the guard members (money outbox entries) must leave with their entry. */
  async appendGuarded(value: T, guard: QueueGuard): Promise<boolean> {
    if (guard.members.length === 0) throw new Error('guarded append without guard members');
    const done = await GUARDED_APPEND.run(this.redis, [this.opts.stream, guard.set], [this.field, this.codec.encode(value), ...guard.members]);
    return Number(done) === 1;
  }

  async reclaim(max: number): Promise<Batch<T>> {
    return this.regroupOnLoss(() => this.reclaimFromGroup(max));
  }

  private async reclaimFromGroup(max: number): Promise<Batch<T>> {
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
        return { ...this.toBatch(raw), more: true };
      }
    }
    const reply = (await this.redis.xautoclaim(stream, group, consumer, claimIdleMs, this.claimCursor, 'COUNT', max)) as [string, RawEntry[], string[]?];
    this.claimCursor = reply[0];
    return { ...this.toBatch(reply[1]), more: reply[0] !== '0-0' };
  }

  async next(max: number, blockMs: number): Promise<Batch<T>> {
    return this.regroupOnLoss(() => this.nextFromGroup(max, blockMs));
  }

  private async nextFromGroup(max: number, blockMs: number): Promise<Batch<T>> {
    await this.ensureGroup();
    const { stream, group, consumer } = this.opts;
    const args: Array<string | number> = ['GROUP', group, consumer, 'COUNT', max];
    if (blockMs > 0) args.push('BLOCK', blockMs);
    const reply = (await this.reader.call('XREADGROUP', ...args, 'STREAMS', stream, '>')) as Array<[string, RawEntry[]]> | null;
    return this.toBatch(reply?.[0]?.[1] ?? []);
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

  async ack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { stream, group } = this.opts;
    await this.redis
      .multi()
      .xack(stream, group, ...ids)
      .xdel(stream, ...ids)
      .exec();
  }

  async deadLetter(items: BadEntry[]): Promise<void> {
    if (items.length === 0) return;
    const dead = `${this.opts.stream}:dead`;
    const bound = this.opts.deadMaxLength === undefined ? [] : ['MAXLEN', '~', String(this.opts.deadMaxLength)];
    const tx = this.redis.multi();
    for (const item of items) tx.xadd(dead, ...bound, '*', 'entry', item.id, 'reason', item.reason, this.field, item.raw);
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
  private async regroupOnLoss(read: () => Promise<Batch<T>>): Promise<Batch<T>> {
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
    // From 0: entries appended before the group existed are unprocessed ones.
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

  private toBatch(raw: RawEntry[]): Batch<T> {
    const batch: Batch<T> = { entries: [], bad: [] };
    for (const [id, fields] of raw) {
      if (!fields) continue; // deleted while pending: already done
      const at = fields.indexOf(this.field);
      const payload = at >= 0 ? (fields[at + 1] ?? '') : JSON.stringify(fields);
      try {
        if (at < 0) throw new Error(`no "${this.field}" field`);
        batch.entries.push({ id, enqueuedAt: Number(id.split('-')[0]), value: this.codec.decode(payload) });
      } catch (err) {
        batch.bad.push({ id, raw: payload, reason: (err as Error).message });
      }
    }
    return batch;
  }
}
