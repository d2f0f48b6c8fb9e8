import type { Redis } from 'ioredis';
import { LuaScript } from '../../rooms/lua.js';
import type { NotificationRecord } from './model.js';
import type { NotificationState } from './state.js';

/*
 * Keys per user (hash tag {userId} keeps them in one slot):
 *   lg:notif:{u}:unread   hash id -> record JSON (unread notifications)
 *   lg:notif:{u}:order    zset id scored by expiresAt (to drop expired ones)
 *   lg:notif:{u}:key:<k>  dedupe marker for notify(key)
 */

const ADD = new LuaScript(
  'notif_add',
  `-- Adds an unread notification once per dedupe key, dropping expired ones.
-- KEYS[1] unread hash, KEYS[2] order zset, KEYS[3] dedupe key ('' = none)
-- ARGV[1] id, ARGV[2] record JSON, ARGV[3] expiresAt ms, ARGV[4] now ms, ARGV[5] dedupe TTL ms
-- Returns {added 0|1, unread count}
if KEYS[3] ~= '' then
  if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[5]) then return {0, redis.call('HLEN', KEYS[1])} end
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
if #expired > 0 then
  redis.call('HDEL', KEYS[1], unpack(expired))
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return {1, redis.call('HLEN', KEYS[1])}`,
);

const TAKE = new LuaScript(
  'notif_take',
  `-- Removes one notification from the unread set.
-- KEYS[1] unread hash, KEYS[2] order zset
-- ARGV[1] id
-- Returns {record JSON or '', unread count}
local record = redis.call('HGET', KEYS[1], ARGV[1])
if record then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return {record or '', redis.call('HLEN', KEYS[1])}`,
);

const TAKE_ALL = new LuaScript(
  'notif_take_all',
  `-- Removes and returns every unread notification.
-- KEYS[1] unread hash, KEYS[2] order zset
-- Returns {record JSON, ...}
local records = redis.call('HVALS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
return records`,
);

export class RedisNotificationState implements NotificationState {
  constructor(
    private readonly redis: Redis,
    private readonly dedupeTtlMs = 7 * 86_400_000,
  ) {}

  private keys = (userId: string): [string, string] => [`lg:notif:{${userId}}:unread`, `lg:notif:{${userId}}:order`];

  async add(record: NotificationRecord, dedupeKey: string | undefined): Promise<{ added: boolean; unread: number }> {
    const [unread, order] = this.keys(record.userId);
    const dedupe = dedupeKey ? `lg:notif:{${record.userId}}:key:${dedupeKey}` : '';
    const [added, count] = (await ADD.run(
      this.redis,
      [unread, order, dedupe],
      [record.id, JSON.stringify(record), record.expiresAt, Date.now(), this.dedupeTtlMs],
    )) as [number, number];
    return { added: added === 1, unread: count };
  }

  async take(userId: string, id: string): Promise<{ record: NotificationRecord | undefined; unread: number }> {
    const [raw, count] = (await TAKE.run(this.redis, this.keys(userId), [id])) as [string, number];
    return { record: raw ? (JSON.parse(raw) as NotificationRecord) : undefined, unread: count };
  }

  async takeAll(userId: string): Promise<NotificationRecord[]> {
    const raws = (await TAKE_ALL.run(this.redis, this.keys(userId), [])) as string[];
    return raws.map((r) => JSON.parse(r) as NotificationRecord);
  }

  async unreadIds(userId: string): Promise<Set<string>> {
    return new Set(await this.redis.hkeys(this.keys(userId)[0]));
  }

  async unreadCount(userId: string): Promise<number> {
    const [unread, order] = this.keys(userId);
    // Expired entries are dropped on the next add; count only live ones.
    const [total, expired] = await Promise.all([this.redis.hlen(unread), this.redis.zcount(order, '-inf', Date.now())]);
    return Math.max(0, total - expired);
  }
}
