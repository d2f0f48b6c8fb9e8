import type { Redis } from 'ioredis';
import { LuaScript } from '../../rooms/lua.js';
import { versionOf } from '../../rooms/room-state.js';
import { CREATED_TTL_SEC, check, type CohostOp, type LivePage, type StreamInfo, type StreamStore } from './streams.js';

/*
 * Key layout (all on the shared-state Redis, core.redis):
 *   lg:ls:<id>            hash   hostId, title, status (created|live|ended), createdAt, startedAt, endedAt
 *   lg:ls:<id>:cohosts    set    accepted co-hosts
 *   lg:ls:<id>:invites    set    pending co-host invitations
 *   lg:ls:<id>:viewers    hash   nodeId -> that node's viewer count (the total is the sum)
 *   lg:node:<node>:streams set   streams a node has a viewer count in (for the reaper)
 *   lg:streams:live       zset   streamId -> startedAt of every live stream (the "live now" list)
 */
const k = {
  stream: (id: string) => `lg:ls:${id}`,
  cohosts: (id: string) => `lg:ls:${id}:cohosts`,
  invites: (id: string) => `lg:ls:${id}:invites`,
  viewers: (id: string) => `lg:ls:${id}:viewers`,
  nodeStreams: (node: string) => `lg:node:${node}:streams`,
  live: 'lg:streams:live',
};
const keysOf = (id: string): string[] => [k.stream(id), k.cohosts(id), k.invites(id), k.viewers(id)];

/** Seconds an ended stream's record is kept. */
const ENDED_TTL_SEC = 86_400;

/*
 * Creates a stream record that is not live yet (expires unless started).
 * KEYS[1] stream hash  KEYS[2] cohosts  KEYS[3] invites  KEYS[4] viewers
 * ARGV[1] hostId  ARGV[2] title  ARGV[3] now (ms)  ARGV[4] seconds to keep it unstarted
 * Returns 'ok' or 'conflict' (the id exists).
 */
const CREATE = new LuaScript(
  'livestream-create',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'conflict' end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'hostId', ARGV[1], 'title', ARGV[2], 'status', 'created', 'createdAt', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 'ok'
`,
);

/*
 * Starts a stream: a new id starts at once, the host's own created stream goes live (its title
 * kept), the host's own live stream is left as it is.
 * KEYS[1] stream hash  KEYS[2] cohosts  KEYS[3] invites  KEYS[4] viewers  KEYS[5] live zset
 * ARGV[1] hostId  ARGV[2] title  ARGV[3] now (ms)  ARGV[4] streamId
 * Returns 'ok' or 'conflict' (someone else's id, or ended).
 */
const START = new LuaScript(
  'livestream-start',
  `
local status = redis.call('HGET', KEYS[1], 'status')
if status then
  if redis.call('HGET', KEYS[1], 'hostId') ~= ARGV[1] or status == 'ended' then return 'conflict' end
  if status == 'live' then return 'ok' end
  redis.call('HSET', KEYS[1], 'status', 'live', 'startedAt', ARGV[3])
  redis.call('PERSIST', KEYS[1])
else
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  redis.call('HSET', KEYS[1], 'hostId', ARGV[1], 'title', ARGV[2], 'status', 'live', 'createdAt', ARGV[3], 'startedAt', ARGV[3])
end
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[4])
return 'ok'
`,
);

/*
 * Ends a live stream (host only).
 * KEYS[1] stream hash  KEYS[2] cohosts  KEYS[3] invites  KEYS[4] viewers  KEYS[5] live zset
 * ARGV[1] userId  ARGV[2] now (ms)  ARGV[3] seconds to keep the ended record  ARGV[4] streamId
 * Returns 'ok', 'not_found' (no such stream, or ended), 'forbidden' (not the host) or
 * 'conflict' (created but never started).
 */
const END = new LuaScript(
  'livestream-end',
  `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'live' and status ~= 'created' then return 'not_found' end
if redis.call('HGET', KEYS[1], 'hostId') ~= ARGV[1] then return 'forbidden' end
if status == 'created' then return 'conflict' end
redis.call('HSET', KEYS[1], 'status', 'ended', 'endedAt', ARGV[2])
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 'ok'
`,
);

/*
 * Co-host invite / accept / kick on a live stream.
 * KEYS[1] stream hash  KEYS[2] cohosts  KEYS[3] invites
 * ARGV[1] op (invite|accept|kick)  ARGV[2] actor userId  ARGV[3] target userId
 * invite: host only, target not the host. accept: the actor must hold an invitation.
 * kick: host only, target must be a co-host. Returns 'ok', 'not_found', 'forbidden' or 'conflict'.
 */
const COHOST = new LuaScript(
  'livestream-cohost',
  `
if redis.call('HGET', KEYS[1], 'status') ~= 'live' then return 'not_found' end
local host = redis.call('HGET', KEYS[1], 'hostId')
local ops = {
  invite = function()
    if ARGV[2] ~= host then return 'forbidden' end
    if ARGV[3] == host then return 'conflict' end
    redis.call('SADD', KEYS[3], ARGV[3])
    return 'ok'
  end,
  accept = function()
    if redis.call('SREM', KEYS[3], ARGV[2]) == 0 then return 'not_found' end
    redis.call('SADD', KEYS[2], ARGV[2])
    return 'ok'
  end,
  kick = function()
    if ARGV[2] ~= host then return 'forbidden' end
    if redis.call('SREM', KEYS[2], ARGV[3]) == 0 then return 'not_found' end
    return 'ok'
  end,
}
return ops[ARGV[1]]()
`,
);

/*
 * Sets one node's viewer count for a stream and returns the stream's total.
 * KEYS[1] stream hash  KEYS[2] viewers hash  KEYS[3] the node's stream set
 * ARGV[1] nodeId  ARGV[2] streamId  ARGV[3] count (absolute)
 * Returns the total, or -1 when the stream is not live (the node's entry is removed).
 */
const SET_VIEWERS = new LuaScript(
  'livestream-set-viewers',
  `
local live = redis.call('HGET', KEYS[1], 'status') == 'live'
local count = tonumber(ARGV[3])
if live and count > 0 then
  redis.call('HSET', KEYS[2], ARGV[1], count)
  redis.call('SADD', KEYS[3], ARGV[2])
else
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[2])
end
if not live then return -1 end
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do total = total + tonumber(v) end
return total
`,
);

/*
 * Removes one node's viewer count from one stream (dead-node cleanup; idempotent).
 * KEYS[1] viewers hash  KEYS[2] the node's stream set
 * ARGV[1] nodeId  ARGV[2] streamId
 */
const DROP_NODE = new LuaScript(
  'livestream-drop-node',
  `
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 0
`,
);

const STATUSES: Record<string, StreamInfo['status']> = { created: 'created', live: 'live', ended: 'ended' };

export class RedisStreamStore implements StreamStore {
  constructor(private readonly redis: Redis) {}

  async create(streamId: string, hostId: string, title: string, now: number): Promise<StreamInfo> {
    check(String(await CREATE.run(this.redis, keysOf(streamId), [hostId, title, now, CREATED_TTL_SEC])), 'livestream:create');
    return (await this.get(streamId))!;
  }

  async start(streamId: string, hostId: string, title: string, now: number): Promise<StreamInfo> {
    check(String(await START.run(this.redis, [...keysOf(streamId), k.live], [hostId, title, now, streamId])), 'livestream:start');
    return (await this.get(streamId))!;
  }

  async end(streamId: string, userId: string, now: number): Promise<StreamInfo> {
    check(String(await END.run(this.redis, [...keysOf(streamId), k.live], [userId, now, ENDED_TTL_SEC, streamId])), 'livestream:end');
    return (await this.get(streamId))!;
  }

  async get(streamId: string): Promise<StreamInfo | undefined> {
    const [[, hash], [, cohosts]] = ((await this.redis.multi().hgetall(k.stream(streamId)).smembers(k.cohosts(streamId)).exec()) ?? []) as [
      [unknown, Record<string, string>],
      [unknown, string[]],
    ];
    if (!hash || !hash['status']) return undefined;
    const startedAt = hash['startedAt'] ? Number(hash['startedAt']) : undefined;
    return {
      streamId,
      hostId: hash['hostId'] ?? '',
      title: hash['title'] ?? '',
      status: STATUSES[hash['status']] ?? 'ended',
      // Records written before `created` existed have no createdAt: they were created when they started.
      createdAt: Number(hash['createdAt'] ?? startedAt ?? 0),
      startedAt,
      endedAt: hash['endedAt'] ? Number(hash['endedAt']) : undefined,
      cohosts: cohosts ?? [],
    };
  }

  async listLive(offset: number, limit: number): Promise<LivePage> {
    const [[, ids], [, total]] = ((await this.redis
      .multi()
      .zrevrange(k.live, offset, offset + limit - 1)
      .zcard(k.live)
      .exec()) ?? []) as [[unknown, string[]], [unknown, number]];
    const streams = (await Promise.all((ids ?? []).map((id) => this.get(id)))).filter((s): s is StreamInfo => s?.status === 'live');
    return { streams, total: Number(total ?? 0) };
  }

  async viewerCount(streamId: string): Promise<number> {
    return (await this.liveViewerCount(streamId))?.viewers ?? 0;
  }

  async liveViewerCount(streamId: string): Promise<{ viewers: number; version: number } | undefined> {
    const [[, status], [, counts], [, time]] = ((await this.redis.multi().hget(k.stream(streamId), 'status').hvals(k.viewers(streamId)).time().exec()) ??
      []) as [[unknown, string | null], [unknown, string[]], [unknown, unknown]];
    if (status !== 'live') return undefined;
    return { viewers: (counts ?? []).reduce((sum, c) => sum + Number(c), 0), version: versionOf(time) };
  }

  async cohost(op: CohostOp, streamId: string, actorId: string, targetId: string): Promise<void> {
    check(
      String(await COHOST.run(this.redis, [k.stream(streamId), k.cohosts(streamId), k.invites(streamId)], [op, actorId, targetId])),
      `livestream:cohost:${op}`,
    );
  }

  async setNodeViewers(streamId: string, nodeId: string, count: number): Promise<number | undefined> {
    const total = Number(await SET_VIEWERS.run(this.redis, [k.stream(streamId), k.viewers(streamId), k.nodeStreams(nodeId)], [nodeId, streamId, count]));
    return total < 0 ? undefined : total;
  }

  async removeNode(nodeId: string): Promise<string[]> {
    const streams = await this.redis.smembers(k.nodeStreams(nodeId));
    await Promise.all(streams.map((id) => DROP_NODE.run(this.redis, [k.viewers(id), k.nodeStreams(nodeId)], [nodeId, id])));
    return streams;
  }

  async close(): Promise<void> {}
}
