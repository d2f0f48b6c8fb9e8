/**
 * `user.online` / `user.offline` webhooks from the connection hooks: a user is online from their
 * first connection on any node to their last. With Redis, one script per connect/disconnect keeps
 * per-node connection counts of the user and says when the cluster-wide total crosses zero; each
 * crossing gets a version number (carried in the webhook) so a receiver can discard a stale one if
 * two nodes' webhooks race. A node that dies is cleaned up by a survivor (NodeLiveness), which
 * emits the offline transitions its users' last connections implied.
 */
import type { Redis } from 'ioredis';

/**
 * KEYS[1] hash: node id -> open connections of the user on that node
 * KEYS[2] the user's online/offline version counter
 * ARGV[1] node id, ARGV[2] "1" (connect) or "-1" (disconnect), ARGV[3] expiry of both keys in ms
 * Returns {version, node count}: version is the new version when the user's total went 0 -> 1
 * (connect) or 1 -> 0 (disconnect), else 0; node count is the user's connections left on ARGV[1].
 */
const COUNT = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
if total > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
local version = 0
if (ARGV[2] == '1' and total == 1) or (ARGV[2] == '-1' and total == 0) then
  version = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return {version, math.max(n, 0)}`;

/**
 * KEYS[1] the user's per-node connection hash, KEYS[2] the user's version counter
 * ARGV[1] the dead node's id, ARGV[2] expiry in ms
 * Drops the dead node's connections of the user. Returns the new version when that left the user
 * with none (offline), else 0.
 */
const REMOVE_NODE = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HLEN', KEYS[1]) > 0 then return 0 end
local version = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return version`;

/** Bookkeeping expires a day after the user's last change. */
const EXPIRY_MS = 24 * 3600 * 1000;

const connsKey = (userId: string): string => `livegate:bridge:conns:{${userId}}`;
const versionKey = (userId: string): string => `livegate:bridge:online-version:{${userId}}`;
const nodeUsersKey = (nodeId: string): string => `livegate:bridge:node-users:${nodeId}`;

export interface OnlineCounter {
  /** Resolves with the transition's version when the user just came online (connect) or went offline (disconnect), else 0. */
  change(userId: string, delta: 1 | -1): Promise<number>;
  /** Removes a dead node's connections; resolves with the users that went offline and their versions. */
  removeNode(nodeId: string): Promise<Array<{ userId: string; version: number }>>;
}

export function createOnlineCounter(redis: Redis | undefined, nodeId: string): OnlineCounter {
  return redis ? new RedisOnlineCounter(redis, nodeId) : new LocalOnlineCounter();
}

class RedisOnlineCounter implements OnlineCounter {
  constructor(
    private readonly redis: Redis,
    private readonly nodeId: string,
  ) {}

  async change(userId: string, delta: 1 | -1): Promise<number> {
    const [version, left] = (await this.redis.eval(COUNT, 2, connsKey(userId), versionKey(userId), this.nodeId, String(delta), String(EXPIRY_MS))) as [
      number,
      number,
    ];
    // The node's user index (for dead-node cleanup); sent on the same connection, so in order.
    if (delta === 1) await this.redis.sadd(nodeUsersKey(this.nodeId), userId);
    else if (left === 0) await this.redis.srem(nodeUsersKey(this.nodeId), userId);
    return Number(version);
  }

  async removeNode(deadNode: string): Promise<Array<{ userId: string; version: number }>> {
    const users = await this.redis.smembers(nodeUsersKey(deadNode));
    const offline: Array<{ userId: string; version: number }> = [];
    for (const userId of users) {
      const version = Number(await this.redis.eval(REMOVE_NODE, 2, connsKey(userId), versionKey(userId), deadNode, String(EXPIRY_MS)));
      if (version > 0) offline.push({ userId, version });
    }
    await this.redis.del(nodeUsersKey(deadNode));
    return offline;
  }
}

/** Single node: one counter serves as every user's version (increasing per user, too). */
class LocalOnlineCounter implements OnlineCounter {
  private readonly counts = new Map<string, number>();
  private version = 0;

  async change(userId: string, delta: 1 | -1): Promise<number> {
    const total = (this.counts.get(userId) ?? 0) + delta;
    if (total > 0) this.counts.set(userId, total);
    else this.counts.delete(userId);
    return (delta === 1 && total === 1) || (delta === -1 && total <= 0) ? ++this.version : 0;
  }

  async removeNode(): Promise<Array<{ userId: string; version: number }>> {
    return [];
  }
}
