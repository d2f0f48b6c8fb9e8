import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { NativeClient, sioConnect, sioConnected } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { ROOT, freePort, removeDir, startRedis } from '../support/services.js';

const NGINX = '/usr/sbin/nginx';

/**
 * docker-compose's entry point, deploy/nginx/nginx.conf as it is, run by Debian's nginx in front of
 * two real gateway nodes: only the upstream addresses and the listen port are put in for the test.
 */
async function startEntry(upstreams: [number, number]): Promise<{ port: number; process: ChildProcess; dir: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'livegate-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  const conf = readFileSync(join(ROOT, 'deploy', 'nginx', 'nginx.conf'), 'utf8');
  const rendered = conf
    .replace('server gateway-1:8080', `server 127.0.0.1:${upstreams[0]}`)
    .replace('server gateway-2:8080', `server 127.0.0.1:${upstreams[1]}`)
    .replace('listen 8080;', `listen 127.0.0.1:${port};`);
  expect(rendered).not.toContain('gateway-');
  writeFileSync(join(dir, 'nginx.conf'), rendered);
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log stderr warn;`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // nginx has no ready line: the port answers once the workers run.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/nginx-health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    process: child,
    dir,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGQUIT');
      await exited;
    },
  };
}

describe('docker-compose entry point (nginx) in front of two gateway nodes', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const gateways: GatewayProcess[] = [];
  let entry: Awaited<ReturnType<typeof startEntry>>;
  let base: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, MONGO_URL: inject('mongoUrl'), MONGO_DB: `entry_${process.pid}` };
    gateways.push(...(await Promise.all([startGateway(env), startGateway(env)])));
    entry = await startEntry([gateways[0]!.port, gateways[1]!.port]);
    base = `http://127.0.0.1:${entry.port}`;
  }, 120_000);

  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await entry?.stop();
    if (entry) removeDir(entry.dir);
    await Promise.all(gateways.map((g) => g.stop()));
    await redis?.stop();
    if (redis) removeDir(redis.dir);
  });

  it('spreads socket.io connections (WebSocket upgrade through the proxy) over both nodes', async () => {
    const nodes = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const socket = sioConnect(base, { token: await makeToken({ sub: `entry-user-${i}` }) });
      sockets.push(socket);
      await sioConnected(socket);
      nodes.add(((await socket.emitWithAck('session:info', {})) as { nodeId: string }).nodeId);
    }
    expect(nodes).toEqual(new Set(gateways.map((g) => g.nodeId)));
  });

  it('carries native /ws sockets and HTTP, and a room event crosses nodes behind the one URL', async () => {
    const host = await NativeClient.connect(`ws://127.0.0.1:${entry.port}`, { token: await makeToken({ sub: 'entry-host' }) });
    const viewer = await NativeClient.connect(`ws://127.0.0.1:${entry.port}`, { token: await makeToken({ sub: 'entry-viewer' }) });
    try {
      const hostNode = ((await host.request('session:info')).data as { nodeId: string }).nodeId;
      const viewerNode = ((await viewer.request('session:info')).data as { nodeId: string }).nodeId;
      // least_conn: with the four sockets above spread two and two, these two land on different nodes.
      expect(viewerNode).not.toBe(hostNode);
      expect((await host.request('livestream:start', { title: 'through the entry point', livestreamId: `entry-${process.pid}` })).error).toBeUndefined();
      expect((await viewer.request('livestream:join', { livestreamId: `entry-${process.pid}` })).error).toBeUndefined();
      const ended = viewer.waitFor((f) => f.event === 'livestream:ended');
      expect((await host.request('livestream:end', { livestreamId: `entry-${process.pid}` })).error).toBeUndefined();
      expect((await ended).data).toMatchObject({ endedBy: 'entry-host' });
    } finally {
      await host.close();
      await viewer.close();
    }
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, boolean> }).checks).toMatchObject({ redis: true, mongodb: true });
    expect((await fetch(`${base}/openapi.json`)).status).toBe(200);
  });

  it('the compose healthcheck command passes on a ready node and fails on a port that does not answer', async () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { healthcheck?: { test: string[] } }> };
    const test = compose.services['gateway-1']!.healthcheck!.test;
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    const script = (port: number): string => test[3]!.replace('127.0.0.1:8080', `127.0.0.1:${port}`);
    const run = (port: number): Promise<number> =>
      promisify(execFile)(process.execPath, ['-e', script(port)]).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );
    expect(await run(gateways[0]!.port)).toBe(0);
    expect(await run(await freePort())).toBe(1);
  });
});
