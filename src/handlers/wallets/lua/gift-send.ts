import { LuaScript } from '../../../rooms/lua.js';

/** KEYS per gift, after the shared KEYS[1] (the outbox). */
export const GIFT_KEYS = 8;
/** ARGV per gift, after the shared ARGV[1..3]. */
export const GIFT_ARGS = 9;

/**
 * gift-send: a batch of gifts, each all or nothing, applied in order in one atomic step:
 * idempotency check, debit (never below zero), credit of the creator's share, per-gift stream
 * totals, supporter leaderboards, PK score, outbox entry. A gift's result is exactly what it
 * would be had it run alone after the gifts before it in the batch; the batch only reads every
 * wallet, totals field, leaderboard entry and battle once and writes it back once.
 */
export const giftSendScript = new LuaScript(
  'gift-send',
  `
--[[ gift-send
KEYS[1] outbox  money:outbox  zset idem key -> due ms
Per gift i (0-based), KEYS[2 + 8i ..]:
  +0 idem       money:idem:gift:<senderId>:<key>   string, JSON record (TTL ARGV[1] s)
  +1 sender     wallet:{<senderId>}                hash {b, e, w, v}
  +2 recipient  wallet:{<recipientId>}             hash {b, e, w, v}
  +3 totals     gifts:stream:{<id>}:totals         hash {<giftId>:n, <giftId>:c, coins, gifts} (unused without a stream)
  +4 lbStream   lb:stream:{<id>}                   zset sender -> coins (unused without a stream)
  +5 lbCreator  lb:creator:{<recipientId>}         zset sender -> coins
  +6 pkActive   pk:active:{<recipientId>}          string battleId, may be absent
  +7 pkBattle   pk:battle:{<battleId>}             hash {status, host1, host2, s1, s2, endsAt}
ARGV[1] idempotency TTL seconds
ARGV[2] outbox grace ms (how long the caller has to confirm the MongoDB writes are queued)
ARGV[3] number of gifts
Per gift i, ARGV[4 + 9i ..]:
  +0 senderId  +1 recipientId  +2 giftId  +3 quantity (>= 1)  +4 total cost (>= 0)
  +5 creator earnings (0..total; the platform keeps the rest)
  +6 battleId the caller read from pkActive ('' = none)   +7 livestreamId ('' = none)
  +8 the record's fixed fields: a JSON object, completed here with the balances, versions,
     server time, stream totals and PK score
Returns one pair per gift, in order: 'ok', record | 'replay', record |
  'insufficient_funds', balance | 'no_wallet', userId (that wallet is not hot; nothing changed)
Versions: v' = max(v + 1, now ms) per gift, so versions keep growing across a Redis reload.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local due = now + tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local function int(x) return string.format('%d', x) end
local RECORD = '%s,"senderBalanceBefore":%d,"senderBalanceAfter":%d,"senderVersion":%d,"recipientBalanceBefore":%d,"recipientBalanceAfter":%d,"recipientEarnings":%d,"recipientVersion":%d,"ts":%d'
local TOTALS = ',"giftCount":%d,"giftCoins":%d,"streamCoins":%d,"streamGifts":%d'
local PK = ',"pk":{"battleId":%s,"host1Score":%d,"host2Score":%d,"endsAt":%d}'

-- Read once, changed in these tables, written back once at the end.
local wallets, hashes, zsets, actives, battles = {}, {}, {}, {}, {}
local function wallet(key)
  local w = wallets[key]
  if w == nil then
    local h = redis.call('HMGET', key, 'b', 'e', 'v')
    if h[1] then w = { b = tonumber(h[1]), e = tonumber(h[2] or '0'), v = tonumber(h[3] or '0'), dirty = false } else w = false end
    wallets[key] = w
  end
  return w
end
local function bump(w)
  w.v = math.max(w.v + 1, now)
  w.dirty = true
  return w.v
end
local function hincr(key, field, by)
  local h = hashes[key]
  if not h then h = {}; hashes[key] = h end
  local v = h[field]
  if v == nil then v = tonumber(redis.call('HGET', key, field) or '0') end
  v = v + by
  h[field] = v
  return v
end
local function zincr(key, member, by)
  local z = zsets[key]
  if not z then z = {}; zsets[key] = z end
  z[member] = (z[member] or 0) + by
end
local function activeBattle(key)
  local a = actives[key]
  if a == nil then a = redis.call('GET', key) or false; actives[key] = a end
  return a
end
local function battle(key)
  local b = battles[key]
  if not b then
    local h = redis.call('HMGET', key, 'status', 'host1', 'host2', 'endsAt', 's1', 's2')
    b = { status = h[1], host1 = h[2], host2 = h[3], endsAt = tonumber(h[4] or '0'), s1 = tonumber(h[5] or '0'), s2 = tonumber(h[6] or '0'), d1 = 0, d2 = 0 }
    battles[key] = b
  end
  return b
end

local out, queued = {}, {}
for i = 0, n - 1 do
  local k, a = 1 + i * ${GIFT_KEYS}, 3 + i * ${GIFT_ARGS}
  local idem = KEYS[k + 1]
  local existing = redis.call('GET', idem)
  local sw, rw
  if not existing then sw = wallet(KEYS[k + 2]); rw = wallet(KEYS[k + 3]) end
  local total = tonumber(ARGV[a + 5])
  if existing then
    out[#out + 1] = 'replay'; out[#out + 1] = existing
  elseif not sw then
    out[#out + 1] = 'no_wallet'; out[#out + 1] = ARGV[a + 1]
  elseif not rw then
    out[#out + 1] = 'no_wallet'; out[#out + 1] = ARGV[a + 2]
  elseif sw.b < total then
    out[#out + 1] = 'insufficient_funds'; out[#out + 1] = int(sw.b)
  else
    local sender, giftId, qty, earnings = ARGV[a + 1], ARGV[a + 3], tonumber(ARGV[a + 4]), tonumber(ARGV[a + 6])
    local senderBefore, recipientBefore = sw.b, rw.b
    sw.b = sw.b - total
    local senderVersion = bump(sw)
    rw.b = rw.b + earnings
    rw.e = rw.e + earnings
    local recipientVersion = bump(rw)
    -- The record: the caller's fixed fields plus these, formatted in one go (cheaper than joining parts).
    local encoded = string.format(RECORD, string.sub(ARGV[a + 9], 1, -2), senderBefore, sw.b, senderVersion, recipientBefore, rw.b, rw.e, recipientVersion, now)
    if ARGV[a + 8] ~= '' then
      local totals = KEYS[k + 4]
      encoded = encoded .. string.format(TOTALS, hincr(totals, giftId .. ':n', qty), hincr(totals, giftId .. ':c', total), hincr(totals, 'coins', total), hincr(totals, 'gifts', qty))
      zincr(KEYS[k + 5], sender, total)
    end
    zincr(KEYS[k + 6], sender, total)
    local battleId = ARGV[a + 7]
    if battleId ~= '' and activeBattle(KEYS[k + 7]) == battleId then
      local b = battle(KEYS[k + 8])
      if b.status == 'active' and now < b.endsAt then
        local recipient = ARGV[a + 2]
        local scored = true
        if b.host1 == recipient then b.s1 = b.s1 + total; b.d1 = b.d1 + total
        elseif b.host2 == recipient then b.s2 = b.s2 + total; b.d2 = b.d2 + total
        else scored = false end
        if scored then encoded = encoded .. string.format(PK, cjson.encode(battleId), b.s1, b.s2, b.endsAt) end
      end
    end
    encoded = encoded .. '}'
    redis.call('SET', idem, encoded, 'EX', ttl)
    queued[#queued + 1] = due; queued[#queued + 1] = idem
    out[#out + 1] = 'ok'; out[#out + 1] = encoded
  end
end

for key, w in pairs(wallets) do
  if w and w.dirty then redis.call('HSET', key, 'b', int(w.b), 'e', int(w.e), 'v', int(w.v)) end
end
for key, h in pairs(hashes) do
  local args = {}
  for field, v in pairs(h) do args[#args + 1] = field; args[#args + 1] = int(v) end
  redis.call('HSET', key, unpack(args))
end
for key, z in pairs(zsets) do
  for member, by in pairs(z) do redis.call('ZINCRBY', key, by, member) end
end
for key, b in pairs(battles) do
  if b.d1 > 0 then redis.call('HINCRBY', key, 's1', b.d1) end
  if b.d2 > 0 then redis.call('HINCRBY', key, 's2', b.d2) end
end
if #queued > 0 then redis.call('ZADD', KEYS[1], unpack(queued)) end
return out
`,
  'variadic',
);
