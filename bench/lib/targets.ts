/**
 * The servers under test, each started fresh for a workload: livegate (one node, or two over
 * Redis), the raw uWebSockets.js ceiling, Socket.IO (default engine or uWS, Redis adapter for two
 * nodes) and Centrifugo (memory engine, or Redis engine for two nodes).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './loadgen.js';
import { freePort, sleep, spawnTracked, stopProcess, waitForLine } from './proc.js';

export type Family = 'livegate' | 'raw-uws' | 'socketio' | 'centrifugo';

export interface RunEnv {
  secret: string;
  /** Redis for two-node targets (undefined: two-node targets are skipped). */
  redisUrl: string | undefined;
  /** MongoDB (FerretDB) for the gift workload (undefined: it is skipped). */
  mongoUrl?: string | undefined;
  /** Why there is no MongoDB, when there is none. */
  mongoMissing?: string | undefined;
  centrifugoBin: string | undefined;
  /** Why Centrifugo is not available, when it is not. */
  centrifugoMissing: string | undefined;
  /** Directory for `node --cpu-prof` output of livegate nodes (profiling runs only). */
  profileDir: string | undefined;
  /** Directory for heap snapshots taken on SIGUSR2 (memory profiling runs only). */
  heapDir?: string | undefined;
  /** Start livegate nodes with the inspector on a free port (profiling of the measured load). */
  inspect?: boolean;
}

export interface Deployment {
  /** ws://host:port per node. */
  urls: string[];
  /** http://host:port of the first node. */
  http: string;
  /** Server process ids, one per node. */
  pids: number[];
  /** Inspector ports of livegate nodes started with RunEnv.inspect. */
  inspectPorts: number[];
  /** What the servers logged at warn level or above (livegate), for the notes. */
  warnings: () => string[];
  stop(): Promise<void>;
}

export interface Target {
  id: string;
  label: string;
  family: Family;
  proto: 'native' | 'sio' | 'centrifugo';
  nodes: 1 | 2;
  /** Go processes use every core; Node servers run their work on one thread. */
  multiThreaded: boolean;
  unavailable(env: RunEnv): string | undefined;
  start(env: RunEnv): Promise<Deployment>;
}

interface Server {
  child: ChildProcess;
  port: number;
  /** What the server logged (warnings and up); `lines.slice(ready)` is what it logged once serving. */
  lines: string[];
  ready: number;
  inspectPort?: number;
}

function keepLines(child: ChildProcess, lines: string[], filter: (line: string) => boolean): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      if (filter(line) && lines.length < 50) lines.push(line.slice(0, 300));
    });
  }
}

async function waitHttp(url: string, child: ChildProcess, what: string, timeoutMs = 30_000, status = 0): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (status ? res.status === status : res.status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${what}: ${url} not answering after ${timeoutMs} ms`);
}

const BENCH_LIMITS = {
  RATE_LIMIT_CONN_PER_SEC: '1000000',
  RATE_LIMIT_CONN_BURST: '1000000',
  RATE_LIMIT_USER_PER_SEC: '1000000',
  RATE_LIMIT_USER_BURST: '1000000',
  HTTP_RATE_LIMIT_PER_SEC: '1000000',
  HTTP_RATE_LIMIT_BURST: '1000000',
};

let nodeCounter = 0;

async function startLivegate(env: RunEnv, redis: boolean, extraEnv: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const nodeId = `bench-${process.pid}-${++nodeCounter}`;
  const inspectPort = env.inspect ? await freePort() : undefined;
  const prof = inspectPort
    ? [`--inspect=127.0.0.1:${inspectPort}`]
    : env.heapDir
      ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${env.heapDir}`]
      : env.profileDir
        ? ['--cpu-prof', `--cpu-prof-dir=${env.profileDir}`, `--cpu-prof-name=${nodeId}.cpuprofile`]
        : [];
  const child = spawnTracked(process.execPath, [...prof, join(ROOT, 'dist', 'src', 'main.js')], {
    env: {
      PATH: process.env['PATH'],
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ID: nodeId,
      JWT_SECRET: env.secret,
      BENCH_MODE: '1',
      LOG_LEVEL: 'warn',
      ...BENCH_LIMITS,
      ...(redis && env.redisUrl ? { REDIS_URL: env.redisUrl } : {}),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  keepLines(child, lines, () => true);
  await waitHttp(`http://127.0.0.1:${port}/healthz`, child, 'livegate');
  return { child, port, lines, ready: lines.length, ...(inspectPort ? { inspectPort } : {}) };
}

async function startNodePeer(script: string, extraEnv: Record<string, string>, env?: RunEnv): Promise<Server> {
  const inspectPort = env?.inspect ? await freePort() : undefined;
  const child = spawnTracked(process.execPath, [...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []), join(ROOT, 'dist', 'bench', 'peers', script)], {
    env: { PATH: process.env['PATH'], PORT: '0', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  child.stderr?.on('data', (c: Buffer) => lines.length < 50 && lines.push(c.toString().slice(0, 300)));
  const line = await waitForLine(child, (l) => l.startsWith('listening '), script);
  child.stdout?.resume();
  return { child, port: Number(line.split(' ')[1]), lines, ready: lines.length, ...(inspectPort ? { inspectPort } : {}) };
}

async function startCentrifugo(env: RunEnv, redis: boolean): Promise<Server> {
  const port = await freePort();
  const dir = join(tmpdir(), 'livegate-bench-centrifugo');
  mkdirSync(dir, { recursive: true });
  const config = {
    http_server: { address: '127.0.0.1', port },
    log: { level: 'error' },
    health: { enabled: true },
    client: { token: { hmac_secret_key: env.secret }, allowed_origins: ['*'] },
    channel: { namespaces: [{ name: 'bench', allow_subscribe_for_client: true, allow_publish_for_client: true }] },
    engine: redis && env.redisUrl ? { type: 'redis', redis: { address: [env.redisUrl] } } : { type: 'memory' },
  };
  const file = join(dir, `config-${port}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = spawnTracked(env.centrifugoBin!, ['--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  keepLines(child, lines, () => true);
  await waitHttp(`http://127.0.0.1:${port}/health`, child, 'centrifugo');
  return { child, port, lines, ready: lines.length };
}

function deployment(servers: Server[], path: string): Deployment {
  return {
    urls: servers.map((s) => `ws://127.0.0.1:${s.port}`),
    http: `http://127.0.0.1:${servers[0]!.port}${path}`,
    pids: servers.map((s) => s.child.pid ?? 0),
    inspectPorts: servers.flatMap((s) => (s.inspectPort ? [s.inspectPort] : [])),
    // Startup notices (money and chat without REDIS_URL, the bench route, FerretDB's missing TTL
    // indexes) are the same in every run of a target: only what a server logged once serving counts.
    warnings: () => servers.flatMap((s) => s.lines.slice(s.ready).filter((l) => !l.startsWith('Debugger listening') && !l.startsWith('For help'))),
    stop: async () => {
      await Promise.all(servers.map((s) => stopProcess(s.child)));
    },
  };
}

async function startMany(nodes: number, start: () => Promise<Server>): Promise<Server[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < nodes; i++) servers.push(await start());
  } catch (err) {
    await Promise.all(servers.map((s) => stopProcess(s.child)));
    throw err;
  }
  return servers;
}

const needsRedis = (nodes: number) => (env: RunEnv) => (nodes > 1 && !env.redisUrl ? 'no Redis for the two-node run' : undefined);

function livegate(nodes: 1 | 2): Target {
  return {
    id: nodes === 1 ? 'livegate' : 'livegate-2n',
    label: nodes === 1 ? 'livegate' : 'livegate ×2 (Redis)',
    family: 'livegate',
    proto: 'native',
    nodes,
    multiThreaded: false,
    unavailable: needsRedis(nodes),
    start: async (env) => deployment(await startMany(nodes, () => startLivegate(env, nodes > 1)), ''),
  };
}

/**
 * One livegate node with Redis and MongoDB (database `db` on env.mongoUrl): the money domain
 * (wallets, gifts, PK battles) runs only with both. Started by the gift workload.
 */
export async function startLivegateWithMoney(env: RunEnv, db: string, extraEnv: Record<string, string> = {}): Promise<Deployment> {
  if (!env.redisUrl || !env.mongoUrl) throw new Error('the money domain needs Redis and MongoDB');
  const server = await startLivegate(env, true, { MONGO_URL: env.mongoUrl, MONGO_DB: db, ...extraEnv });
  const dep = deployment([server], '');
  try {
    await waitHttp(`http://127.0.0.1:${server.port}/readyz`, server.child, 'livegate /readyz', 30_000, 200);
  } catch (err) {
    await dep.stop();
    throw err;
  }
  return dep;
}

function socketio(engine: 'node' | 'uws', nodes: 1 | 2): Target {
  const redis = nodes > 1;
  return {
    id: `sio-${engine}${redis ? '-redis' : ''}`,
    label: `Socket.IO ${engine === 'uws' ? 'on uWS' : 'default engine'}${redis ? ' ×2 (redis-adapter)' : ''}`,
    family: 'socketio',
    proto: 'sio',
    nodes,
    multiThreaded: false,
    unavailable: needsRedis(nodes),
    start: async (env) =>
      deployment(
        await startMany(nodes, () =>
          startNodePeer('socketio.js', { ENGINE: engine, JWT_SECRET: env.secret, ...(redis && env.redisUrl ? { REDIS_URL: env.redisUrl } : {}) }),
        ),
        '',
      ),
  };
}

function centrifugo(nodes: 1 | 2): Target {
  return {
    id: nodes === 1 ? 'centrifugo' : 'centrifugo-redis',
    label: nodes === 1 ? 'Centrifugo v6 (memory)' : 'Centrifugo v6 ×2 (Redis engine)',
    family: 'centrifugo',
    proto: 'centrifugo',
    nodes,
    multiThreaded: true,
    unavailable: (env) => env.centrifugoMissing ?? needsRedis(nodes)(env),
    start: async (env) => deployment(await startMany(nodes, () => startCentrifugo(env, nodes > 1)), ''),
  };
}

export const RAW_UWS: Target = {
  id: 'raw-uws',
  label: 'raw uWebSockets.js (ceiling)',
  family: 'raw-uws',
  proto: 'native',
  nodes: 1,
  multiThreaded: false,
  unavailable: () => undefined,
  start: async (env) => deployment([await startNodePeer('raw-uws.js', {}, env)], ''),
};

/** Not part of the suites; selectable with --only (what one topic per socket costs raw uWS). */
export const DIAGNOSTIC_TARGETS: Target[] = [
  {
    ...RAW_UWS,
    id: 'raw-uws-usertopic',
    label: 'raw uWS + one topic per socket (diagnostic)',
    start: async () => deployment([await startNodePeer('raw-uws.js', { USER_TOPIC: '1' })], ''),
  },
  {
    ...RAW_UWS,
    id: 'raw-uws-sharedtopic',
    label: 'raw uWS + one topic shared by all sockets (diagnostic)',
    start: async () => deployment([await startNodePeer('raw-uws.js', { SHARED_TOPIC: '1' })], ''),
  },
];

export const TARGETS: Target[] = [
  livegate(1),
  RAW_UWS,
  socketio('uws', 1),
  socketio('node', 1),
  centrifugo(1),
  livegate(2),
  socketio('uws', 2),
  socketio('node', 2),
  centrifugo(2),
];

export function centrifugoBinary(): string | undefined {
  const bin = join(ROOT, '.tools', 'bin', 'centrifugo');
  return existsSync(bin) ? bin : undefined;
}
