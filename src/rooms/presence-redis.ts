import type { Redis } from 'ioredis';
import { LuaScript } from './lua.js';
import { CHOSEN_STATUSES, type ChosenStatus, type PresenceChange, type PresenceRecord, type PresenceStore } from './presence.js';

/*
 * Key layout (shared-state Redis, core.redis):
 *   lg:pr:<user>          hash  status (chosen), lastSeen (ms)
 *   lg:pr:<user>:nodes    hash  nodeId -> devices of the user connected to that node
 *   lg:node:<node>:users  set   users with devices on a node (for the reaper)
 */
const k = {
  user: (u: string) => `lg:pr:${u}`,
  nodes: (u: string) => `lg:pr:${u}:nodes`,
  nodeUsers: (n: string) => `lg:node:${n}:users`,
};

/** Shared Lua: the public status from the chosen status and the device total. */
const PUBLIC = `
local function public()
  local total = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[2])) do total = total + tonumber(v) end
  local chosen = redis.call('HGET', KEYS[1], 'status') or 'online'
  if total == 0 or chosen == 'invisible' then return 'offline' end
  return chosen
end
local function changed(before)
  local after = public()
  if after == before then return {} end
  if after == 'offline' then redis.call('HSET', KEYS[1], 'lastSeen', ARGV[4]) end
  return {after, redis.call('HGET', KEYS[1], 'lastSeen') or ''}
end
`;

/*
 * Sets one node's device count for a user.
 * KEYS[1] presence hash  KEYS[2] per-node devices hash  KEYS[3] the node's user set
 * ARGV[1] nodeId  ARGV[2] userId  ARGV[3] devices on that node (absolute)  ARGV[4] now (ms)
 * Returns {} when the public status did not change, else {status, lastSeen}.
 */
const SET_DEVICES = new LuaScript(
  'presence-set-devices',
  `${PUBLIC}
local before = public()
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[2])
else
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[2])
end
return changed(before)
`,
);

/*
 * Sets the chosen status.
 * KEYS[1] presence hash  KEYS[2] per-node devices hash
 * ARGV[1] unused  ARGV[2] unused  ARGV[3] status  ARGV[4] now (ms)
 * Returns {} when the public status did not change, else {status, lastSeen}.
 */
const SET_STATUS = new LuaScript(
  'presence-set-status',
  `${PUBLIC}
local before = public()
redis.call('HSET', KEYS[1], 'status', ARGV[3])
return changed(before)
`,
);

function toChange(userId: string, reply: unknown): PresenceChange | undefined {
  const [status, lastSeen] = reply as [string?, string?];
  if (!status) return undefined;
  return { userId, status: status as PresenceChange['status'], lastSeen: lastSeen ? Number(lastSeen) : null };
}

export class RedisPresenceStore implements PresenceStore {
  constructor(private readonly redis: Redis) {}

  async setNodeDevices(userId: string, nodeId: string, count: number, now: number): Promise<PresenceChange | undefined> {
    return toChange(userId, await SET_DEVICES.run(this.redis, [k.user(userId), k.nodes(userId), k.nodeUsers(nodeId)], [nodeId, userId, count, now]));
  }

  async setStatus(userId: string, status: ChosenStatus, now: number): Promise<PresenceChange | undefined> {
    return toChange(userId, await SET_STATUS.run(this.redis, [k.user(userId), k.nodes(userId)], ['', '', status, now]));
  }

  async get(userIds: string[]): Promise<PresenceRecord[]> {
    const pipeline = this.redis.pipeline();
    for (const u of userIds) pipeline.hmget(k.user(u), 'status', 'lastSeen').hvals(k.nodes(u));
    const replies = (await pipeline.exec()) ?? [];
    return userIds.map((userId, i) => {
      const [status, lastSeen] = (replies[2 * i]?.[1] ?? []) as Array<string | null>;
      const devices = ((replies[2 * i + 1]?.[1] ?? []) as string[]).reduce((sum, v) => sum + Number(v), 0);
      const chosen = (CHOSEN_STATUSES as readonly string[]).includes(status ?? '') ? (status as ChosenStatus) : 'online';
      return { userId, chosen, devices, lastSeen: lastSeen ? Number(lastSeen) : null };
    });
  }

  async removeNode(nodeId: string, now: number): Promise<PresenceChange[]> {
    // One script per user, sent together (ioredis pipelines them on the connection).
    const users = await this.redis.smembers(k.nodeUsers(nodeId));
    const changes = await Promise.all(users.map((userId) => this.setNodeDevices(userId, nodeId, 0, now)));
    return changes.filter((c): c is PresenceChange => c !== undefined);
  }
}
