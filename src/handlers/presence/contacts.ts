import type { Redis } from 'ioredis';
import type { Core } from '../../core.js';

/**
 * Who may see whose presence. The rule: a viewer sees a user if it is themself, if the viewer
 * follows the user (`user:follow`), or if they share a conversation (the chat module registers
 * conversation participants with addContacts). Nobody else.
 */
export interface ContactDirectory {
  /** Makes every pair of these users mutual contacts (e.g. the participants of a conversation). */
  addContacts(userIds: string[]): Promise<void>;
  follow(userId: string, targetId: string): Promise<void>;
  unfollow(userId: string, targetId: string): Promise<void>;
  /** Whether `userId` follows `targetId`. */
  follows(userId: string, targetId: string): Promise<boolean>;
  /** For each target, whether `viewerId` may see its presence. */
  canSee(viewerId: string, targetIds: string[]): Promise<boolean[]>;
}

const followKey = (u: string): string => `lg:follow:${u}`;
const contactsKey = (u: string): string => `lg:contacts:${u}`;

export class RedisContactDirectory implements ContactDirectory {
  constructor(private readonly redis: Redis) {}

  async addContacts(userIds: string[]): Promise<void> {
    const unique = [...new Set(userIds)];
    if (unique.length < 2) return;
    const pipeline = this.redis.pipeline();
    for (const u of unique) pipeline.sadd(contactsKey(u), ...unique.filter((o) => o !== u));
    await pipeline.exec();
  }

  async follow(userId: string, targetId: string): Promise<void> {
    await this.redis.sadd(followKey(userId), targetId);
  }

  async unfollow(userId: string, targetId: string): Promise<void> {
    await this.redis.srem(followKey(userId), targetId);
  }

  async follows(userId: string, targetId: string): Promise<boolean> {
    return (await this.redis.sismember(followKey(userId), targetId)) === 1;
  }

  async canSee(viewerId: string, targetIds: string[]): Promise<boolean[]> {
    if (targetIds.length === 0) return [];
    const [follows, contacts] = await Promise.all([
      this.redis.smismember(followKey(viewerId), ...targetIds),
      this.redis.smismember(contactsKey(viewerId), ...targetIds),
    ]);
    return targetIds.map((t, i) => t === viewerId || follows[i] === 1 || contacts[i] === 1);
  }
}

export class MemoryContactDirectory implements ContactDirectory {
  private readonly followed = new Map<string, Set<string>>();
  private readonly contacts = new Map<string, Set<string>>();

  async addContacts(userIds: string[]): Promise<void> {
    const unique = [...new Set(userIds)];
    for (const u of unique) for (const o of unique) if (o !== u) setOf(this.contacts, u).add(o);
  }

  async follow(userId: string, targetId: string): Promise<void> {
    setOf(this.followed, userId).add(targetId);
  }

  async unfollow(userId: string, targetId: string): Promise<void> {
    this.followed.get(userId)?.delete(targetId);
  }

  async follows(userId: string, targetId: string): Promise<boolean> {
    return this.followed.get(userId)?.has(targetId) ?? false;
  }

  async canSee(viewerId: string, targetIds: string[]): Promise<boolean[]> {
    return targetIds.map((t) => t === viewerId || (this.followed.get(viewerId)?.has(t) ?? false) || (this.contacts.get(viewerId)?.has(t) ?? false));
  }
}

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}

const directories = new WeakMap<Core, ContactDirectory>();

/**
 * The node's contact directory (one per Core: Redis with REDIS_URL, memory otherwise).
 * The chat module calls `contactDirectoryFor(core).addContacts(participants)` when a
 * conversation is created or gains members.
 */
export function contactDirectoryFor(core: Core): ContactDirectory {
  let directory = directories.get(core);
  if (!directory) directories.set(core, (directory = core.redis ? new RedisContactDirectory(core.redis) : new MemoryContactDirectory()));
  return directory;
}
