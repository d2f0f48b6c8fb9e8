import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { describe, expect, inject, it } from 'vitest';
import type { TryGiftResult } from '../../src/tools/try-gift.js';
import { sioConnect, sioConnected } from '../support/clients.js';
import { makeToken } from '../support/gateway.js';
import { ROOT, removeDir, startRedis } from '../support/services.js';

const DEV_SECRET = 'livegate-development-secret-change-me-0123456789';

interface Started {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  stdout: string[];
  /** SIGTERM to the script; 'ctrl-c' sends SIGINT to its whole process group, as a terminal does. */
  stop(how?: 'sigterm' | 'ctrl-c'): Promise<number | null>;
}

/**
 * Runs scripts/start.sh as `npm start` does, with only the given environment (no REDIS_URL /
 * MONGO_URL unless passed). The suite has built dist/ already; rebuilding here would rewrite files
 * other tests are loading, hence LIVEGATE_SKIP_BUILD.
 */
async function runStart(env: Record<string, string>): Promise<Started> {
  const child = spawn('bash', [join(ROOT, 'scripts', 'start.sh')], {
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], PORT: '0', HOST: '127.0.0.1', LIVEGATE_SKIP_BUILD: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, like a terminal's foreground job.
    detached: true,
  });
  let stderr = '';
  const stdout: string[] = [];
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`start.sh exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      stdout.push(line);
      if (line.includes('"msg":"listening"')) resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  return {
    child,
    port,
    stderr: () => stderr,
    stdout,
    async stop(how = 'sigterm') {
      const exited = once(child, 'exit');
      if (how === 'ctrl-c') process.kill(-child.pid!, 'SIGINT');
      else child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** True when something accepts TCP connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The "ready" line is printed once the port answers; it may follow the gateway's "listening" log. */
async function readyLine(started: Started): Promise<string> {
  const pattern = /start: ready\. demo: (\S+)/;
  while (!pattern.test(started.stderr())) await once(started.child.stderr!, 'data');
  return pattern.exec(started.stderr())![1]!;
}

describe('npm start (scripts/start.sh)', () => {
  it('on a machine without REDIS_URL / MONGO_URL: starts Redis and FerretDB under the data dir, seeds, and every feature answers; Ctrl-C stops all three', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'livegate-start-'));
    const started = await runStart({ LIVEGATE_DATA_DIR: dataDir });
    const { port } = started;
    const base = `http://127.0.0.1:${port}`;
    try {
      const stderr = started.stderr();
      expect(stderr).toContain('JWT_SECRET not set; using the development secret');
      expect(stderr).toContain('DEV_PAYMENTS on');
      expect(stderr).toContain('DEV_TOKENS on');
      const redisPort = Number(/Redis \(local\) at redis:\/\/127\.0\.0\.1:(\d+), data in (\S+)/.exec(stderr)?.[1]);
      const mongoPort = Number(/FerretDB \(local database\) at mongodb:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
      expect(redisPort).toBeGreaterThan(0);
      expect(mongoPort).toBeGreaterThan(0);
      expect(stderr).toContain(`data in ${join(dataDir, 'redis')}`);
      expect(stderr).toContain(`data in ${join(dataDir, 'ferretdb')}`);
      expect(stderr).toMatch(/"msg":"seeded","counts":\{"gifts":\d+/);
      expect(await readyLine(started)).toBe(`${base}/demo/`);
      // The demo page answers there (DEMO on in the npm start setup).
      const demo = await fetch(`${base}/demo/`);
      expect(demo.status).toBe(200);
      expect(await demo.text()).toContain('/demo/app.js');

      const token = await makeToken({ sub: 'first-user', secret: DEV_SECRET });
      const socket = sioConnect(base, { token });
      await sioConnected(socket);
      expect(await socket.emitWithAck('session:info', {})).toMatchObject({ userId: 'first-user' });
      // Money is live (it answered `unavailable` without Redis): the seeded catalogue is there.
      const catalog = (await socket.emitWithAck('gift:catalog', {})) as { gifts: unknown[] };
      expect(catalog.gifts.length).toBeGreaterThan(0);
      socket.close();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
      const ready = (await (await fetch(`${base}/readyz`)).json()) as { checks: Record<string, boolean> };
      expect(ready.checks).toMatchObject({ redis: true, mongodb: true, writer: true });

      // The must-show: a socket.io-client script signs in with dev tokens, tops up with the dev
      // provider, and gets the gift's ack with the new balance (and the room's gift:sent frame).
      const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'dist', 'src', 'tools', 'try-gift.js'), base], { timeout: 60_000 });
      const result = JSON.parse(stdout) as TryGiftResult;
      expect(result.purchase.amount).toBeGreaterThan(0);
      expect(result.purchase.balance).toBe(result.purchase.amount);
      expect(result.gift.totalCost).toBeGreaterThan(0);
      expect(result.gift.balance).toBe(result.purchase.balance - result.gift.totalCost);
      expect(result.giftSent).toEqual({ giftId: result.gift.giftId, count: 1, coins: result.gift.totalCost, recipientId: result.hostId });

      // Ctrl-C reaches every process of the job; the databases (own sessions) outlive the gateway's
      // graceful shutdown, which flushes its queued writes, and are stopped after it.
      expect(await started.stop('ctrl-c')).toBe(0);
      expect(started.stdout.some((l) => l.includes('"msg":"write queue flushed"'))).toBe(true);
      expect(started.stdout.some((l) => l.includes('"msg":"shutdown complete"'))).toBe(true);
      // Both databases were stopped with the gateway, and their data stays in the data dir.
      expect(await listening(redisPort)).toBe(false);
      expect(await listening(mongoPort)).toBe(false);
      expect(existsSync(join(dataDir, 'redis', 'redis.log'))).toBe(true);
      expect(readdirSync(join(dataDir, 'redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
      expect(readdirSync(join(dataDir, 'ferretdb')).length).toBeGreaterThan(0);
    } finally {
      if (started.child.exitCode === null) await started.stop();
      removeDir(dataDir);
    }
  }, 180_000);

  it('REDIS_URL and MONGO_URL from outside win: no local servers, and a catalogue that is there is left alone', async () => {
    const redis = await startRedis();
    const dbName = `start_outside_${process.pid}`;
    const mongo = await new MongoClient(inject('mongoUrl')).connect();
    const gifts = mongo.db(dbName).collection<{ _id: string; price: number }>('gifts');
    await gifts.insertOne({ _id: 'house-gift', price: 7, name: 'House gift', isActive: true } as { _id: string; price: number });
    const dataDir = mkdtempSync(join(tmpdir(), 'livegate-start-'));
    const started = await runStart({ REDIS_URL: redis.url, MONGO_URL: inject('mongoUrl'), MONGO_DB: dbName, LIVEGATE_DATA_DIR: dataDir });
    try {
      const stderr = started.stderr();
      expect(stderr).not.toContain('Redis (local)');
      expect(stderr).not.toContain('FerretDB (local database)');
      expect(stderr).toContain('running: gateway + REDIS_URL + MONGO_URL');
      expect(stderr).toContain('seed skipped: the catalogue exists');
      expect(existsSync(join(dataDir, 'redis'))).toBe(false);
      expect(await gifts.countDocuments()).toBe(1);
      const ready = (await (await fetch(`http://127.0.0.1:${started.port}/readyz`)).json()) as { checks: Record<string, boolean> };
      expect(ready.checks).toMatchObject({ redis: true, mongodb: true });
      expect(await started.stop()).toBe(0);
    } finally {
      if (started.child.exitCode === null) await started.stop();
      await mongo.db(dbName).dropDatabase();
      await mongo.close();
      await redis.stop();
      removeDir(redis.dir);
      removeDir(dataDir);
    }
  }, 180_000);
});
