/**
 * Real gateway processes for integration tests: `node dist/src/main.js` on port 0, ready when it
 * logs "listening". Every JSON log line is kept so tests can assert on them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';
import { ROOT } from './services.js';

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface GatewayProcess {
  port: number;
  nodeId: string;
  http: string;
  ws: string;
  process: ChildProcess;
  logs: LogLine[];
  stderr: () => string;
  /** Resolves with the first log line matching, waiting for it if needed. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (crash). */
  kill(): Promise<void>;
}

let counter = 0;

export async function startGateway(env: Record<string, string | undefined> = {}): Promise<GatewayProcess> {
  const nodeId = env['NODE_ID'] ?? `test-${process.pid}-${++counter}`;
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'main.js')], {
    env: {
      PATH: process.env['PATH'],
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ID: nodeId,
      JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: 'info',
      // Suites share one Redis: gateways writing to different databases must not drain each other's
      // write queue (a writer applies what it reads to its own MONGO_DB). Same database, same queue.
      WRITE_QUEUE_STREAM: `livegate:writes:${env['MONGO_DB'] ?? 'livegate'}`,
      // The suites' Redis servers keep nothing across a restart (services.ts startRedis): the
      // gateways are told so explicitly, as an operator must (docs/MONEY.md). The durability suite
      // (test/money/redis-loss.test.ts) runs the default, MONEY_DURABILITY=aof, on an AOF Redis.
      MONEY_DURABILITY: 'none',
      MONEY_RELOAD_FENCE_MS: '0',
      // Node pressure from event-loop delay is off unless a suite asks for it (test/gateway/overload.test.ts):
      // on a box shared by several suites a node's loop lags by itself, and at the default thresholds it
      // would refuse ambient and chat publishes and shed ambient frames that other suites wait for.
      PRESSURE_LAG_ELEVATED_MS: '60000',
      PRESSURE_LAG_CRITICAL_MS: '60000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    logs.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });

  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> => {
    const found = logs.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway ${nodeId}: no matching log line in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`gateway ${nodeId} exited with ${code}; stderr: ${stderr}`));
      };
      child.once('exit', onExit);
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve(l);
        },
      });
    });
  };

  // Generous: on a loaded 2-core machine a node can take several seconds to load and connect.
  const listening = await waitForLog((l) => l.msg === 'listening', 60_000);
  const port = listening['port'] as number;
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    port,
    nodeId,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    process: child,
    logs,
    stderr: () => stderr,
    waitForLog,
    async stop() {
      if (exited()) return child.exitCode;
      const done = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await done) as [number | null];
      return code;
    },
    async kill() {
      if (exited()) return;
      const done = once(child, 'exit');
      child.kill('SIGKILL');
      await done;
    },
  };
}

/** Runs the gateway expecting it to refuse to start; returns exit code and stderr. */
export async function startGatewayExpectingFailure(env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'main.js')], {
    env: { PATH: process.env['PATH'], PORT: '0', HOST: '127.0.0.1', JWT_SECRET: TEST_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.resume();
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

export interface TokenOptions {
  sub?: string;
  role?: string;
  expiresIn?: string | number;
  secret?: string;
  issuer?: string;
  audience?: string;
  claims?: Record<string, unknown>;
}

/** An HS256 token for the test secret. */
export async function makeToken(opts: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ ...(opts.role ? { role: opts.role } : {}), ...opts.claims }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (opts.sub !== '') jwt.setSubject(opts.sub ?? `user-${Math.random().toString(36).slice(2, 10)}`);
  jwt.setExpirationTime(opts.expiresIn ?? '1h');
  if (opts.issuer) jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt.setAudience(opts.audience);
  return jwt.sign(new TextEncoder().encode(opts.secret ?? TEST_SECRET));
}
