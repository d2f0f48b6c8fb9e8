import type { Redis } from 'ioredis';
import { LuaScript } from './lua.js';
import { roomKey } from './room-keys.js';
import type { Offer, RoomStateStore, StateEntry, StateFrame, VersionedFrame } from './room-state.js';

/** A room's keyed state is kept this long after its last change. */
const STATE_TTL_SEC = 86_400;

const stateKey = (room: string): string => roomKey(room, 'state');
const leaseKey = (room: string, key: string): string => roomKey(room, `state-lease:${key}`);

/*
 * Records a key's latest value and claims its publish slot.
 * KEYS[1] state hash (v:<key> latest frame JSON, n:<key> its version, p:<key> last published frame JSON)
 * KEYS[2] the key's lease
 * ARGV[1] key  ARGV[2] frame JSON  ARGV[3] interval (ms)  ARGV[4] expiry of the hash (s)  ARGV[5] version (read time)
 * Returns 0: publish now; -1: this value was the last published; -2: a later read is recorded (nothing
 * changes); n > 0: another frame went out, retry in n ms.
 */
const OFFER = new LuaScript(
  'room-state-offer',
  `
local seen = tonumber(redis.call('HGET', KEYS[1], 'n:' .. ARGV[1]) or '-1')
if seen > tonumber(ARGV[5]) then return -2 end
redis.call('HSET', KEYS[1], 'v:' .. ARGV[1], ARGV[2], 'n:' .. ARGV[1], ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[4])
if redis.call('HGET', KEYS[1], 'p:' .. ARGV[1]) == ARGV[2] then return -1 end
if not redis.call('SET', KEYS[2], '1', 'PX', ARGV[3], 'NX') then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl < 1 then ttl = 1 end
  return ttl
end
redis.call('HSET', KEYS[1], 'p:' .. ARGV[1], ARGV[2])
return 0
`,
  2,
);

export class RedisRoomStateStore implements RoomStateStore {
  constructor(private readonly redis: Redis) {}

  async offer(room: string, key: string, frame: VersionedFrame, intervalMs: number): Promise<Offer> {
    const json = JSON.stringify({ event: frame.event, data: frame.data });
    const r = Number(await OFFER.run(this.redis, [stateKey(room), leaseKey(room, key)], [key, json, intervalMs, STATE_TTL_SEC, frame.version]));
    return r === 0 ? { kind: 'publish' } : r === -1 ? { kind: 'same' } : r === -2 ? { kind: 'stale' } : { kind: 'later', waitMs: r };
  }

  async snapshot(room: string): Promise<StateEntry[]> {
    const hash = await this.redis.hgetall(stateKey(room));
    const out: StateEntry[] = [];
    for (const [field, json] of Object.entries(hash)) {
      if (!field.startsWith('v:')) continue;
      const frame = JSON.parse(json) as StateFrame;
      out.push({ key: field.slice(2), event: frame.event, data: frame.data });
    }
    return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  }

  async drop(room: string, key: string): Promise<void> {
    await this.redis.hdel(stateKey(room), `v:${key}`, `n:${key}`, `p:${key}`);
  }

  async unpublished(room: string, key: string): Promise<void> {
    await this.redis.hdel(stateKey(room), `p:${key}`);
  }
}
