import type { Redis } from 'ioredis';
import { RedisPresenceStore } from './presence-redis.js';

/**
 * Whether users have a device connected anywhere in the cluster. With Redis it reads the
 * presence module's per-node device counts (`lg:pr:<user>:nodes`, kept by its connect/disconnect
 * hooks and cleaned up for dead nodes by NodeLiveness); one pipelined round trip for any number
 * of users. Without Redis (single node) it asks this node's sockets. A device that connected
 * a few milliseconds ago may not be counted yet (the presence write is asynchronous).
 */
export interface OnlineCheck {
  /** For each user, whether at least one of their devices is connected. */
  connected(userIds: string[]): Promise<boolean[]>;
}

/** `localConnections(userId)`: how many devices of the user this node holds (the single-node answer). */
export function onlineCheck(redis: Redis | undefined, localConnections: (userId: string) => number): OnlineCheck {
  if (redis) {
    const store = new RedisPresenceStore(redis);
    return { connected: async (userIds) => (userIds.length === 0 ? [] : (await store.get(userIds)).map((r) => r.devices > 0)) };
  }
  return { connected: async (userIds) => userIds.map((u) => localConnections(u) > 0) };
}
