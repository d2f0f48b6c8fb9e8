import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LuaScript } from './lua.js';

/**
 * Which gateway nodes are alive. State that nodes contribute to shared Redis structures
 * (viewer counts, connected devices) must vanish when a node dies without saying goodbye
 * (kill -9, power loss). Each node renews a heartbeat key with a short TTL; every node
 * sweeps the node set and, for a node whose heartbeat expired, runs the registered cleanups
 * (each idempotent) before removing it from the set.
 */
export interface NodeLiveness {
  /** A cleanup for a dead node's contributions. Runs on one surviving node, may run again. */
  onNodeDead(cleanup: (deadNodeId: string) => Promise<void>): void;
  /** Called when this node finds it was taken for dead (a long pause): re-assert contributions. */
  onResync(resync: () => Promise<void>): void;
  /**
   * Whether another node is still beating: true at its next renewed heartbeat, false once its
   * heartbeat key expires (NODE_TTL_MS without a beat: the reaper's own definition of dead), so a
   * node that is only slow (a loaded event loop) is never taken for dead here. Waits at most the
   * key's remaining time; for a node killed a moment ago it answers before the reap.
   */
  stillBeating(nodeId: string): Promise<boolean>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Single node: nobody else can die. */
export class LocalLiveness implements NodeLiveness {
  onNodeDead(): void {}
  onResync(): void {}
  async stillBeating(): Promise<boolean> {
    return true;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

const NODES = 'lg:nodes';
const aliveKey = (nodeId: string): string => `lg:node:${nodeId}:alive`;
const reapKey = (nodeId: string): string => `lg:node:${nodeId}:reaping`;

/*
 * Renews this node's heartbeat and membership.
 * KEYS[1]  the node set   KEYS[2] this node's heartbeat key
 * ARGV[1]  node id        ARGV[2] heartbeat TTL in ms
 * Returns 1 if the heartbeat had lapsed (this node may have been reaped), else 0.
 */
const BEAT = new LuaScript(
  'liveness-beat',
  `
local lapsed = redis.call('EXISTS', KEYS[2]) == 0
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
if lapsed then return 1 end
return 0
`,
);

/*
 * Forgets a reaped node, unless it came back meanwhile.
 * KEYS[1]  the node set   KEYS[2] the node's heartbeat key   KEYS[3] its reaping lock
 * ARGV[1]  node id
 */
const FORGET = new LuaScript(
  'liveness-forget',
  `
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SREM', KEYS[1], ARGV[1]) end
redis.call('DEL', KEYS[3])
return 0
`,
);

export class RedisLiveness implements NodeLiveness {
  private readonly cleanups: Array<(deadNodeId: string) => Promise<void>> = [];
  private readonly resyncs: Array<() => Promise<void>> = [];
  private beatTimer: NodeJS.Timeout | undefined;
  private reapTimer: NodeJS.Timeout | undefined;
  private reaping: Promise<void> | undefined;
  private beating = false;

  constructor(
    private readonly redis: Redis,
    private readonly nodeId: string,
    private readonly heartbeatMs: number,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  onNodeDead(cleanup: (deadNodeId: string) => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  onResync(resync: () => Promise<void>): void {
    this.resyncs.push(resync);
  }

  async stillBeating(nodeId: string): Promise<boolean> {
    if (nodeId === this.nodeId) return true;
    let last = await this.redis.pttl(aliveKey(nodeId));
    const poll = Math.max(20, Math.ceil(this.heartbeatMs / 4));
    while (last > 0) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(poll, last + 5)));
      const now = await this.redis.pttl(aliveKey(nodeId));
      // Without a new beat the key's remaining time only shrinks.
      if (now > last) return true;
      last = now;
    }
    return false;
  }

  async start(): Promise<void> {
    // A previous process with the same NODE_ID may have left contributions behind.
    await this.runCleanups(this.nodeId);
    await this.beat();
    // The heartbeat has its own timer: a long reap (many dead nodes, many users) never delays it.
    this.beatTimer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.reapTimer = setInterval(() => {
      if (this.reaping) return;
      this.reaping = this.reap()
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'reaping dead nodes failed'))
        .finally(() => (this.reaping = undefined));
    }, this.heartbeatMs);
    this.beatTimer.unref();
    this.reapTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.beatTimer);
    clearInterval(this.reapTimer);
    await this.reaping;
    // Leaving cleanly: our contributions were removed by the modules' own stop; drop the heartbeat.
    await this.redis
      .multi()
      .del(aliveKey(this.nodeId))
      .srem(NODES, this.nodeId)
      .exec()
      .catch(() => undefined);
  }

  private async beat(): Promise<void> {
    try {
      const lapsed = (await BEAT.run(this.redis, [NODES, aliveKey(this.nodeId)], [this.nodeId, this.ttlMs])) === 1;
      if (lapsed && this.beating) {
        this.log.warn("heartbeat had lapsed; re-asserting this node's shared state");
        for (const resync of this.resyncs) await resync();
      }
      this.beating = true;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat failed');
    }
  }

  private async reap(): Promise<void> {
    const nodes = (await this.redis.smembers(NODES)).filter((id) => id !== this.nodeId);
    if (nodes.length === 0) return;
    const alive = await Promise.all(nodes.map((id) => this.redis.exists(aliveKey(id))));
    await Promise.all(nodes.filter((_, i) => alive[i] !== 1).map((id) => this.reapOne(id)));
  }

  private async reapOne(id: string): Promise<void> {
    // One reaper at a time per dead node; the lock expires if that reaper dies too.
    const locked = await this.redis.set(reapKey(id), this.nodeId, 'PX', 10_000, 'NX');
    if (locked !== 'OK') return;
    this.log.warn({ deadNode: id }, 'node heartbeat expired; removing its viewers and devices');
    await this.runCleanups(id);
    await FORGET.run(this.redis, [NODES, aliveKey(id), reapKey(id)], [id]);
  }

  /** The cleanups are independent (viewer counts, devices): they run side by side. */
  private async runCleanups(nodeId: string): Promise<void> {
    await Promise.all(this.cleanups.map((cleanup) => cleanup(nodeId)));
  }
}
