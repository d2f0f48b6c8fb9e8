import { LuaScript } from '../../../rooms/lua.js';

/** wallet-load: installs a wallet loaded from MongoDB, only if no node did it first. */
export const walletLoadScript = new LuaScript(
  'wallet-load',
  `
--[[ wallet-load
KEYS[1] wallet  wallet:{<userId>}  hash {b, e, w, v}
ARGV[1] balance  ARGV[2] lifetime earnings  ARGV[3] version  ARGV[4] coins withdrawn (net of reversals)
Returns 1 when installed, 0 when the wallet was already hot (the hot copy wins: it is newer).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'b', ARGV[1], 'e', ARGV[2], 'v', ARGV[3], 'w', ARGV[4] or '0')
return 1
`,
  1,
);
