/** The live-shopping Lua scripts: pins, the price quote of a new order (with its rate limit), and counting paid orders. */
import { LuaScript } from '../../rooms/lua.js';

/** shopping-pin: pins or unpins a product and returns the pinned list with its version. */
export const shoppingPinScript = new LuaScript(
  'shopping-pin',
  `
--[[ shopping-pin
KEYS[1] session  shop:{<livestreamId>}   hash {hostId, startedAt, pinVersion, pinned:<productId> -> JSON {displayOrder, featuredAt, price, name}, orders, revenueCoins}
ARGV[1] hostId  ARGV[2] 'pin' | 'unpin'  ARGV[3] productId  ARGV[4] entry JSON (pin only)
Returns {'ok', pinVersion, field1, json1, ...} | {'no_session'} | {'forbidden'}
]]
local host = redis.call('HGET', KEYS[1], 'hostId')
if not host then return {'no_session'} end
if host ~= ARGV[1] then return {'forbidden'} end
if ARGV[2] == 'pin' then
  redis.call('HSET', KEYS[1], 'pinned:' .. ARGV[3], ARGV[4])
else
  redis.call('HDEL', KEYS[1], 'pinned:' .. ARGV[3])
end
local v = redis.call('HINCRBY', KEYS[1], 'pinVersion', 1)
local out = {'ok', tostring(v)}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 7) == 'pinned:' then
    table.insert(out, string.sub(all[i], 8))
    table.insert(out, all[i + 1])
  end
end
return out
`,
  1,
);

/** shopping-quote: the host and the server-known price of a pinned product for a new order; takes one from the buyer's rate limit. */
export const shoppingQuoteScript = new LuaScript(
  'shopping-quote',
  `
--[[ shopping-quote
KEYS[1] session  shop:{<livestreamId>}                 hash (see shopping-pin)
KEYS[2] rate     shop:{<livestreamId>}:rate:<buyerId>  set of orderIds placed in this window, PX = window
ARGV[1] productId  ARGV[2] orders allowed per window  ARGV[3] window ms  ARGV[4] orderId
A retry of an order already in the window (same orderId) does not count again.
Returns {'ok', hostId, entry JSON} | {'no_session'} | {'not_pinned'} | {'rate_limited', ms until the window ends}
]]
local host = redis.call('HGET', KEYS[1], 'hostId')
if not host then return {'no_session'} end
local entry = redis.call('HGET', KEYS[1], 'pinned:' .. ARGV[1])
if not entry then return {'not_pinned'} end
local added = redis.call('SADD', KEYS[2], ARGV[4])
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3])) end
if redis.call('SCARD', KEYS[2]) > tonumber(ARGV[2]) then
  if added == 1 then redis.call('SREM', KEYS[2], ARGV[4]) end
  return {'rate_limited', tostring(math.max(1, redis.call('PTTL', KEYS[2])))}
end
return {'ok', host, entry}
`,
  2,
);

/** shopping-order: counts a paid order once (by orderId) and returns the session counters. */
export const shoppingOrderScript = new LuaScript(
  'shopping-order',
  `
--[[ shopping-order
KEYS[1] session  shop:{<livestreamId>}          hash (see shopping-pin)
KEYS[2] orders   shop:{<livestreamId>}:orders   set of counted orderIds
KEYS[3] buyers   shop:{<livestreamId>}:buyers   HyperLogLog of buyers
KEYS[4] viewers  shop:{<livestreamId>}:viewers  HyperLogLog of product-panel viewers
ARGV[1] orderId  ARGV[2] coins paid (integer >= 1)  ARGV[3] buyerId
Only called for an order whose coins have moved (a transfer record); the node checks that first.
Returns {'ok' | 'replay', orders, revenueCoins, buyers, viewers, statsVersion} | {'no_session'}
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {'no_session'} end
local status = 'replay'
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  status = 'ok'
  redis.call('HINCRBY', KEYS[1], 'orders', 1)
  redis.call('HINCRBY', KEYS[1], 'revenueCoins', tonumber(ARGV[2]))
  redis.call('HINCRBY', KEYS[1], 'statsVersion', 1)
  redis.call('PFADD', KEYS[3], ARGV[3])
  redis.call('PFADD', KEYS[4], ARGV[3])
end
local c = redis.call('HMGET', KEYS[1], 'orders', 'revenueCoins', 'statsVersion')
return {status, tonumber(c[1] or '0'), tonumber(c[2] or '0'), redis.call('PFCOUNT', KEYS[3]), redis.call('PFCOUNT', KEYS[4]), tonumber(c[3] or '0')}
`,
  4,
);
