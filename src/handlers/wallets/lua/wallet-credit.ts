import { LuaScript } from '../../../rooms/lua.js';
import { KEEP_RECORD, NOW_AND_BUMP } from './fragments.js';

/** wallet-credit: adds coins to a wallet once per idempotency key (funding, refunds, admin). */
export const walletCreditScript = new LuaScript(
  'wallet-credit',
  `
--[[ wallet-credit
KEYS[1] idem    money:idem:credit:<userId>:<key>   string, JSON record (TTL ARGV[3] s)
KEYS[2] wallet  wallet:{<userId>}                  hash {b, e, w, v}
KEYS[3] outbox  money:outbox                       zset idem key -> due ms
ARGV[1] userId  ARGV[2] amount (integer >= 1)  ARGV[3] idempotency TTL seconds
ARGV[4] outbox grace ms  ARGV[5] meta JSON copied into the record
ARGV[6] '1' when the amount also counts as earnings; 'r' when it reverses a withdrawal (w -= amount)
Returns {'ok', record} | {'replay', record} | {'no_wallet', userId}
]]
local existing = redis.call('GET', KEYS[1])
if existing then return {'replay', existing} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {'no_wallet', ARGV[1]} end
local amount = tonumber(ARGV[2])
${NOW_AND_BUMP}
${KEEP_RECORD}
local before = tonumber(redis.call('HGET', KEYS[2], 'b') or '0')
local after = redis.call('HINCRBY', KEYS[2], 'b', amount)
local earned = tonumber(redis.call('HGET', KEYS[2], 'e') or '0')
if ARGV[6] == '1' then earned = redis.call('HINCRBY', KEYS[2], 'e', amount) end
if ARGV[6] == 'r' then redis.call('HINCRBY', KEYS[2], 'w', -amount) end
local nv = bump(KEYS[2])
return keep(walletRecord(amount, before, after, earned, nv), KEYS[1], ARGV[3], KEYS[3], ARGV[4])
`,
  3,
);
