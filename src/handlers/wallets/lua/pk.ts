import { LuaScript } from '../../../rooms/lua.js';

/** pk-invite: a pending battle between two hosts, neither of whom may be in another one. */
export const pkInviteScript = new LuaScript(
  'pk-invite',
  `
--[[ pk-invite
KEYS[1] active1  pk:active:{<host1>}   string battleId (PX)
KEYS[2] active2  pk:active:{<host2>}   string battleId (PX)
KEYS[3] battle   pk:battle:{<id>}      hash
ARGV[1] battleId  ARGV[2] host1  ARGV[3] host2  ARGV[4] duration s  ARGV[5] invite TTL ms
ARGV[6] host1's livestreamId ('' = none)
Returns {'ok', createdAt ms} | {'busy', hostId}
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return {'busy', ARGV[2]} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'busy', ARGV[3]} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[3], 'id', ARGV[1], 'status', 'pending', 'host1', ARGV[2], 'host2', ARGV[3], 'duration', ARGV[4],
  'ls1', ARGV[6], 'ls2', '', 's1', 0, 's2', 0, 'createdAt', string.format('%d', now), 'v', 1)
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[5]))
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[5]))
redis.call('SET', KEYS[2], ARGV[1], 'PX', tonumber(ARGV[5]))
return {'ok', string.format('%d', now)}
`,
  3,
);

/** pk-accept: the invited host accepts; the battle starts now and is due to end at now + duration. */
export const pkAcceptScript = new LuaScript(
  'pk-accept',
  `
--[[ pk-accept
KEYS[1] battle   pk:battle:{<id>}     hash
KEYS[2] active1  pk:active:{<host1>}
KEYS[3] active2  pk:active:{<host2>}
KEYS[4] ends     pk:ends              zset battleId -> endsAt ms
ARGV[1] battleId  ARGV[2] accepting userId  ARGV[3] their livestreamId ('' = none)  ARGV[4] pointer grace ms after the end
Returns {'ok'} | {'not_found'} | {'forbidden'} | {'conflict', status}
]]
local b = redis.call('HMGET', KEYS[1], 'status', 'host2', 'duration')
if not b[1] then return {'not_found'} end
if b[2] ~= ARGV[2] then return {'forbidden'} end
if b[1] ~= 'pending' then return {'conflict', b[1]} end
if redis.call('GET', KEYS[2]) ~= ARGV[1] or redis.call('GET', KEYS[3]) ~= ARGV[1] then return {'conflict', 'expired'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local endsAt = now + tonumber(b[3]) * 1000
redis.call('HSET', KEYS[1], 'status', 'active', 'ls2', ARGV[3], 'startedAt', string.format('%d', now), 'endsAt', string.format('%d', endsAt), 'v', 2)
redis.call('PERSIST', KEYS[1])
redis.call('PEXPIRE', KEYS[2], endsAt - now + tonumber(ARGV[4]))
redis.call('PEXPIRE', KEYS[3], endsAt - now + tonumber(ARGV[4]))
redis.call('ZADD', KEYS[4], endsAt, ARGV[1])
return {'ok'}
`,
  4,
);

/** pk-decline: either host drops a pending invitation. */
export const pkDeclineScript = new LuaScript(
  'pk-decline',
  `
--[[ pk-decline
KEYS[1] battle   pk:battle:{<id>}
KEYS[2] active1  pk:active:{<host1>}
KEYS[3] active2  pk:active:{<host2>}
ARGV[1] battleId  ARGV[2] userId  ARGV[3] retain s
Returns {'ok'} | {'not_found'} | {'forbidden'} | {'conflict', status}
]]
local b = redis.call('HMGET', KEYS[1], 'status', 'host1', 'host2')
if not b[1] then return {'not_found'} end
if b[2] ~= ARGV[2] and b[3] ~= ARGV[2] then return {'forbidden'} end
if b[1] ~= 'pending' then return {'conflict', b[1]} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'status', 'ended', 'result', 'declined', 'endedAt', string.format('%d', now), 'v', 3)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return {'ok'}
`,
  3,
);

/** pk-end: ends a due battle exactly once (the ZREM is the claim) and decides the winner. */
export const pkEndScript = new LuaScript(
  'pk-end',
  `
--[[ pk-end
KEYS[1] ends     pk:ends               zset battleId -> endsAt ms
KEYS[2] battle   pk:battle:{<id>}      hash
KEYS[3] active1  pk:active:{<host1>}
KEYS[4] active2  pk:active:{<host2>}
KEYS[5] wins     pk:rank:wins          zset hostId -> wins
KEYS[6] outbox   money:outbox          zset key -> due ms
ARGV[1] battleId  ARGV[2] outbox grace ms  ARGV[3] retain s
Winner: the higher score; equal scores are a tie (no winner, nobody's wins change).
Returns 1 when this call ended the battle, 0 when another node already had (or it is not active).
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local b = redis.call('HMGET', KEYS[2], 'status', 'host1', 'host2', 's1', 's2')
if b[1] ~= 'active' then return 0 end
local s1 = tonumber(b[4])
local s2 = tonumber(b[5])
local winner = ''
local result = 'tie'
if s1 > s2 then winner = b[2]; result = 'win' elseif s2 > s1 then winner = b[3]; result = 'win' end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], 'status', 'ended', 'winnerId', winner, 'result', result, 'endedAt', string.format('%d', now), 'v', 3)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
if winner ~= '' then redis.call('ZINCRBY', KEYS[5], 1, winner) end
redis.call('ZADD', KEYS[6], now + tonumber(ARGV[2]), KEYS[2])
return 1
`,
  6,
);
