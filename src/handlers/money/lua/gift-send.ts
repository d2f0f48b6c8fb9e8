import { LuaScript } from '../script.js';
import { NOW_AND_BUMP } from './fragments.js';

/**
 * gift-send: one gift, all or nothing: idempotency check, debit (never below zero), credit of the
 * creator's share, per-gift stream totals, supporter leaderboards, PK score, outbox entry.
 */
export const giftSendScript = new LuaScript('gift-send', `
--[[ gift-send
KEYS[1] idem       money:idem:gift:<senderId>:<key>   string, JSON record (TTL ARGV[8] s)
KEYS[2] sender     wallet:{<senderId>}                hash {b, e, v}
KEYS[3] recipient  wallet:{<recipientId>}             hash {b, e, v}
KEYS[4] totals     gifts:stream:{<id>}:totals         hash {<giftId>:n, <giftId>:c, coins, gifts} (unused when ARGV[9] == '')
KEYS[5] lbStream   lb:stream:{<id>}                   zset sender -> coins (unused when ARGV[9] == '')
KEYS[6] lbCreator  lb:creator:{<recipientId>}         zset sender -> coins
KEYS[7] outbox     money:outbox                       zset idem key -> due ms
KEYS[8] pkActive   pk:active:{<recipientId>}          string battleId, may be absent
KEYS[9] pkBattle   pk:battle:{<ARGV[7]>}              hash {status, host1, host2, s1, s2, endsAt}
ARGV[1] senderId          ARGV[2] recipientId      ARGV[3] giftId
ARGV[4] quantity (>= 1)   ARGV[5] unitPrice (>= 0) ARGV[6] creatorEarningsPercent (0..100)
ARGV[7] battleId the caller read from KEYS[8] ('' = none)
ARGV[8] idempotency TTL seconds   ARGV[9] livestreamId ('' = none)
ARGV[10] outbox grace ms (how long the caller has to confirm the MongoDB writes are queued)
ARGV[11] meta JSON: snapshot fields copied into the record as they are
Returns {'ok', record} | {'replay', record} | {'insufficient_funds', balance} | {'no_wallet', userId}
Rounding: creatorEarnings = floor(total * percent / 100); the platform keeps total - creatorEarnings.
Versions: v' = max(v + 1, now ms) so versions keep growing across a Redis reload.
]]
local existing = redis.call('GET', KEYS[1])
if existing then return {'replay', existing} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {'no_wallet', ARGV[1]} end
if redis.call('EXISTS', KEYS[3]) == 0 then return {'no_wallet', ARGV[2]} end

local qty = tonumber(ARGV[4])
local price = tonumber(ARGV[5])
local pct = tonumber(ARGV[6])
local total = qty * price
local earnings = math.floor(total * pct / 100)
local fee = total - earnings

local senderBefore = tonumber(redis.call('HGET', KEYS[2], 'b') or '0')
if senderBefore < total then return {'insufficient_funds', senderBefore} end

${NOW_AND_BUMP}

local senderAfter = redis.call('HINCRBY', KEYS[2], 'b', -total)
local senderVersion = bump(KEYS[2])
local recipientBefore = tonumber(redis.call('HGET', KEYS[3], 'b') or '0')
local recipientAfter = redis.call('HINCRBY', KEYS[3], 'b', earnings)
local recipientEarned = redis.call('HINCRBY', KEYS[3], 'e', earnings)
local recipientVersion = bump(KEYS[3])

local record = cjson.decode(ARGV[11])
record.senderId = ARGV[1]
record.recipientId = ARGV[2]
record.giftId = ARGV[3]
record.quantity = qty
record.unitPrice = price
record.totalCost = total
record.creatorEarnings = earnings
record.platformFee = fee
record.senderBalanceBefore = senderBefore
record.senderBalanceAfter = senderAfter
record.senderVersion = senderVersion
record.recipientBalanceBefore = recipientBefore
record.recipientBalanceAfter = recipientAfter
record.recipientEarnings = recipientEarned
record.recipientVersion = recipientVersion
record.ts = now

if ARGV[9] ~= '' then
  record.giftCount = redis.call('HINCRBY', KEYS[4], ARGV[3] .. ':n', qty)
  record.giftCoins = redis.call('HINCRBY', KEYS[4], ARGV[3] .. ':c', total)
  record.streamCoins = redis.call('HINCRBY', KEYS[4], 'coins', total)
  record.streamGifts = redis.call('HINCRBY', KEYS[4], 'gifts', qty)
  redis.call('ZINCRBY', KEYS[5], total, ARGV[1])
end
redis.call('ZINCRBY', KEYS[6], total, ARGV[1])

if ARGV[7] ~= '' and redis.call('GET', KEYS[8]) == ARGV[7] then
  local b = redis.call('HMGET', KEYS[9], 'status', 'host1', 'host2', 'endsAt')
  if b[1] == 'active' and now < tonumber(b[4]) then
    local field = nil
    if b[2] == ARGV[2] then field = 's1' elseif b[3] == ARGV[2] then field = 's2' end
    if field then
      redis.call('HINCRBY', KEYS[9], field, total)
      local s = redis.call('HMGET', KEYS[9], 's1', 's2')
      record.pk = { battleId = ARGV[7], host1Score = tonumber(s[1]), host2Score = tonumber(s[2]), endsAt = tonumber(b[4]) }
    end
  end
end

local encoded = cjson.encode(record)
redis.call('SET', KEYS[1], encoded, 'EX', tonumber(ARGV[8]))
redis.call('ZADD', KEYS[7], now + tonumber(ARGV[10]), KEYS[1])
return {'ok', encoded}
`, 9);
