import type { Redis } from 'ioredis';
import { LuaScript } from '../../rooms/lua.js';
import { roomKey } from '../../rooms/room-keys.js';
import type { JoinTally, NotableJoiner, Take } from './join-tally.js';

const TALLY_TTL_SEC = 3600;

const keys = (room: string): string[] => [roomKey(room, 'joins'), roomKey(room, 'joins-notable'), roomKey(room, 'joins-lease')];

/*
 * Adds one node's joins and leaves to a room's tally.
 * KEYS[1] tally hash {j, l}  KEYS[2] notable joiners (list of JSON)  KEYS[3] summary lease (unused here)
 * ARGV[1] joined  ARGV[2] left  ARGV[3] notable JSON or ''  ARGV[4] most notable kept  ARGV[5] expiry (s)
 */
const ADD = new LuaScript(
  'room-joins-add',
  `
redis.call('HINCRBY', KEYS[1], 'j', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'l', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[5])
if ARGV[3] ~= '' and redis.call('LLEN', KEYS[2]) < tonumber(ARGV[4]) then
  redis.call('RPUSH', KEYS[2], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
return 0
`,
  3,
);

/*
 * Takes a room's tally, at most once per interval cluster-wide.
 * KEYS[1] tally hash  KEYS[2] notable joiners  KEYS[3] summary lease (PX)
 * ARGV[1] interval (ms)
 * Returns {0}: nothing to summarise; {1, ms}: a summary went out, retry in ms; {2, joined, left, notable...}.
 */
const TAKE = new LuaScript(
  'room-joins-take',
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if not redis.call('SET', KEYS[3], '1', 'PX', ARGV[1], 'NX') then
  local ttl = redis.call('PTTL', KEYS[3])
  if ttl < 1 then ttl = 1 end
  return {1, ttl}
end
local h = redis.call('HMGET', KEYS[1], 'j', 'l')
local out = {2, tonumber(h[1]) or 0, tonumber(h[2]) or 0}
for _, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do out[#out + 1] = v end
redis.call('DEL', KEYS[1], KEYS[2])
return out
`,
  3,
);

export class RedisJoinTally implements JoinTally {
  constructor(private readonly redis: Redis) {}

  async add(room: string, change: { joined: number; left: number; notable?: NotableJoiner }, notableMax: number): Promise<void> {
    await ADD.run(this.redis, keys(room), [change.joined, change.left, change.notable ? JSON.stringify(change.notable) : '', notableMax, TALLY_TTL_SEC]);
  }

  async take(room: string, intervalMs: number): Promise<Take> {
    const r = (await TAKE.run(this.redis, keys(room), [intervalMs])) as Array<number | string>;
    if (Number(r[0]) === 0) return { kind: 'empty' };
    if (Number(r[0]) === 1) return { kind: 'later', waitMs: Number(r[1]) };
    return {
      kind: 'summary',
      summary: { joined: Number(r[1]), left: Number(r[2]), notable: r.slice(3).map((json) => JSON.parse(String(json)) as NotableJoiner) },
    };
  }
}
