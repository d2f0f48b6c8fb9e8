/**
 * Lua shared by the money scripts, spliced into their source. `now`: Redis server time in ms.
 * `bump(key)`: raises a wallet hash's version `v` to max(v + 1, now), so versions keep growing
 * across a Redis reload (MongoDB keeps the highest one it saw), and returns it.
 */
export const NOW_AND_BUMP = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function bump(key)
  local v = tonumber(redis.call('HGET', key, 'v') or '0')
  local nv = math.max(v + 1, now)
  redis.call('HSET', key, 'v', string.format('%d', nv))
  return nv
end`;
