import { LuaScript } from '../../../rooms/lua.js';
import { KEEP_RECORD, NOW_AND_BUMP } from './fragments.js';

/** wallet-debit: takes earned coins out of a wallet for a payout, once per idempotency key. */
export const walletDebitScript = new LuaScript(
  'wallet-debit',
  `
--[[ wallet-debit
KEYS[1] idem    money:idem:credit:<userId>:<key>   string, JSON record (TTL ARGV[3] s); shared with wallet-credit
KEYS[2] wallet  wallet:{<userId>}                  hash {b, e, w, v}
KEYS[3] outbox  money:outbox                       zset idem key -> due ms
ARGV[1] userId  ARGV[2] amount (integer >= 1)  ARGV[3] idempotency TTL seconds
ARGV[4] outbox grace ms  ARGV[5] meta JSON copied into the record
Withdrawable = max(0, min(b, e - w)): only earned coins that were not withdrawn yet leave the
platform (purchased, transferred and bonus coins stay spendable inside it).
Returns {'ok', record} | {'replay', record} | {'insufficient_funds', '{"balance":b,"withdrawable":n}'} | {'no_wallet', userId}
The record's amount is negative (a debit); w grows by the amount.
]]
local existing = redis.call('GET', KEYS[1])
if existing then return {'replay', existing} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {'no_wallet', ARGV[1]} end
local amount = tonumber(ARGV[2])
local h = redis.call('HMGET', KEYS[2], 'b', 'e', 'w')
local before = tonumber(h[1] or '0')
local earned = tonumber(h[2] or '0')
local withdrawn = tonumber(h[3] or '0')
local withdrawable = math.max(0, math.min(before, earned - withdrawn))
if withdrawable < amount then
  return {'insufficient_funds', cjson.encode({balance = before, withdrawable = withdrawable})}
end
${NOW_AND_BUMP}
${KEEP_RECORD}
local after = redis.call('HINCRBY', KEYS[2], 'b', -amount)
redis.call('HINCRBY', KEYS[2], 'w', amount)
local nv = bump(KEYS[2])
return keep(walletRecord(-amount, before, after, earned, nv), KEYS[1], ARGV[3], KEYS[3], ARGV[4])
`,
  3,
);
