import { LuaScript } from '../../../rooms/lua.js';

/** money-epoch: the id of this Redis' money data, made on first use; a Redis that lost its data has a new one. */
export const moneyEpochScript = new LuaScript(
  'money-epoch',
  `
--[[ money-epoch
KEYS[1] epoch  money:epoch  string
ARGV[1] a fresh random id, stored only if there is none
Returns the stored id.
]]
local epoch = redis.call('GET', KEYS[1])
if epoch then return epoch end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`,
  1,
);

/** wallet-load: installs a wallet loaded from MongoDB, only if no node did it first and Redis kept its data meanwhile. */
export const walletLoadScript = new LuaScript(
  'wallet-load',
  `
--[[ wallet-load
KEYS[1] wallet  wallet:{<userId>}  hash {b, e, w, v}
KEYS[2] epoch   money:epoch        string (money-epoch.lua)
ARGV[1] balance  ARGV[2] lifetime earnings  ARGV[3] version  ARGV[4] coins withdrawn (net of reversals)
ARGV[5] the epoch read before MongoDB was
Returns 1 when installed, 0 when the wallet was already hot (the hot copy wins: it is newer),
-1 when the epoch changed: Redis lost its data while the wallet was read, so the snapshot may
miss writes of the lost data that are still landing (the load starts over).
]]
if redis.call('GET', KEYS[2]) ~= ARGV[5] then return -1 end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'b', ARGV[1], 'e', ARGV[2], 'v', ARGV[3], 'w', ARGV[4])
return 1
`,
  2,
);
