/**
 * Presence churn: users connect (token verified, session:ready) and disconnect in a loop while
 * watchers that follow them and presence:subscribe to them receive the online/offline changes.
 * One node (memory presence store), or two over Redis with the churning users on node 1 and the
 * watchers on node 2 (every change crosses the bus). Closed loop: `workers` concurrent cycles.
 */
import { Loadgen } from './loadgen.js';
import { bottleneck, utilisation, type Utilisation } from './measure.js';
import { sleep } from './proc.js';
import { progress, putSpread, type Row } from './row.js';
import { latency } from './stats.js';
import type { Target } from './targets.js';
import { baseRow, Meter, withDeployment, type Ctx } from './workloads.js';

export interface PresenceConfig {
  /** Concurrent connect/disconnect loops. */
  workers: number;
  /** Distinct churning users the workers cycle through (each followed by every watcher). */
  users: number;
  watchers: number;
  /** How long a user stays connected after session:ready (0: close at once). */
  holdMs: number;
  warmMs: number;
  windowMs: number;
  repeats: number;
}

const OFFSET = 6_000_000;
let presenceRuns = 0;

export async function presence(ctx: Ctx, target: Target, cfg: PresenceConfig): Promise<Row> {
  const row = baseRow(ctx, 'presence', target, {
    workers: cfg.workers,
    users: cfg.users,
    watchers: cfg.watchers,
    hold_ms: cfg.holdMs,
    window_ms: cfg.windowMs,
    repeats: cfg.repeats,
  });
  progress(
    `presence · ${target.label}: ${cfg.workers} workers churn ${cfg.users} users, ${cfg.watchers} watchers subscribed to all of them${target.nodes > 1 ? ' (churn on node 1, watchers on node 2)' : ''}`,
  );
  return withDeployment(ctx, row, target, async (dep) => {
    const offset = OFFSET + ++presenceRuns * 10_000;
    const { gen } = await Loadgen.start({
      mode: 'presence',
      proto: 'native',
      readyEvent: 'session:ready',
      urls: dep.urls.slice(0, 1),
      watchUrls: dep.urls.slice(-1),
      secret: ctx.env.secret,
      n: cfg.workers,
      users: cfg.users,
      watchers: cfg.watchers,
      holdMs: cfg.holdMs,
      offset,
    });
    try {
      const meter = new Meter(dep.pids, () => [gen.pid], target.nodes > 1 ? ctx.redisPid : undefined);
      await sleep(cfg.warmMs);
      const cols = {
        cycles: [] as number[],
        changes: [] as number[],
        seen: [] as number[],
        onP50: [] as number[],
        onP99: [] as number[],
        offP50: [] as number[],
        offP99: [] as number[],
        cpu: [] as number[],
        redis: [] as number[],
        client: [] as number[],
        cycleP99: [] as number[],
      };
      let lastUtil: Utilisation | undefined;
      for (let r = 0; r < cfg.repeats; r++) {
        await gen.reset();
        const { value: rep, cpu } = await meter.window(cfg.windowMs, () => gen.report());
        const util = utilisation(cpu);
        lastUtil = util;
        const cycles = rep.count ?? 0;
        const seen = (rep.online ?? 0) + (rep.offline ?? 0);
        const expected = 2 * cycles * cfg.watchers;
        const on = latency(rep.on_hist ?? [], rep.on_max_us ?? 0);
        const off = latency(rep.off_hist ?? [], rep.off_max_us ?? 0);
        const cyc = latency(rep.hist ?? [], rep.max_us ?? 0);
        const serverCpu = cpu.servers.reduce((a, b) => a + b, 0);
        cols.cycles.push(cycles / cpu.wall);
        cols.changes.push(seen / cpu.wall);
        cols.seen.push(expected ? seen / expected : Number.NaN);
        cols.onP50.push(on.p50Ms);
        cols.onP99.push(on.p99Ms);
        cols.offP50.push(off.p50Ms);
        cols.offP99.push(off.p99Ms);
        cols.cycleP99.push(cyc.p99Ms);
        cols.cpu.push(cycles ? (serverCpu * 1000) / cycles : Number.NaN);
        cols.redis.push(cycles ? (cpu.redis * 1000) / cycles : Number.NaN);
        cols.client.push(util.client);
        if ((rep.errors ?? 0) > 0) row.notes.push(`${rep.errors} failed connects (${rep.error})`);
        if ((rep.stale ?? 0) > 0) row.notes.push(`${rep.stale} changes arrived after the same user's next cycle had begun (not timed)`);
        if ((rep.dropped ?? 0) > 0) row.notes.push(`${rep.dropped} watcher sockets closed`);
        row.samples.push({
          cycles,
          cycles_per_s: cycles / cpu.wall,
          online_seen: rep.online ?? 0,
          offline_seen: rep.offline ?? 0,
          expected,
          stale: rep.stale ?? 0,
          on_p50_ms: on.p50Ms,
          on_p99_ms: on.p99Ms,
          off_p50_ms: off.p50Ms,
          off_p99_ms: off.p99Ms,
          cycle_p99_ms: cyc.p99Ms,
          errors: rep.errors ?? 0,
          cpu,
        });
        progress(
          `  ${target.id}: ${Math.round(cycles / cpu.wall)} connect+disconnect/s, ${Math.round(seen / cpu.wall)} presence changes/s seen (${((seen / Math.max(1, expected)) * 100).toFixed(1)}% of 2 × cycles × watchers), online p99 ${on.p99Ms.toFixed(1)} ms, offline p99 ${off.p99Ms.toFixed(1)} ms, server ${util.serverSum.toFixed(2)} / redis ${util.redis.toFixed(2)} / client ${util.client.toFixed(2)} / box ${util.machine.toFixed(2)} cores`,
        );
      }
      const put = (key: string, values: number[]): void => putSpread(row, key, values);
      put('cycles_per_s', cols.cycles);
      put('changes_per_s', cols.changes);
      put('seen_ratio', cols.seen);
      put('online_p50_ms', cols.onP50);
      put('online_p99_ms', cols.onP99);
      put('offline_p50_ms', cols.offP50);
      put('offline_p99_ms', cols.offP99);
      put('cycle_p99_ms', cols.cycleP99);
      put('server_cpu_ms_per_cycle', cols.cpu);
      put('redis_cpu_ms_per_cycle', cols.redis);
      put('client_cores', cols.client);
      if (lastUtil) row.bottleneck = lastUtil.redis >= 0.9 ? `Redis CPU (${lastUtil.redis.toFixed(2)} cores)` : bottleneck(target, lastUtil);
    } finally {
      await gen.quit();
    }
  });
}
