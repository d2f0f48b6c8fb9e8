/**
 * Starts real Redis and FerretDB servers for tests, on free ports, with data in a temp folder.
 * Used by the vitest global setup and by tests that need servers of their own (shards,
 * a database to stop and restart).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const FERRETDB_BIN = join(ROOT, '.tools', 'bin', 'ferretdb');

/** A port that was free a moment ago (for servers that cannot listen on port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * A free port below the kernel's ephemeral range (32768-60999 on Linux), for servers a test stops
 * and starts again on the same port: no listener on port 0 and no outgoing connection can be
 * handed this port while the server is down (an ephemeral port was once taken during an outage).
 */
export async function restartablePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    server.close();
    await once(server, 'close');
    return port;
  }
}

export interface Service {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
  /** SIGKILL, for crash tests. */
  kill(): Promise<void>;
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** Waits until a line on stdout matches; rejects if the process exits first. */
export function waitForLine(child: ChildProcess, match: (line: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    if (!child.stdout) {
      reject(new Error(`${what}: no stdout`));
      return;
    }
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => finish(new Error(`${what}: not ready after ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null): void => finish(new Error(`${what}: exited with ${code} before it was ready`));
    function finish(err: Error | undefined, line?: string): void {
      clearTimeout(timer);
      child.off('exit', onExit);
      rl.off('line', onLine);
      if (err) reject(err);
      else resolvePromise(line ?? '');
    }
    function onLine(line: string): void {
      if (match(line)) finish(undefined, line);
    }
    rl.on('line', onLine);
    child.once('exit', onExit);
  });
}

/** redis-server on a free port below the ephemeral range; `port` reuses a port (restart tests). */
/**
 * redis-server on a free port. Without `aof` it keeps nothing across a restart (the suite's shared
 * Redis; gateways on it opt out of the money durability check, see gateway.ts). With `aof` it runs
 * the setting MONEY_DURABILITY=aof requires: an append-only file fsynced on every write.
 */
export async function startRedis(opts: { port?: number; dir?: string; aof?: boolean } = {}): Promise<Service & { port: number; dir: string }> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'livegate-redis-'));
  const port = opts.port ?? (await restartablePort());
  const persistence = opts.aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, '--loglevel', 'notice', '--logfile', ''],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await waitForLine(child, (l) => l.includes('Ready to accept connections'), `redis-server on ${port}`);
  child.stdout?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    process: child,
    stop: () => stopProcess(child, 'SIGTERM'),
    kill: () => stopProcess(child, 'SIGKILL'),
  };
}

/** FerretDB (SQLite backend) on a free port below the ephemeral range, or on `listen` (restart tests). */
export async function startFerretDb(opts: { listen?: string; dir?: string } = {}): Promise<Service & { dir: string }> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'livegate-ferretdb-'));
  const listen = opts.listen ?? `127.0.0.1:${await restartablePort()}`;
  const child = spawn(FERRETDB_BIN, ['-listen', listen, '-data', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await waitForLine(child, (l) => l.startsWith('ready '), 'ferretdb');
  child.stdout?.resume();
  return {
    url: line.slice('ready '.length).trim(),
    dir,
    process: child,
    stop: () => stopProcess(child, 'SIGTERM'),
    kill: () => stopProcess(child, 'SIGKILL'),
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
