/**
 * The workloads: fan-out and many rooms (a rate sweep, then repeats at the best rate), idle
 * connections (server RSS per connection), connection churn, and HTTP (autocannon).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InspectorProfiler } from './inspector.js';
import { Loadgen, ROOT, type Report } from './loadgen.js';
import { bottleneck, utilisation, type CpuSample, type Utilisation } from './measure.js';
import { cpuSeconds, machineBusySeconds, rssBytes, sleep, spawnTracked } from './proc.js';
import { progress, putSpread, type Row } from './row.js';
import { P99_LIMIT_MS, latency, mergeHistograms, spread, type Latency } from './stats.js';
import type { Deployment, RunEnv, Target } from './targets.js';

export interface Ctx {
  suite: string;
  env: RunEnv;
  runId: string;
  redisPid: number | undefined;
  /** The FerretDB process (MongoDB for gifts and chat), when one runs. */
  mongoPid?: number | undefined;
}

/** livegate says when a native connection's token is verified (session:ready); clients wait for it. */
export const readyFor = (target: Target): { readyEvent?: string } => (target.family === 'livegate' ? { readyEvent: 'session:ready' } : {});

export function baseRow(ctx: Ctx, workload: Row['workload'], target: Target, params: Row['params']): Row {
  return {
    suite: ctx.suite,
    workload,
    target: target.id,
    label: target.label,
    nodes: target.nodes,
    status: 'ok',
    params,
    metrics: {},
    spreads: {},
    bottleneck: '',
    notes: [],
    samples: [],
  };
}

/** Starts a target, runs `body`, always stops the servers; failures become a failed row. */
export async function withDeployment(ctx: Ctx, row: Row, target: Target, body: (dep: Deployment) => Promise<void>): Promise<Row> {
  const why = target.unavailable(ctx.env);
  if (why) {
    row.status = 'skipped';
    row.reason = why;
    progress(`  ${target.id}: skipped (${why})`);
    return row;
  }
  let dep: Deployment | undefined;
  try {
    dep = await target.start(ctx.env);
    await body(dep);
  } catch (err) {
    row.status = 'failed';
    row.reason = err instanceof Error ? err.message : String(err);
    progress(`  ${target.id}: FAILED ${row.reason}`);
  } finally {
    const warnings = dep?.warnings() ?? [];
    if (warnings.length) row.notes.push(...warnings.slice(0, 3).map((w) => `server said: ${w}`));
    await dep?.stop();
  }
  return row;
}

export class Meter {
  private t0 = 0;
  private s0: number[] = [];
  private r0 = 0;
  private c0 = 0;
  private m0 = { busy: 0, softirq: 0 };
  private g0 = 0;
  constructor(
    private readonly servers: number[],
    private readonly clients: () => number[],
    private readonly redisPid: number | undefined,
    private readonly mongoPid?: number,
  ) {}
  begin(): void {
    this.t0 = performance.now();
    this.s0 = this.servers.map(cpuSeconds);
    this.r0 = this.redisPid ? cpuSeconds(this.redisPid) : 0;
    this.c0 = this.clients().reduce((s, p) => s + cpuSeconds(p), 0);
    this.g0 = this.mongoPid ? cpuSeconds(this.mongoPid) : 0;
    this.m0 = machineBusySeconds();
  }
  end(): CpuSample {
    return {
      wall: (performance.now() - this.t0) / 1000,
      servers: this.servers.map((p, i) => cpuSeconds(p) - this.s0[i]!),
      redis: this.redisPid ? cpuSeconds(this.redisPid) - this.r0 : 0,
      ...(this.mongoPid ? { mongo: cpuSeconds(this.mongoPid) - this.g0 } : {}),
      client: this.clients().reduce((s, p) => s + cpuSeconds(p), 0) - this.c0,
      ...((m) => ({ machine: m.busy - this.m0.busy, softirq: m.softirq - this.m0.softirq }))(machineBusySeconds()),
    };
  }
  /** One measured window: CPU from now, `ms` of load, then `collect` (the load generators' reports) inside it. */
  async window<T>(ms: number, collect: () => Promise<T>): Promise<{ value: T; cpu: CpuSample }> {
    this.begin();
    await sleep(ms);
    const value = await collect();
    return { value, cpu: this.end() };
  }
}

// ---------------------------------------------------------------- fan-out and many rooms

export interface SweepConfig {
  subscribers: number;
  rooms: number;
  /** Publish rates to try, in messages per second, lowest first. */
  rates: number[];
  warmMs: number;
  windowMs: number;
  repeats: number;
  subProcs: number;
  pubConns: number;
  /**
   * Least time between two reads of a subscriber socket. The kernel's cost of a loopback read
   * (and the ACK it sends) is several µs, more than parsing a frame: reading each frame alone
   * made the client the bottleneck at 0.3–0.6 M deliveries/s. Batching the frames of a few
   * milliseconds per read moves the limit to the server, at a latency cost of at most pollMs.
   */
  pollMs: number;
  /** The sweep starts no new rate after this long (keeps the suite inside its time bound). */
  budgetMs: number;
  /** Two nodes: how subscribers of a room spread over the nodes (default: alternating). */
  layout?: 'spread' | 'room';
  /** Called once every socket is connected and joined, and after the last rate (profiling). */
  hooks?: { loadStart(dep: Deployment): Promise<void>; loadEnd(dep: Deployment): Promise<void> };
}

interface Step {
  rate: number;
  sent: number;
  expected: number;
  delivered: number;
  deliveriesPerSec: number;
  lat: Latency;
  cpu: CpuSample;
  util: Utilisation;
  serverCpuPerM: number;
  /** The load generators' CPU (subscribers and publisher) per million deliveries. */
  clientCpuPerM: number;
  dropped: number;
  /** The server kept up: the publisher could send, every subscriber got (≥ 95% of) every message. */
  ok: boolean;
  /** p99 under the latency bar. */
  fastEnough: boolean;
  why: string;
}

let sweepCounter = 0;

async function measureStep(
  rate: number,
  subs: Loadgen[],
  pub: Loadgen,
  meter: Meter,
  cfg: SweepConfig,
  open: number,
  target: Target,
  warmMs: number,
): Promise<Step> {
  await pub.rate(rate);
  await sleep(warmMs);
  await Promise.all([...subs.map((g) => g.reset()), pub.reset()]);
  const { value, cpu } = await meter.window(cfg.windowMs, async (): Promise<[Report[], Report]> => [
    await Promise.all(subs.map((g) => g.report())),
    await pub.report(),
  ]);
  const [reports, pr] = value;
  const delivered = reports.reduce((s, r) => s + (r.count ?? 0), 0);
  const lat = latency(mergeHistograms(reports.map((r) => r.hist ?? [])), Math.max(...reports.map((r) => r.max_us ?? 0)));
  const sent = pr.sent ?? 0;
  const expected = (sent * open) / cfg.rooms;
  const dropped = reports.reduce((s, r) => s + (r.dropped ?? 0), 0);
  const util = utilisation(cpu);
  const failures: string[] = [];
  if (sent < 0.9 * rate * cpu.wall) failures.push(`publisher sent only ${((sent / (rate * cpu.wall)) * 100).toFixed(0)}% of the rate`);
  if (delivered < 0.95 * expected) failures.push(`delivered ${((delivered / Math.max(1, expected)) * 100).toFixed(0)}% of expected`);
  if (dropped > 0) failures.push(`${dropped} subscriber sockets closed`);
  const fastEnough = lat.p99Ms < P99_LIMIT_MS;
  const deliveriesPerSec = delivered / cpu.wall;
  const serverCpu = cpu.servers.reduce((a, b) => a + b, 0);
  return {
    rate,
    sent,
    expected,
    delivered,
    deliveriesPerSec,
    lat,
    cpu,
    util,
    serverCpuPerM: delivered > 0 ? serverCpu / (delivered / 1e6) : Number.NaN,
    clientCpuPerM: delivered > 0 ? cpu.client / (delivered / 1e6) : Number.NaN,
    dropped,
    ok: failures.length === 0,
    fastEnough,
    why: failures.join(', '),
  };
}

function stepSample(s: Step): Record<string, unknown> {
  return {
    rate: s.rate,
    sent: s.sent,
    expected: Math.round(s.expected),
    delivered: s.delivered,
    deliveries_per_s: Math.round(s.deliveriesPerSec),
    p50_ms: s.lat.p50Ms,
    p99_ms: s.lat.p99Ms,
    max_ms: s.lat.maxMs,
    server_cpu_s_per_m: s.serverCpuPerM,
    client_cpu_s_per_m: s.clientCpuPerM,
    wall_s: s.cpu.wall,
    cpu: s.cpu,
    ok: s.ok,
    p99_ok: s.fastEnough,
    why: s.why,
  };
}

export async function sweep(ctx: Ctx, workload: 'fanout' | 'rooms', target: Target, cfg: SweepConfig): Promise<Row> {
  const row = baseRow(ctx, workload, target, {
    subscribers: cfg.subscribers,
    rooms: cfg.rooms,
    rates: cfg.rates.join(','),
    window_ms: cfg.windowMs,
    repeats: cfg.repeats,
  });
  progress(`${workload} · ${target.label}: ${cfg.subscribers} subscribers in ${cfg.rooms} room(s), rates ${cfg.rates.join('/')} msg/s`);
  return withDeployment(ctx, row, target, async (dep) => {
    // Short room names: livegate and raw uWS put the room in every frame (Socket.IO does not).
    const prefix = `bench:${ctx.runId}${(++sweepCounter).toString(36)}:`;
    const gens: Loadgen[] = [];
    try {
      if (target.nodes > 1) await probeCrossNode(ctx, target, dep, `${prefix}probe`);
      const per = Math.ceil(cfg.subscribers / cfg.subProcs);
      const started = await Promise.all(
        Array.from({ length: cfg.subProcs }, (_, k) =>
          Loadgen.start({
            mode: 'sub',
            proto: target.proto,
            ...readyFor(target),
            urls: dep.urls,
            secret: ctx.env.secret,
            n: Math.min(per, cfg.subscribers - k * per),
            offset: k * per,
            rooms: cfg.rooms,
            prefix,
            pollMs: cfg.pollMs,
            ...(cfg.layout ? { layout: cfg.layout } : {}),
          }),
        ),
      );
      const subs = started.map((s) => s.gen);
      gens.push(...subs);
      const open = started.reduce((s, x) => s + x.ready.open, 0);
      const failed = started.reduce((s, x) => s + (x.ready.failed ?? 0), 0);
      if (failed > 0) row.notes.push(`${failed} of ${cfg.subscribers} subscribers failed to connect: ${started.find((x) => x.ready.error)?.ready.error}`);
      if (open === 0) throw new Error('no subscriber connected');
      // Fan-out publishes from node 1; many rooms publishes from every node.
      const pubUrls = workload === 'fanout' ? dep.urls.slice(0, 1) : dep.urls;
      const { gen: pub } = await Loadgen.start({
        mode: 'pub',
        proto: target.proto,
        ...readyFor(target),
        urls: pubUrls,
        secret: ctx.env.secret,
        n: cfg.pubConns,
        offset: 1_000_000,
        rooms: cfg.rooms,
        prefix,
      });
      gens.push(pub);
      const meter = new Meter(dep.pids, () => gens.map((g) => g.pid), target.nodes > 1 ? ctx.redisPid : undefined);
      await cfg.hooks?.loadStart(dep);

      // Each rate is measured `repeats` times back to back; it is sustained when most windows were.
      // The sweep stops at the first rate that is not, so no backlog spills into a measured window.
      let runs: Step[] | undefined;
      let bestFast: number | undefined;
      let failing: Step | undefined;
      const sweepStart = performance.now();
      for (const rate of cfg.rates) {
        if (performance.now() - sweepStart > cfg.budgetMs) {
          row.notes.push(`sweep stopped before ${rate} msg/s: time budget of ${cfg.budgetMs / 1000} s used`);
          break;
        }
        const windows: Step[] = [];
        for (let r = 0; r < cfg.repeats; r++) {
          const step = await measureStep(rate, subs, pub, meter, cfg, open, target, r === 0 ? cfg.warmMs : 0);
          windows.push(step);
          row.samples.push({ phase: `${rate}#${r + 1}`, ...stepSample(step) });
          progress(
            `  ${target.id} @ ${rate} msg/s${cfg.repeats > 1 ? ` #${r + 1}` : ''}: ${Math.round(step.deliveriesPerSec)} deliveries/s, p99 ${step.lat.p99Ms.toFixed(1)} ms, server ${step.util.serverSum.toFixed(2)} / client ${step.util.client.toFixed(2)} / box ${step.util.machine.toFixed(2)} cores${step.ok ? '' : ` — not sustained: ${step.why}`}`,
          );
          if (windows.filter((w) => !w.ok).length > cfg.repeats / 2) break; // the majority cannot be reached any more
        }
        const sustained = windows.filter((w) => w.ok).length > cfg.repeats / 2;
        if (!sustained) {
          failing = windows.find((w) => !w.ok);
          break;
        }
        runs = windows;
        if (spread(windows.map((w) => w.lat.p99Ms)).median < P99_LIMIT_MS) bestFast = rate;
      }
      await cfg.hooks?.loadEnd(dep);
      const peakStep = row.samples.reduce((a, b) => (Number(b['deliveries_per_s']) > Number(a['deliveries_per_s']) ? b : a));
      row.metrics['peak_deliveries_per_s'] = Number(peakStep['deliveries_per_s']);
      row.metrics['peak_server_cpu_s_per_m'] = Number(peakStep['server_cpu_s_per_m']);
      row.metrics['peak_client_cpu_s_per_m'] = Number(peakStep['client_cpu_s_per_m']);
      row.metrics['peak_client_cores'] = utilisation(peakStep['cpu'] as CpuSample).client;
      if (!runs) {
        row.metrics['best_rate'] = 0;
        row.bottleneck = failing ? bottleneck(target, failing.util) : '';
        row.notes.push(`not sustained even at the lowest rate (${failing?.why})`);
        return;
      }
      const best = runs[0]!;
      const put = (key: string, values: number[]): void => putSpread(row, key, values);
      row.metrics['best_rate'] = best.rate;
      row.metrics['p99_ok_rate'] = bestFast ?? 0;
      put(
        'deliveries_per_s',
        runs.map((s) => s.deliveriesPerSec),
      );
      put(
        'p50_ms',
        runs.map((s) => s.lat.p50Ms),
      );
      put(
        'p99_ms',
        runs.map((s) => s.lat.p99Ms),
      );
      row.metrics['max_ms'] = Math.max(...runs.map((s) => s.lat.maxMs));
      put(
        'server_cpu_s_per_m',
        runs.map((s) => s.serverCpuPerM),
      );
      put(
        'server_cores',
        runs.map((s) => s.util.serverSum),
      );
      put(
        'client_cores',
        runs.map((s) => s.util.client),
      );
      put(
        'others_cores',
        runs.map((s) => s.util.others),
      );
      row.metrics['open_subscribers'] = open;
      const failedRepeats = runs.filter((s) => !s.ok).length;
      if (failedRepeats)
        row.notes.push(`${failedRepeats} of ${runs.length} windows at ${best.rate} msg/s were not sustained (${runs.find((s) => !s.ok)?.why})`);
      if (failing) {
        row.bottleneck = bottleneck(target, failing.util);
        row.notes.push(`next step ${failing.rate} msg/s: ${failing.why}`);
      } else {
        row.bottleneck = `not reached (highest offered rate passed; ${bottleneck(target, best.util)})`;
      }
    } finally {
      await Promise.all(gens.map((g) => g.quit()));
    }
  });
}

/** Two-node runs must really cross nodes: one subscriber per node, publisher on node 1. */
async function probeCrossNode(ctx: Ctx, target: Target, dep: Deployment, room: string): Promise<void> {
  const { gen: sub } = await Loadgen.start({
    mode: 'sub',
    proto: target.proto,
    ...readyFor(target),
    urls: dep.urls,
    secret: ctx.env.secret,
    n: 2,
    offset: 0,
    rooms: 1,
    prefix: room,
  });
  const { gen: pub } = await Loadgen.start({
    mode: 'pub',
    proto: target.proto,
    ...readyFor(target),
    urls: dep.urls.slice(0, 1),
    secret: ctx.env.secret,
    n: 1,
    offset: 500_000,
    rooms: 1,
    prefix: room,
  });
  try {
    await pub.rate(100);
    await sleep(1000);
    await pub.rate(0);
    await sleep(300);
    const sent = (await pub.report()).sent ?? 0;
    const got = (await sub.report()).count ?? 0;
    if (got < 1.9 * sent) {
      throw new Error(
        `no cross-node delivery: ${got} of ${2 * sent} messages reached the two subscribers (one per node); this build's bus does not connect the nodes`,
      );
    }
  } finally {
    await Promise.all([sub.quit(), pub.quit()]);
  }
}

// ---------------------------------------------------------------- idle connections

export interface IdleConfig {
  /** Connection counts, each with the targets measured at that size and how many times. */
  plan: Array<{ size: number; targets: string[]; repeats: number }>;
  subProcs: number;
  settleMs: number;
}

export async function idle(ctx: Ctx, target: Target, cfg: IdleConfig, size: number, repeats: number): Promise<Row> {
  const row = baseRow(ctx, 'idle', target, { connections: size, repeats });
  progress(`idle · ${target.label}: ${size} connections × ${repeats}`);
  const perConn: number[] = [];
  const heapPerConn: number[] = [];
  const rates: number[] = [];
  const clientMb: number[] = [];
  for (let r = 0; r < repeats && row.status === 'ok'; r++) {
    await withDeployment(ctx, row, target, async (dep) => {
      await sleep(300);
      const rss0 = dep.pids.reduce((s, p) => s + rssBytes(p), 0);
      const heap0 = target.family === 'livegate' ? await heapUsed(dep) : Number.NaN;
      const per = Math.ceil(size / cfg.subProcs);
      const gens: Loadgen[] = [];
      try {
        const t0 = performance.now();
        const started = await Promise.all(
          Array.from({ length: cfg.subProcs }, (_, k) =>
            Loadgen.start({
              mode: 'sub',
              proto: target.proto,
              ...readyFor(target),
              urls: dep.urls,
              secret: ctx.env.secret,
              n: Math.min(per, size - k * per),
              offset: k * per,
              join: false,
              readBuf: 4096,
            }),
          ),
        );
        const setupS = (performance.now() - t0) / 1000;
        gens.push(...started.map((s) => s.gen));
        const open = started.reduce((s, x) => s + x.ready.open, 0);
        const failed = started.reduce((s, x) => s + (x.ready.failed ?? 0), 0);
        if (failed > 0) row.notes.push(`${failed} of ${size} connections failed: ${started.find((x) => x.ready.error)?.ready.error}`);
        if (open === 0) throw new Error('no connection opened');
        await sleep(cfg.settleMs);
        const rss1 = dep.pids.reduce((s, p) => s + rssBytes(p), 0);
        const still = (await Promise.all(gens.map((g) => g.report()))).reduce((s, x) => s + (x.dropped ?? 0), 0);
        if (still > 0) row.notes.push(`${still} connections were closed by the server while idle`);
        const kb = (rss1 - rss0) / 1024 / open;
        perConn.push(kb);
        const heapKb = ((target.family === 'livegate' ? await heapUsed(dep) : Number.NaN) - heap0) / 1024 / open;
        if (Number.isFinite(heapKb)) heapPerConn.push(heapKb);
        rates.push(open / setupS);
        clientMb.push(gens.reduce((s, g) => s + rssBytes(g.pid), 0) / 1024 / 1024);
        row.samples.push({ open, failed, rss_before_mb: rss0 / 2 ** 20, rss_after_mb: rss1 / 2 ** 20, kb_per_conn: kb, setup_s: setupS });
        progress(
          `  ${target.id}: ${open} open, server RSS ${(rss0 / 2 ** 20).toFixed(0)} -> ${(rss1 / 2 ** 20).toFixed(0)} MB = ${kb.toFixed(1)} KB/connection; ${Math.round(open / setupS)} connects/s during setup`,
        );
      } finally {
        await Promise.all(gens.map((g) => g.quit()));
      }
    });
  }
  if (perConn.length) {
    row.spreads['kb_per_conn'] = spread(perConn);
    row.metrics['kb_per_conn'] = row.spreads['kb_per_conn'].median;
    row.spreads['setup_connects_per_s'] = spread(rates);
    row.metrics['setup_connects_per_s'] = row.spreads['setup_connects_per_s'].median;
    row.metrics['client_rss_mb'] = spread(clientMb).median;
    if (heapPerConn.length) {
      row.metrics['js_heap_kb_per_conn'] = spread(heapPerConn).median;
      row.notes.push(
        `JS heap used grew ${row.metrics['js_heap_kb_per_conn'].toFixed(1)} KB per connection (nodejs_heap_size_used_bytes; includes garbage not yet collected)`,
      );
    }
    row.bottleneck = 'n/a (memory)';
  }
  return row;
}

/** livegate's own figure for the V8 heap in use (prom-client default metrics on /metrics). */
async function heapUsed(dep: Deployment): Promise<number> {
  try {
    const text = await (await fetch(`${dep.http}/metrics`)).text();
    const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(text);
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * Live memory per idle connection: RSS after a full GC (through the inspector) before the
 * connections and again with them open. The idle workload's figure (RSS 1.5 s after connecting,
 * no GC) also counts the connect path's garbage that V8 has not collected yet; this one does not.
 * Node targets only (the GC is V8's).
 */
export async function idleLive(ctx: Ctx, target: Target, size: number): Promise<{ open: number; kbPerConn: number; rssBefore: number; rssAfter: number }> {
  const dep = await target.start({ ...ctx.env, inspect: true });
  const gens: Loadgen[] = [];
  const inspector = await InspectorProfiler.connect(dep.inspectPorts[0]!);
  const settledRss = async (): Promise<number> => {
    await inspector.collectGarbage();
    await sleep(300);
    return rssBytes(dep.pids[0]!);
  };
  try {
    await sleep(300);
    const rssBefore = await settledRss();
    const started = await Promise.all(
      [0, 1].map((k) =>
        Loadgen.start({
          mode: 'sub',
          proto: target.proto,
          ...readyFor(target),
          urls: dep.urls,
          secret: ctx.env.secret,
          n: size / 2,
          offset: (k * size) / 2,
          join: false,
          readBuf: 4096,
        }),
      ),
    );
    gens.push(...started.map((s) => s.gen));
    await sleep(1500);
    const rssAfter = await settledRss();
    const open = started.reduce((s, x) => s + x.ready.open, 0);
    return { open, kbPerConn: (rssAfter - rssBefore) / 1024 / open, rssBefore, rssAfter };
  } finally {
    inspector.close();
    await Promise.all(gens.map((g) => g.quit()));
    await dep.stop();
  }
}

/** Heap snapshots of a livegate node before and after opening `size` idle connections. */
export async function idleHeap(ctx: Ctx, target: Target, size: number, dir: string): Promise<{ before: string; after: string; open: number }> {
  const dep = await target.start({ ...ctx.env, heapDir: dir });
  const gens: Loadgen[] = [];
  try {
    await sleep(300);
    const before = await snapshot(dep.pids[0]!, dir);
    const started = await Promise.all(
      [0, 1].map((k) =>
        Loadgen.start({
          mode: 'sub',
          proto: target.proto,
          ...readyFor(target),
          urls: dep.urls,
          secret: ctx.env.secret,
          n: size / 2,
          offset: (k * size) / 2,
          join: false,
          readBuf: 4096,
        }),
      ),
    );
    gens.push(...started.map((s) => s.gen));
    await sleep(1000);
    const after = await snapshot(dep.pids[0]!, dir);
    return { before, after, open: started.reduce((s, x) => s + x.ready.open, 0) };
  } finally {
    await Promise.all(gens.map((g) => g.quit()));
    await dep.stop();
  }
}

/** Sends SIGUSR2 and waits until the new .heapsnapshot file stops growing. */
async function snapshot(pid: number, dir: string): Promise<string> {
  const existing = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await sleep(200);
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !existing.has(f));
    if (!file) continue;
    const size1 = statSync(join(dir, file)).size;
    await sleep(500);
    if (size1 > 0 && statSync(join(dir, file)).size === size1) return join(dir, file);
  }
  throw new Error('heap snapshot did not appear');
}

// ---------------------------------------------------------------- connection churn

export interface ChurnConfig {
  workers: number;
  warmMs: number;
  windowMs: number;
  repeats: number;
}

export async function churn(ctx: Ctx, target: Target, cfg: ChurnConfig): Promise<Row> {
  const row = baseRow(ctx, 'churn', target, { workers: cfg.workers, window_ms: cfg.windowMs, repeats: cfg.repeats });
  progress(`churn · ${target.label}: ${cfg.workers} workers connect+authenticate+close in a loop`);
  return withDeployment(ctx, row, target, async (dep) => {
    const { gen } = await Loadgen.start({ mode: 'churn', proto: target.proto, ...readyFor(target), urls: dep.urls, secret: ctx.env.secret, n: cfg.workers });
    try {
      const meter = new Meter(dep.pids, () => [gen.pid], undefined);
      await sleep(cfg.warmMs);
      const rates: number[] = [];
      const p99s: number[] = [];
      const cpuMs: number[] = [];
      let lastUtil: Utilisation | undefined;
      for (let r = 0; r < cfg.repeats; r++) {
        await gen.reset();
        const { value: rep, cpu } = await meter.window(cfg.windowMs, () => gen.report());
        const count = rep.count ?? 0;
        const lat = latency(rep.hist ?? [], rep.max_us ?? 0);
        const util = utilisation(cpu);
        lastUtil = util;
        rates.push(count / cpu.wall);
        p99s.push(lat.p99Ms);
        cpuMs.push(count > 0 ? (cpu.servers.reduce((a, b) => a + b, 0) * 1000) / count : Number.NaN);
        if ((rep.errors ?? 0) > 0) row.notes.push(`${rep.errors} failed connects (${rep.error})`);
        row.samples.push({ cycles: count, cycles_per_s: count / cpu.wall, p50_ms: lat.p50Ms, p99_ms: lat.p99Ms, errors: rep.errors ?? 0, cpu });
        progress(
          `  ${target.id}: ${Math.round(count / cpu.wall)} connect+close/s, p99 ${lat.p99Ms.toFixed(1)} ms, server ${util.serverSum.toFixed(2)} / client ${util.client.toFixed(2)} cores`,
        );
      }
      row.spreads['cycles_per_s'] = spread(rates);
      row.metrics['cycles_per_s'] = row.spreads['cycles_per_s'].median;
      row.metrics['p99_ms'] = spread(p99s).median;
      row.metrics['server_cpu_ms_per_cycle'] = spread(cpuMs).median;
      row.bottleneck = lastUtil ? bottleneck(target, lastUtil) : '';
    } finally {
      await gen.quit();
    }
  });
}

// ---------------------------------------------------------------- HTTP

export interface HttpConfig {
  connections: number;
  durationS: number;
  repeats: number;
}

export interface Endpoint {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

interface HttpLoadResult {
  requestsPerSec: number;
  total: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  cpuS: number;
}

function runHttpLoad(url: string, ep: Endpoint, cfg: HttpConfig): Promise<{ result: HttpLoadResult; pid: number }> {
  const child = spawnTracked(
    process.execPath,
    [join(ROOT, 'dist', 'bench', 'lib', 'http-load.js'), url, ep.method, ep.body ?? '', String(cfg.durationS), String(cfg.connections)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      try {
        resolve({ result: JSON.parse(out) as HttpLoadResult, pid: child.pid ?? 0 });
      } catch {
        reject(new Error(`http-load exited ${code}: ${out.slice(0, 200)}`));
      }
    });
  });
}

export async function http(ctx: Ctx, target: Target, ep: Endpoint, cfg: HttpConfig): Promise<Row> {
  const row = baseRow(ctx, 'http', target, {
    endpoint: `${ep.method} ${ep.path}`,
    connections: cfg.connections,
    duration_s: cfg.durationS,
    repeats: cfg.repeats,
  });
  progress(`http · ${target.label}: ${ep.method} ${ep.path}, ${cfg.connections} connections`);
  return withDeployment(ctx, row, target, async (dep) => {
    const rps: number[] = [];
    const p99: number[] = [];
    const serverUs: number[] = [];
    let util: Utilisation | undefined;
    for (let r = 0; r < cfg.repeats; r++) {
      const meter = new Meter(dep.pids, () => [], undefined);
      meter.begin();
      const { result } = await runHttpLoad(dep.http + ep.path, ep, cfg);
      const cpu = meter.end();
      cpu.client = result.cpuS;
      serverUs.push(result.total > 0 ? (cpu.servers.reduce((a, b) => a + b, 0) * 1e6) / result.total : Number.NaN);
      util = utilisation(cpu);
      rps.push(result.requestsPerSec);
      p99.push(result.p99Ms);
      if (result.errors || result.non2xx) row.notes.push(`${result.errors} errors, ${result.non2xx} non-2xx answers`);
      row.samples.push({ ...result, cpu });
      progress(
        `  ${target.id}: ${Math.round(result.requestsPerSec)} req/s, p99 ${result.p99Ms} ms, server ${util.serverSum.toFixed(2)} / autocannon ${util.client.toFixed(2)} cores`,
      );
    }
    row.spreads['requests_per_s'] = spread(rps);
    row.metrics['requests_per_s'] = row.spreads['requests_per_s'].median;
    row.metrics['p99_ms'] = spread(p99).median;
    row.metrics['server_cpu_us_per_request'] = spread(serverUs).median;
    row.bottleneck = util ? bottleneck(target, util) : '';
  });
}
