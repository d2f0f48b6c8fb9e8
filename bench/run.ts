/**
 * The benchmark command. `npm run bench` (full, ≤ 10 min) or `npm run bench:quick` (≤ 2 min):
 * builds the Go loadgen, starts its own Redis, runs every workload against every target that
 * can run here, prints progress, and writes bench/results/<suite>.jsonl and bench/RESULTS.md.
 * Options: --quick, --only=<target ids>, --workloads=<fanout,rooms,idle,gifts,churn,chat,presence,http>, --no-write,
 * --profile (livegate only, under node --cpu-prof: writes bench/PROFILE.md instead of the results).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, totalmem, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chat, type ChatConfig } from './lib/chat.js';
import { gifts, type GiftConfig } from './lib/gifts.js';
import { census, growthMarkdown, ownersMarkdown } from './lib/heap.js';
import { InspectorProfiler } from './lib/inspector.js';
import { LOADGEN_BIN, ROOT } from './lib/loadgen.js';
import { presence, type PresenceConfig } from './lib/presence.js';
import { freePort, killAll, loadAverage, spawnTracked, stopProcess, waitForLine } from './lib/proc.js';
import { profileMarkdown, summariseProfile } from './lib/profile.js';
import { writeJsonLines, writeResultsMd, type RunInfo } from './lib/report.js';
import { progress, type Row } from './lib/row.js';
import { fmtMs, fmtRate } from './lib/stats.js';
import { centrifugoBinary, DIAGNOSTIC_TARGETS, RAW_UWS, TARGETS, type Deployment, type RunEnv, type Target } from './lib/targets.js';
import {
  churn,
  http,
  idle,
  idleHeap,
  idleLive,
  sweep,
  type ChurnConfig,
  type Ctx,
  type Endpoint,
  type HttpConfig,
  type IdleConfig,
  type SweepConfig,
} from './lib/workloads.js';

interface Suite {
  name: 'full' | 'quick';
  fanout: SweepConfig & { targets: string[] };
  rooms: SweepConfig & { targets: string[] };
  idle: IdleConfig;
  gifts: GiftConfig;
  churn: ChurnConfig & { targets: string[] };
  chat: ChatConfig;
  presence: PresenceConfig & { targets: string[] };
  http: HttpConfig & { targets: string[]; endpoints: Endpoint[] };
}

const ALL = TARGETS.map((t) => t.id);
const ONE_NODE = TARGETS.filter((t) => t.nodes === 1).map((t) => t.id);
const ENDPOINTS: Endpoint[] = [
  { name: 'healthz', method: 'GET', path: '/healthz' },
  { name: 'echo', method: 'POST', path: '/api/bench/echo', body: JSON.stringify({ roomId: 'r1', text: 'hello', amount: 5 }) },
];

const SUITES: Record<Suite['name'], Suite> = {
  full: {
    name: 'full',
    fanout: {
      targets: ALL,
      subscribers: 1000,
      rooms: 1,
      rates: [250, 500, 1000, 1250, 1500, 2000],
      warmMs: 400,
      windowMs: 1200,
      repeats: 3,
      subProcs: 2,
      pubConns: 1,
      pollMs: 2,
      budgetMs: 30_000,
    },
    rooms: {
      targets: ALL,
      subscribers: 5000,
      rooms: 500,
      rates: [1000, 3000, 6000, 9000, 12_000, 15_000],
      warmMs: 400,
      windowMs: 1200,
      repeats: 3,
      subProcs: 2,
      pubConns: 4,
      pollMs: 2,
      budgetMs: 36_000,
      layout: 'room',
    },
    idle: {
      plan: [
        { size: 10_000, targets: ONE_NODE, repeats: 1 },
        { size: 18_000, targets: ['livegate', 'raw-uws'], repeats: 2 },
      ],
      subProcs: 2,
      settleMs: 1500,
    },
    gifts: {
      senders: 200,
      window: 8,
      viewers: 200,
      rates: [500, 1000, 2000, 4000, 8000, 16_000, 24_000],
      warmMs: 500,
      windowMs: 1500,
      repeats: 3,
      budgetMs: 25_000,
      ledgerGifts: 2000,
      ledgerRate: 2000,
      drainTimeoutMs: 60_000,
    },
    churn: { targets: ONE_NODE, workers: 32, warmMs: 500, windowMs: 1500, repeats: 3 },
    chat: {
      writeBatch: 500,
      shapes: [
        {
          kind: 'dm',
          conversations: 200,
          members: 2,
          senders: 2,
          window: 8,
          view: false,
          rates: [100, 250, 500, 1000, 2000],
          warmMs: 500,
          windowMs: 1500,
          repeats: 3,
          budgetMs: 20_000,
          burst: 200,
          burstRate: 200,
          drainTimeoutMs: 20_000,
          finalDrainMs: 3000,
        },
        {
          kind: 'group',
          conversations: 10,
          members: 30,
          senders: 3,
          window: 8,
          view: true,
          rates: [10, 25, 50, 100, 200],
          warmMs: 500,
          windowMs: 1500,
          repeats: 3,
          budgetMs: 20_000,
          burst: 100,
          burstRate: 50,
          drainTimeoutMs: 20_000,
          finalDrainMs: 3000,
        },
      ],
    },
    presence: { targets: ['livegate', 'livegate-2n'], workers: 16, users: 800, watchers: 10, holdMs: 0, warmMs: 500, windowMs: 1500, repeats: 3 },
    http: { targets: ['livegate', 'raw-uws'], endpoints: ENDPOINTS, connections: 50, durationS: 3, repeats: 2 },
  },
  quick: {
    name: 'quick',
    fanout: {
      targets: ['livegate', 'raw-uws', 'sio-uws', 'centrifugo', 'livegate-2n'],
      subscribers: 500,
      rooms: 1,
      rates: [250, 1000, 1500, 2000],
      warmMs: 400,
      windowMs: 1000,
      repeats: 1,
      subProcs: 2,
      pubConns: 1,
      pollMs: 2,
      budgetMs: 10_000,
    },
    rooms: {
      targets: ['livegate', 'raw-uws', 'sio-uws'],
      subscribers: 2000,
      rooms: 200,
      rates: [1000, 4000],
      warmMs: 400,
      windowMs: 1000,
      repeats: 1,
      subProcs: 2,
      pubConns: 2,
      pollMs: 2,
      budgetMs: 10_000,
      layout: 'room',
    },
    idle: { plan: [{ size: 2000, targets: ['livegate', 'raw-uws', 'sio-uws'], repeats: 1 }], subProcs: 2, settleMs: 700 },
    gifts: {
      senders: 100,
      window: 8,
      viewers: 100,
      rates: [500, 1000, 4000],
      warmMs: 400,
      windowMs: 1000,
      repeats: 1,
      budgetMs: 8000,
      ledgerGifts: 500,
      ledgerRate: 1000,
      drainTimeoutMs: 30_000,
    },
    churn: { targets: ['livegate', 'raw-uws'], workers: 16, warmMs: 300, windowMs: 1500, repeats: 1 },
    chat: {
      writeBatch: 500,
      shapes: [
        {
          kind: 'dm',
          conversations: 50,
          members: 2,
          senders: 2,
          window: 8,
          view: false,
          rates: [100, 400],
          warmMs: 400,
          windowMs: 1000,
          repeats: 1,
          budgetMs: 5000,
          burst: 60,
          burstRate: 120,
          drainTimeoutMs: 10_000,
          finalDrainMs: 1000,
        },
        {
          kind: 'group',
          conversations: 5,
          members: 20,
          senders: 2,
          window: 8,
          view: true,
          rates: [20, 100],
          warmMs: 400,
          windowMs: 1000,
          repeats: 1,
          budgetMs: 5000,
          burst: 40,
          burstRate: 40,
          drainTimeoutMs: 10_000,
          finalDrainMs: 1000,
        },
      ],
    },
    presence: { targets: ['livegate', 'livegate-2n'], workers: 8, users: 200, watchers: 5, holdMs: 0, warmMs: 300, windowMs: 1000, repeats: 1 },
    http: { targets: ['livegate', 'raw-uws'], endpoints: ENDPOINTS.slice(0, 1), connections: 50, durationS: 2, repeats: 1 },
  },
};

function arg(name: string): string | undefined {
  const hit = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return hit === undefined ? undefined : hit.includes('=') ? hit.slice(hit.indexOf('=') + 1) : '';
}

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  try {
    return execFileSync(cmd, args, { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

function buildLoadgen(): void {
  progress('building the Go loadgen (bench/loadgen -> .data/bin/loadgen)');
  const r = spawnSync('go', ['build', '-trimpath', '-o', LOADGEN_BIN, '.'], {
    cwd: join(ROOT, 'bench', 'loadgen'),
    stdio: 'inherit',
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
  });
  if (r.status !== 0) throw new Error('go build of bench/loadgen failed');
}

function centrifugo(suite: Suite['name']): { bin: string | undefined; missing: string | undefined; note: string | undefined } {
  const noteFile = join(ROOT, '.tools', 'centrifugo.note');
  const readNote = (): string | undefined => (existsSync(noteFile) ? readFileSync(noteFile, 'utf8').trim() : undefined);
  let bin = centrifugoBinary();
  if (!bin && suite === 'full' && arg('no-centrifugo') === undefined) {
    progress('building Centrifugo v6.9.1 from the Go module proxy (bench/build-centrifugo.sh; first time only)');
    spawnSync('bash', [join(ROOT, 'bench', 'build-centrifugo.sh')], { stdio: 'inherit' });
    bin = centrifugoBinary();
  }
  if (bin) return { bin, missing: undefined, note: readNote() };
  const why =
    readNote() ??
    (suite === 'quick'
      ? 'not built (the quick suite does not build it: run `bash bench/build-centrifugo.sh` or the full suite once)'
      : 'build failed (see bench/build-centrifugo.sh)');
  return { bin: undefined, missing: `Centrifugo unavailable: ${why}`, note: undefined };
}

async function startRedis(): Promise<{ url: string; pid: number; stop: () => Promise<void> } | undefined> {
  if (sh('which', ['redis-server']) === 'unknown') return undefined;
  const port = await freePort();
  const child = spawnTracked('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', ''], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitForLine(child, (l) => l.includes('Ready to accept connections'), 'redis-server');
  child.stdout?.resume();
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid ?? 0, stop: () => stopProcess(child) };
}

/** FerretDB (MongoDB wire protocol, SQLite files in a temp dir) for the gift workload. */
async function startMongo(): Promise<{ url: string | undefined; missing: string | undefined; pid?: number; stop: () => Promise<void> }> {
  const bin = join(ROOT, '.tools', 'bin', 'ferretdb');
  if (!existsSync(bin))
    return { url: undefined, missing: 'FerretDB not built (.tools/bin/ferretdb: run `bash scripts/deps.sh ferretdb`)', stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'livegate-bench-ferretdb-'));
  const child = spawnTracked(bin, ['-listen', '127.0.0.1:0', '-data', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await waitForLine(child, (l) => l.startsWith('ready '), 'ferretdb');
  child.stdout?.resume();
  return {
    url: line.slice('ready '.length).trim(),
    missing: undefined,
    pid: child.pid,
    stop: async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const suite = SUITES[arg('quick') !== undefined ? 'quick' : 'full'];
  const only = arg('only')?.split(',').filter(Boolean);
  const workloads =
    arg('workloads')?.split(',').filter(Boolean) ??
    (arg('profile') !== undefined
      ? ['fanout', 'rooms', 'rooms2n', 'idle', 'gifts', 'churn']
      : ['fanout', 'rooms', 'idle', 'gifts', 'churn', 'chat', 'presence', 'http']);
  const started = Date.now();
  const loadStart = loadAverage();
  // The tree as built for this run (files edited while it runs do not count).
  const revision = `${sh('git', ['rev-parse', '--short', 'HEAD'])}${sh('git', ['status', '--porcelain', '--untracked-files=no']) ? ' (uncommitted changes)' : ''}`;
  progress(`${suite.name} suite: ${workloads.join(', ')}${only ? ` on ${only.join(', ')}` : ''}`);

  buildLoadgen();
  const cf = centrifugo(suite.name);
  const redis = await startRedis();
  const wantsMongo = (workloads.includes('gifts') || workloads.includes('chat')) && (!only || only.includes('livegate'));
  const mongo = wantsMongo ? await startMongo() : undefined;
  const env: RunEnv = {
    secret: randomBytes(24).toString('hex'),
    redisUrl: redis?.url,
    mongoUrl: mongo?.url,
    mongoMissing: mongo?.missing,
    centrifugoBin: cf.bin,
    centrifugoMissing: cf.missing,
    profileDir: undefined,
  };
  const ctx: Ctx = { suite: suite.name, env, runId: randomBytes(3).toString('hex'), redisPid: redis?.pid, mongoPid: mongo?.pid };
  if (arg('profile') !== undefined) {
    try {
      await profileRun(
        ctx,
        suite,
        workloads.filter((w): w is ProfiledWorkload => ['fanout', 'rooms', 'rooms2n', 'churn', 'idle', 'gifts', 'chat'].includes(w)),
      );
    } finally {
      await redis?.stop();
      await mongo?.stop();
    }
    return;
  }
  const pick = (ids: string[]): Target[] => [
    ...TARGETS.filter((t) => ids.includes(t.id) && (!only || only.includes(t.id))),
    ...DIAGNOSTIC_TARGETS.filter((t) => only?.includes(t.id) && ids.some((id) => t.id.startsWith(id))),
  ];
  const rows: Row[] = [];
  try {
    if (workloads.includes('fanout')) for (const t of pick(suite.fanout.targets)) rows.push(await sweep(ctx, 'fanout', t, suite.fanout));
    if (workloads.includes('rooms')) for (const t of pick(suite.rooms.targets)) rows.push(await sweep(ctx, 'rooms', t, suite.rooms));
    if (workloads.includes('idle'))
      for (const step of suite.idle.plan) for (const t of pick(step.targets)) rows.push(await idle(ctx, t, suite.idle, step.size, step.repeats));
    if (workloads.includes('gifts')) for (const t of pick(['livegate'])) rows.push(await gifts(ctx, t, suite.gifts));
    if (workloads.includes('churn')) for (const t of pick(suite.churn.targets)) rows.push(await churn(ctx, t, suite.churn));
    if (workloads.includes('chat')) for (const t of pick(['livegate'])) for (const shape of suite.chat.shapes) rows.push(await chat(ctx, t, suite.chat, shape));
    if (workloads.includes('presence')) for (const t of pick(suite.presence.targets)) rows.push(await presence(ctx, t, suite.presence));
    if (workloads.includes('http'))
      for (const ep of suite.http.endpoints) for (const t of pick(suite.http.targets)) rows.push(await http(ctx, t, ep, suite.http));
  } finally {
    await redis?.stop();
    await mongo?.stop();
  }

  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  const info: RunInfo = {
    suite: suite.name,
    command: suite.name === 'quick' ? 'npm run bench:quick' : 'npm run bench',
    date: new Date(started).toISOString(),
    durationS: (Date.now() - started) / 1000,
    machine: `${cpus().length} cores (${cpuModel}), ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, Linux ${release()}`,
    versions: {
      livegate: revision,
      node: process.version,
      'uWebSockets.js': pkgVersion('uWebSockets.js'),
      'socket.io': pkgVersion('socket.io'),
      '@socket.io/redis-adapter': pkgVersion('@socket.io/redis-adapter'),
      autocannon: pkgVersion('autocannon'),
      redis: sh('redis-server', ['--version']).split(' ')[2]?.replace('v=', '') ?? 'unknown',
      go: sh('go', ['env', 'GOVERSION']),
      centrifugo: cf.bin
        ? (sh(cf.bin, ['version'])
            .replace(/^Centrifugo v?/i, '')
            .split(' ')[0] ?? 'unknown')
        : 'not built',
    },
    loadStart,
    loadEnd: loadAverage(),
    ...(arg('workloads') !== undefined || only ? { fileTag: [...(arg('workloads') !== undefined ? workloads : []), ...(only ?? [])].join('-') } : {}),
    notes: [
      ...(arg('workloads') !== undefined || only ? [`partial run: workloads ${workloads.join(', ')}${only ? ` on ${only.join(', ')}` : ''}`] : []),
      'clients: bench/loadgen (Go; subscriber sockets read by one epoll loop per core with a minimal RFC 6455 parser that scans each frame for the `"bt"` send timestamp); 2 subscriber processes and 1 publisher process per run, all on this box over loopback, so clients, servers and Redis share the cores',
      'livegate runs with LOG_LEVEL=warn, BENCH_MODE=1 and rate limits raised; raw uWS does no token check; Socket.IO checks the JWT in a middleware; Centrifugo checks the JWT (hmac_secret_key) and allows client publish in the `bench` namespace',
      ...(cf.note ? [`Centrifugo: ${cf.note}`] : []),
      ...(cf.missing ? [cf.missing] : []),
      ...(redis ? [] : ['redis-server not found: two-node rows skipped']),
      ...(mongo?.missing ? [`gift and chat workloads skipped: ${mongo.missing}`] : []),
    ],
  };
  if (arg('no-write') === undefined) {
    const file = writeJsonLines(info, rows);
    writeResultsMd(info, rows);
    progress(`wrote ${file} and bench/RESULTS.md (${rows.length} rows, ${Math.round(info.durationS)} s)`);
  }
}

/** livegate's fan-out and many-room sweeps under node --cpu-prof, summarised into bench/PROFILE.md. */
type ProfiledWorkload = 'fanout' | 'rooms' | 'rooms2n' | 'churn' | 'idle' | 'gifts' | 'chat';

/**
 * Load hooks that run the CPU profiler on every node of the deployment through the inspector while
 * the load runs (setup left out), then write `<name>-node<i>.cpuprofile` into `dir` and list it in `files`.
 */
function profileHooks(dir: string, name: string, files: string[]): { loadStart(dep: Deployment): Promise<void>; loadEnd(): Promise<void> } {
  const profilers: InspectorProfiler[] = [];
  return {
    async loadStart(dep) {
      for (const port of dep.inspectPorts) profilers.push(await InspectorProfiler.connect(port));
      await Promise.all(profilers.map((p) => p.start()));
    },
    async loadEnd() {
      for (const [i, p] of profilers.entries()) {
        const file = join(dir, `${name}-node${i + 1}.cpuprofile`);
        writeFileSync(file, await p.stop());
        files.push(file);
      }
    },
  };
}

async function profileRun(ctx: Ctx, suite: Suite, workloads: ProfiledWorkload[]): Promise<void> {
  const dir = join(ROOT, '.data', 'bench-profiles', ctx.runId);
  mkdirSync(dir, { recursive: true });
  const target = TARGETS.find((t) => t.id === 'livegate')!;
  const parts: string[] = [];
  const loadStart = loadAverage();
  for (const workload of workloads.length ? workloads : (['fanout', 'rooms', 'rooms2n', 'churn', 'idle', 'gifts'] as const)) {
    if (workload === 'gifts') {
      // The load only, through the inspector (setup, funding and the ledger check left out).
      const files: string[] = [];
      ctx.env.inspect = true;
      const row = await gifts(ctx, target, { ...suite.gifts, repeats: 1, hooks: profileHooks(dir, 'gifts', files) });
      ctx.env.inspect = false;
      const steps = row.samples.map(
        (x) =>
          `${x['rate']}/s offered → ${fmtRate(Number(x['accepted_per_s']))} accepted/s, p99 ${fmtMs(Number(x['p99_ms']))} ms${x['ok'] ? '' : ` (not sustained: ${String(x['why'])})`}`,
      );
      const perGift = row.metrics['peak_server_cpu_us_per_gift'];
      const redisPerGift = row.metrics['peak_redis_cpu_us_per_gift'];
      parts.push(
        `### Gift bursts: ${suite.gifts.senders} senders into one stream in a PK battle, ${suite.gifts.viewers} viewers, one livegate node with Redis and MongoDB (load only)`,
        '',
        `Sweep under the profiler: ${steps.join('; ')}. At the busiest step: ${perGift?.toFixed(0) ?? '—'} µs of livegate CPU and ${redisPerGift?.toFixed(0) ?? '—'} µs of Redis CPU per accepted gift. Bottleneck: ${row.bottleneck || '—'}.`,
        '',
      );
      for (const f of files) parts.push(profileMarkdown(f.slice(dir.length + 1), summariseProfile(f)));
      continue;
    }
    if (workload === 'idle') {
      const size = suite.idle.plan[0]!.size;
      progress(`heap snapshots of livegate before and after ${size} idle connections`);
      const snap = await idleHeap(ctx, target, size, dir);
      const lives: string[] = [];
      for (const t of [target, RAW_UWS]) {
        for (const n of [size, suite.idle.plan[1]?.size ?? size * 2]) {
          progress(`live memory of ${t.id} with ${n} idle connections (RSS after a full GC, before and after)`);
          const live = await idleLive(ctx, t, n);
          lives.push(
            `| ${t.label} | ${live.open} | ${(live.rssBefore / 2 ** 20).toFixed(1)} → ${(live.rssAfter / 2 ** 20).toFixed(1)} MB | ${live.kbPerConn.toFixed(2)} KB |`,
          );
        }
      }
      parts.push(
        `### Idle connections: what the JS heap holds per connection (${snap.open} connections)`,
        '',
        "Live memory per connection: server RSS after a full GC (inspector `HeapProfiler.collectGarbage`) before the connections and again with them open. The idle workload reads RSS 1.5 s after connecting without a GC, so its figure also holds the connect path's garbage that V8 has not collected yet.",
        '',
        '| target | connections | RSS after GC | per connection |',
        '|---|---|---|---|',
        ...lives,
        '',
        growthMarkdown(census(snap.before), census(snap.after), snap.open),
        ownersMarkdown(snap.before, snap.after, snap.open),
      );
      continue;
    }
    if (workload === 'chat') {
      // Each chat shape's node under node --cpu-prof (whole process: setup, burst, sweep, drain).
      for (const shape of suite.chat.shapes) {
        const before = new Set(readdirSync(dir));
        ctx.env.profileDir = dir;
        const row = await chat(ctx, target, suite.chat, { ...shape, repeats: 1 });
        ctx.env.profileDir = undefined;
        const steps = row.samples.map(
          (x) =>
            `${x['rate']} msg/s → ${fmtRate(Number(x['accepted_per_s']))} accepted/s, ${fmtRate(Number(x['deliveries_per_s']))} deliveries/s${x['ok'] ? '' : ` (not sustained: ${String(x['why'])})`}`,
        );
        parts.push(
          `### Chat, ${String(row.params['shape'])}, one livegate node with Redis and MongoDB (whole process)`,
          '',
          `Sweep under the profiler: ${steps.join('; ')}. Server CPU per 1,000 messages at the peak: ${(row.metrics['peak_server_cpu_ms_per_1k'] ?? NaN).toFixed(0)} ms. Bottleneck: ${row.bottleneck || '—'}.`,
          '',
        );
        for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile') && !before.has(x)))
          parts.push(profileMarkdown(f, summariseProfile(join(dir, f))));
      }
      continue;
    }
    if (workload === 'churn') {
      // The whole process is profiled (node --cpu-prof): connection work is all it does here.
      const before = new Set(readdirSync(dir));
      ctx.env.profileDir = dir;
      const row = await churn(ctx, target, { ...suite.churn, repeats: 1 });
      ctx.env.profileDir = undefined;
      parts.push(
        `### Connection churn: ${suite.churn.workers} workers, one livegate node (whole process)`,
        '',
        `${fmtRate(row.metrics['cycles_per_s'] ?? NaN)} connect+close/s under the profiler, ${(row.metrics['server_cpu_ms_per_cycle'] ?? NaN).toFixed(3)} ms server CPU per cycle. Bottleneck: ${row.bottleneck || '—'}.`,
        '',
      );
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile') && !before.has(x)))
        parts.push(profileMarkdown(f, summariseProfile(join(dir, f))));
      continue;
    }
    // Sweeps: profiled through the inspector from the first rate to the last, so connection setup is left out.
    // rooms2n: the many-room sweep on two livegate nodes over Redis (both nodes profiled).
    const sweepWorkload = workload === 'rooms2n' ? 'rooms' : workload;
    const sweepTarget = workload === 'rooms2n' ? TARGETS.find((t) => t.id === 'livegate-2n')! : target;
    const files: string[] = [];
    ctx.env.inspect = true;
    const cfg: SweepConfig = { ...suite[sweepWorkload], repeats: 1, hooks: profileHooks(dir, workload, files) };
    const row = await sweep(ctx, sweepWorkload, sweepTarget, cfg);
    ctx.env.inspect = false;
    const steps = row.samples.map(
      (x) =>
        `${x['rate']} msg/s → ${fmtRate(Number(x['deliveries_per_s']))} deliveries/s, p99 ${fmtMs(Number(x['p99_ms']))} ms${x['ok'] ? '' : ` (not sustained: ${String(x['why'])})`}`,
    );
    parts.push(
      `### ${workload === 'fanout' ? 'Fan-out' : 'Many rooms'}: ${cfg.subscribers} subscribers in ${cfg.rooms} room(s), ${workload === 'rooms2n' ? 'two livegate nodes over Redis (publishers on both nodes, each room’s subscribers on one node)' : 'one livegate node'} (load only)`,
      '',
      `Sweep under the profiler: ${steps.join('; ')}. Bottleneck: ${row.bottleneck || '—'}.`,
      '',
    );
    for (const f of files) parts.push(profileMarkdown(f.slice(dir.length + 1), summariseProfile(f)));
  }
  const header = [
    '# Where livegate spends its time (node --cpu-prof)',
    '',
    `Produced by \`node dist/bench/run.js${suite.name === 'quick' ? ' --quick' : ''} --profile\` on ${new Date().toISOString()}, ${cpus().length} cores, load average ${loadStart.toFixed(2)} at start (other helpers' tests share the box).`,
    'Sweeps are profiled through the inspector from the first rate step to the last (connection setup excluded); churn profiles the whole process. The raw .cpuprofile files are in .data/bench-profiles/ (not committed).',
    'Self time is the time spent in a function itself; time inside uWebSockets.js calls (app.publish, ws.send, ws.subscribe) counts as self time of the JS function that made the call (e.g. `fanout`).',
    'In the churn profile, module loading at process start (wrapSafe, compileSourceTextModule, openFileHandle, realpathSync, fstat) is not per-connection work.',
    '',
  ];
  writeFileSync(join(ROOT, 'bench', 'PROFILE.md'), [...header, ...parts].join('\n'));
  progress(`wrote bench/PROFILE.md from ${dir}`);
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
process.on('exit', killAll);
main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  killAll();
  process.exit(1);
});
