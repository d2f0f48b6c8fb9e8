import { LuaScript } from '../../../rooms/lua.js';

/** outbox-claim: leases overdue outbox entries to one node so they are re-queued, not lost. */
export const outboxClaimScript = new LuaScript(
  'outbox-claim',
  `
--[[ outbox-claim
KEYS[1] outbox  money:outbox  zset idem key -> due ms
ARGV[1] now ms  ARGV[2] lease ms  ARGV[3] max entries
Returns the claimed members; their due time moves to now + lease, so no other node takes them
until the lease runs out (the claimer removes them once their writes are queued).
]]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local leaseUntil = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], leaseUntil, member) end
return due
`,
  1,
);
