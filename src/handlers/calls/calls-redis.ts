import type { Redis } from 'ioredis';
import { LuaScript } from '../../rooms/lua.js';
import type { CallStore, CommitPlan, CommitResult } from './calls.js';
import type { CallState } from './model.js';

/*
 * Key layout (all on the shared-state Redis, core.redis):
 *   lg:call:<callId>         hash    v (version), json (the CallState)
 *   lg:call:busy:<userId>    string  the callId a user is ringing or joined in
 *   lg:calls:due             zset    callId -> ms of its next timer (ring timeout, grace end, or a sweep lease)
 *   lg:node:<node>:calls     set     live calls with a device on that node (dead-node cleanup)
 */
const k = {
  call: (id: string) => `lg:call:${id}`,
  busy: (userId: string) => `lg:call:busy:${userId}`,
  due: 'lg:calls:due',
  node: (node: string) => `lg:node:${node}:calls`,
};

/*
 * Writes a call by compare-and-set on its version, with its busy marks, timer and node index.
 * KEYS[1] call hash  KEYS[2] due zset  then nEngage busy keys, nRelease busy keys, nAdd node sets, nRemove node sets
 * ARGV[1] new version  ARGV[2] call JSON  ARGV[3] callId  ARGV[4] deadline ms ('' = none)
 * ARGV[5] ms to keep the call ('' = until it ends)  ARGV[6] nEngage  ARGV[7] nRelease  ARGV[8] nAdd  ARGV[9] nRemove
 * Returns 'ok', 'stale' (the stored version is not ARGV[1] - 1) or 'busy:<i>' (the i-th engaged user
 * is marked for another call that still exists; nothing written).
 */
const COMMIT = new LuaScript(
  'calls-commit',
  `
local v = tonumber(ARGV[1])
local stored = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if stored ~= v - 1 then return 'stale' end
local nEngage, nRelease, nAdd, nRemove = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local at = 3
for j = 0, nEngage - 1 do
  local holder = redis.call('GET', KEYS[at + j])
  if holder and holder ~= ARGV[3] and redis.call('EXISTS', 'lg:call:' .. holder) == 1 then return 'busy:' .. j end
end
for j = 0, nEngage - 1 do redis.call('SET', KEYS[at + j], ARGV[3]) end
at = at + nEngage
for j = 0, nRelease - 1 do
  if redis.call('GET', KEYS[at + j]) == ARGV[3] then redis.call('DEL', KEYS[at + j]) end
end
at = at + nRelease
for j = 0, nAdd - 1 do redis.call('SADD', KEYS[at + j], ARGV[3]) end
at = at + nAdd
for j = 0, nRemove - 1 do redis.call('SREM', KEYS[at + j], ARGV[3]) end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'json', ARGV[2])
if ARGV[5] == '' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[3]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3]) end
return 'ok'
`,
);

/*
 * Leases the due calls to the caller: their score moves to now + lease, so each is handed to one
 * sweeper, and again to any node's sweep if that one does not commit within the lease.
 * KEYS[1] due zset  ARGV[1] now (ms)  ARGV[2] lease (ms)  ARGV[3] limit
 * Returns the leased callIds.
 */
const CLAIM = new LuaScript(
  'calls-claim-due',
  `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local leased = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], leased, id) end
return ids
`,
  1,
);

/*
 * Puts a call's deadline back after a claim found nothing due, if the call was not changed since.
 * KEYS[1] call hash  KEYS[2] due zset  ARGV[1] version  ARGV[2] callId  ARGV[3] deadline ms ('' = none)
 */
const RESCHEDULE = new LuaScript(
  'calls-reschedule',
  `
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[2], ARGV[2]) else redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2]) end
return 1
`,
  2,
);

export class RedisCallStore implements CallStore {
  constructor(private readonly redis: Redis) {}

  async get(callId: string): Promise<CallState | undefined> {
    const json = await this.redis.hget(k.call(callId), 'json');
    return json ? (JSON.parse(json) as CallState) : undefined;
  }

  async commit(next: CallState, plan: CommitPlan): Promise<CommitResult> {
    const keys = [
      k.call(next.callId),
      k.due,
      ...plan.engage.map(k.busy),
      ...plan.release.map(k.busy),
      ...plan.nodesAdd.map(k.node),
      ...plan.nodesRemove.map(k.node),
    ];
    const reply = String(
      await COMMIT.run(this.redis, keys, [
        next.version,
        JSON.stringify(next),
        next.callId,
        plan.deadline ?? '',
        plan.keepMs ?? '',
        plan.engage.length,
        plan.release.length,
        plan.nodesAdd.length,
        plan.nodesRemove.length,
      ]),
    );
    if (reply === 'ok') return { kind: 'ok' };
    if (reply === 'stale') return { kind: 'stale' };
    return { kind: 'busy', userId: plan.engage[Number(reply.slice('busy:'.length))] ?? '' };
  }

  async currentCallOf(userId: string): Promise<string | undefined> {
    const callId = await this.redis.get(k.busy(userId));
    if (!callId) return undefined;
    return (await this.redis.exists(k.call(callId))) === 1 ? callId : undefined;
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<string[]> {
    const ids = await CLAIM.run(this.redis, [k.due], [now, leaseMs, limit]);
    return Array.isArray(ids) ? ids.map(String) : [];
  }

  async reschedule(callId: string, version: number, deadline: number | undefined): Promise<void> {
    await RESCHEDULE.run(this.redis, [k.call(callId), k.due], [version, callId, deadline ?? '']);
  }

  async callsOnNode(nodeId: string): Promise<string[]> {
    return this.redis.smembers(k.node(nodeId));
  }
}
