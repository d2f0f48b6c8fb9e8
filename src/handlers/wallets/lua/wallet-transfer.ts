import { LuaScript } from '../../../rooms/lua.js';
import { KEEP_RECORD, NOW_AND_BUMP } from './fragments.js';

/** wallet-transfer: moves coins from one wallet to another, all or nothing, once per idempotency key. */
export const walletTransferScript = new LuaScript(
  'wallet-transfer',
  `
--[[ wallet-transfer
KEYS[1] idem       money:idem:transfer:<senderId>:<key>   string, JSON record (TTL ARGV[4] s)
KEYS[2] sender     wallet:{<senderId>}                    hash {b, e, w, v}
KEYS[3] recipient  wallet:{<recipientId>}                 hash {b, e, w, v}
KEYS[4] outbox     money:outbox                           zset idem key -> due ms
ARGV[1] senderId  ARGV[2] recipientId  ARGV[3] amount (integer >= 1)
ARGV[4] idempotency TTL seconds  ARGV[5] outbox grace ms  ARGV[6] meta JSON copied into the record
Returns {'ok', record} | {'replay', record} | {'insufficient_funds', balance} | {'no_wallet', userId}
The recipient's balance grows, not its earnings (transferred coins cannot be withdrawn).
]]
local existing = redis.call('GET', KEYS[1])
if existing then return {'replay', existing} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {'no_wallet', ARGV[1]} end
if redis.call('EXISTS', KEYS[3]) == 0 then return {'no_wallet', ARGV[2]} end
local amount = tonumber(ARGV[3])
local senderBefore = tonumber(redis.call('HGET', KEYS[2], 'b') or '0')
if senderBefore < amount then return {'insufficient_funds', senderBefore} end
${NOW_AND_BUMP}
${KEEP_RECORD}
local senderAfter = redis.call('HINCRBY', KEYS[2], 'b', -amount)
local senderVersion = bump(KEYS[2])
local recipientBefore = tonumber(redis.call('HGET', KEYS[3], 'b') or '0')
local recipientAfter = redis.call('HINCRBY', KEYS[3], 'b', amount)
local recipientVersion = bump(KEYS[3])
local record = cjson.decode(ARGV[6])
record.senderId = ARGV[1]
record.recipientId = ARGV[2]
record.amount = amount
record.senderBalanceBefore = senderBefore
record.senderBalanceAfter = senderAfter
record.senderVersion = senderVersion
record.recipientBalanceBefore = recipientBefore
record.recipientBalanceAfter = recipientAfter
record.recipientVersion = recipientVersion
return keep(record, KEYS[1], ARGV[4], KEYS[4], ARGV[5])
`,
  4,
);
