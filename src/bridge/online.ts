/**
 * `user.online` / `user.offline` webhooks from the connection hooks: a user is online from their
 * first connection on any node to their last. With Redis, one script per connect/disconnect keeps
 * per-node connection counts of the user and says when the cluster-wide total crosses zero; each
 * crossing gets a version number (carried in the webhook) so a receiver can discard a stale one if
 * two nodes' webhooks race. The presence module, when it lands, should own this and emit the same
 * webhooks (then this file goes).
 */
import type { Redis } from 'ioredis';

/**
 * KEYS[1] hash: node id -> open connections of the user on that node
 * KEYS[2] the user's online/offline version counter
 * ARGV[1] node id, ARGV[2] "1" (connect) or "-1" (disconnect), ARGV[3] expiry of both keys in ms
 * Returns the new version when the user's total went 0 -> 1 (connect) or 1 -> 0 (disconnect), else 0.
 */
const COUNT = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
if total > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if (ARGV[2] == '1' and total == 1) or (ARGV[2] == '-1' and total == 0) then
  local version = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return version
end
return 0`;

/** Connection-count bookkeeping expires a day after the user's last change (stale counts of dead nodes heal). */
const EXPIRY_MS = 24 * 3600 * 1000;

export interface OnlineCounter {
  /** Resolves with the transition's version when the user just came online (connect) or went offline (disconnect), else 0. */
  change(userId: string, delta: 1 | -1): Promise<number>;
}

export function createOnlineCounter(redis: Redis | undefined, nodeId: string): OnlineCounter {
  if (redis) {
    return {
      async change(userId, delta) {
        const reply = await redis.eval(COUNT, 2, `livegate:bridge:conns:{${userId}}`, `livegate:bridge:online-version:{${userId}}`, nodeId, String(delta), String(EXPIRY_MS));
        return Number(reply);
      },
    };
  }
  // Single node: one counter serves as every user's version (increasing per user, too).
  const counts = new Map<string, number>();
  let version = 0;
  return {
    async change(userId, delta) {
      const total = (counts.get(userId) ?? 0) + delta;
      if (total > 0) counts.set(userId, total);
      else counts.delete(userId);
      return (delta === 1 && total === 1) || (delta === -1 && total <= 0) ? ++version : 0;
    },
  };
}
