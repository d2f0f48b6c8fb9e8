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

/**
 * After NOW_AND_BUMP. `keep(record, idem, ttl, outbox, grace)`: stores the outcome under its
 * idempotency key for `ttl` seconds (a retry replays it), queues that key in the outbox (due after
 * `grace` ms) and returns {'ok', record JSON}. `walletRecord(amount, before, after, earned, version)`:
 * the record of a one-wallet change (credit, debit), the meta JSON of ARGV[5] for user ARGV[1].
 */
export const KEEP_RECORD = `local function keep(record, idem, ttl, outbox, grace)
  record.ts = now
  local encoded = cjson.encode(record)
  redis.call('SET', idem, encoded, 'EX', tonumber(ttl))
  redis.call('ZADD', outbox, now + tonumber(grace), idem)
  return {'ok', encoded}
end
local function walletRecord(amount, before, after, earned, version)
  local record = cjson.decode(ARGV[5])
  record.userId = ARGV[1]
  record.amount = amount
  record.balanceBefore = before
  record.balanceAfter = after
  record.earnings = earned
  record.version = version
  return record
end`;
