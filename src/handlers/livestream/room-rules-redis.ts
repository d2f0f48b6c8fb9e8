import type { Redis } from 'ioredis';
import { LuaScript, pairs } from '../../rooms/lua.js';
import { roomKey } from '../../rooms/room-keys.js';
import { versionOf } from '../../rooms/room-state.js';
import { DEFAULT_SETTINGS, NOTABLE_JOINS, type ChatVerdict, type NotableJoins, type RoomRules, type StreamSettings } from './room-rules.js';

/** Settings outlive the stream by a day (they expire with it). */
const SETTINGS_TTL_SEC = 86_400;

const keys = {
  settings: (room: string) => roomKey(room, 'settings'),
  window: (room: string) => roomKey(room, 'chat-window'),
  senders: (room: string) => roomKey(room, 'chat-senders'),
  cooldown: (room: string, userId: string) => roomKey(room, `chat-cooldown:${userId}`),
};

/*
 * Admits one chat line (docs: room-rules.ts). The window follows the Redis clock (TIME), one clock for all nodes.
 * KEYS[1] settings hash {slowModeMs, notableJoins}  KEYS[2] window hash {w: window index, n: lines broadcast,
 *   ps: senders of the previous window}
 * KEYS[3] senders hash (userId -> lines broadcast in this window)  KEYS[4] the sender's cooldown (PX)
 * ARGV[1] userId  ARGV[2] budget  ARGV[3] window (ms)  ARGV[4] '1' exempt
 * Returns {'broadcast', 0} | {'sampled', 0} | {'slow', ms to wait}.
 */
const ADMIT = new LuaScript(
  'room-chat-admit',
  `
local exempt = ARGV[4] == '1'
if not exempt then
  local cool = tonumber(redis.call('HGET', KEYS[1], 'slowModeMs') or '0') or 0
  if cool > 0 and not redis.call('SET', KEYS[4], '1', 'PX', cool, 'NX') then
    local ttl = redis.call('PTTL', KEYS[4])
    if ttl < 1 then ttl = 1 end
    return {'slow', ttl}
  end
end
local t = redis.call('TIME')
local windowMs = tonumber(ARGV[3])
local win = math.floor((tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) / windowMs)
local h = redis.call('HMGET', KEYS[2], 'w', 'n', 'ps')
local n, ps
if tonumber(h[1]) == win then
  n, ps = tonumber(h[2]), tonumber(h[3])
else
  if tonumber(h[1]) == win - 1 then ps = redis.call('HLEN', KEYS[3]) else ps = 0 end
  redis.call('DEL', KEYS[3])
  n = 0
end
redis.call('HSETNX', KEYS[3], ARGV[1], 0)
local budget = tonumber(ARGV[2])
local admit = exempt
if not exempt and n < budget then
  local senders = math.max(redis.call('HLEN', KEYS[3]), ps, 2)
  local share = math.max(1, math.floor(budget / senders))
  admit = tonumber(redis.call('HGET', KEYS[3], ARGV[1])) < share
end
if admit then
  n = n + 1
  redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
end
redis.call('HSET', KEYS[2], 'w', win, 'n', n, 'ps', ps)
redis.call('PEXPIRE', KEYS[2], windowMs * 3)
redis.call('PEXPIRE', KEYS[3], windowMs * 3)
if admit then return {'broadcast', 0} end
return {'sampled', 0}
`,
  4,
);

const parseSettings = (raw: Record<string, string>): StreamSettings => ({
  slowModeMs: Number(raw['slowModeMs'] ?? DEFAULT_SETTINGS.slowModeMs),
  notableJoins: (NOTABLE_JOINS as readonly string[]).includes(raw['notableJoins'] ?? '')
    ? (raw['notableJoins'] as NotableJoins)
    : DEFAULT_SETTINGS.notableJoins,
});

export class RedisRoomRules implements RoomRules {
  constructor(private readonly redis: Redis) {}

  async settings(room: string): Promise<StreamSettings> {
    return parseSettings(await this.redis.hgetall(keys.settings(room)));
  }

  async readSettings(room: string): Promise<{ settings: StreamSettings; version: number }> {
    const [[, hash], [, time]] = ((await this.redis.multi().hgetall(keys.settings(room)).time().exec()) ?? []) as [[unknown, unknown], [unknown, unknown]];
    return { settings: parseSettings(pairsOf(hash)), version: versionOf(time) };
  }

  async configure(room: string, patch: Partial<StreamSettings>): Promise<StreamSettings> {
    const fields = Object.entries(patch).filter(([, v]) => v !== undefined) as Array<[string, string | number]>;
    const multi = this.redis.multi();
    if (fields.length > 0) multi.hset(keys.settings(room), Object.fromEntries(fields));
    multi.expire(keys.settings(room), SETTINGS_TTL_SEC).hgetall(keys.settings(room));
    const replies = (await multi.exec()) ?? [];
    return parseSettings(pairsOf(replies.at(-1)?.[1]));
  }

  async admitChat(room: string, userId: string, budget: { lines: number; windowMs: number }, exempt: boolean): Promise<ChatVerdict> {
    const [kind, wait] = (await ADMIT.run(
      this.redis,
      [keys.settings(room), keys.window(room), keys.senders(room), keys.cooldown(room, userId)],
      [userId, budget.lines, budget.windowMs, exempt ? '1' : '0'],
    )) as [string, number];
    if (kind === 'slow') return { kind: 'slow', retryAfterMs: Number(wait) };
    return kind === 'broadcast' ? { kind: 'broadcast' } : { kind: 'sampled' };
  }
}

/** HGETALL inside MULTI replies with a record (ioredis transforms it) or, raw, a flat array. */
function pairsOf(reply: unknown): Record<string, string> {
  if (Array.isArray(reply)) return pairs(reply);
  return (reply ?? {}) as Record<string, string>;
}
