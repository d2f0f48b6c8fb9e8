import { describe, expect, it, inject } from 'vitest';
import { NativeClient, sioConnect, sioConnected } from '../support/clients.js';
import { makeToken, startGateway, startGatewayExpectingFailure } from '../support/gateway.js';

describe('process lifecycle', () => {
  it('refuses to start on the uWebSockets.js JavaScript fallback', async () => {
    const { code, stderr } = await startGatewayExpectingFailure({ UWS_USE_FALLBACK: '1' });
    expect(code).toBe(1);
    expect(stderr).toContain('refuses to run on it');
  });

  it('refuses invalid configuration, naming the variable', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'eighty' }, /PORT: expected an integer/],
      [{ JWT_SECRET: '' }, /JWT_SECRET: one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_FILE or JWT_JWKS_URL must be set/],
      [{ JWT_SECRET: 'short' }, /JWT_SECRET: must be at least 32 characters/],
      [{ REDIS_URL: 'http://localhost:6379' }, /REDIS_URL: "http:\/\/localhost:6379" must use redis: or rediss:/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: must be one of/],
      [{ WS_MAX_PAYLOAD: '10' }, /WS_MAX_PAYLOAD: must be between/],
      [{ JWT_JWKS_URL: 'ftp://idp.example/jwks' }, /JWT_JWKS_URL: "ftp:\/\/idp.example\/jwks" must use https: or http:/],
      [{ JWT_JWKS_MIN_CACHE_SEC: '7200', JWT_JWKS_MAX_CACHE_SEC: '3600' }, /JWT_JWKS_MIN_CACHE_SEC: must not exceed JWT_JWKS_MAX_CACHE_SEC/],
    ];
    const results = await Promise.all(cases.map(([env]) => startGatewayExpectingFailure(env)));
    results.forEach(({ code, stderr }, i) => {
      expect(code).toBe(1);
      expect(stderr).toMatch(cases[i]![1]);
    });
  }, 60_000);

  it('serves /healthz, /readyz (Redis and MongoDB reachable) and /metrics', async () => {
    const gw = await startGateway({ REDIS_URL: inject('redisUrl'), MONGO_URL: inject('mongoUrl') });
    try {
      const health = await fetch(`${gw.http}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok', nodeId: gw.nodeId });
      // MongoDB connects in the background: wait for the log line instead of polling.
      await gw.waitForLog((l) => l.msg === 'mongodb connected');
      const ready = await fetch(`${gw.http}/readyz`);
      const body = (await ready.json()) as { status: string; checks: Record<string, boolean> };
      expect(ready.status).toBe(200);
      expect(body.checks).toMatchObject({ redis: true, mongodb: true, accepting: true });
      const client = await NativeClient.connect(gw.ws, { token: await makeToken() });
      await client.request('session:info');
      const metrics = await (await fetch(`${gw.http}/metrics`)).text();
      for (const name of [
        'livegate_connections{dialect="json"',
        'livegate_frames_in_total{event="session:info"',
        'livegate_frames_out_total{event="ack"',
        'livegate_http_request_duration_seconds_bucket',
        'nodejs_eventloop_lag_seconds',
        'process_resident_memory_bytes',
      ]) {
        expect(metrics).toContain(name);
      }
      await client.close();
    } finally {
      await gw.stop();
    }
  });

  it('reports not ready while MongoDB is unreachable, and stays alive', async () => {
    const gw = await startGateway({ MONGO_URL: 'mongodb://127.0.0.1:1/' });
    try {
      const ready = await fetch(`${gw.http}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: Record<string, boolean> }).checks.mongodb).toBe(false);
      expect((await fetch(`${gw.http}/healthz`)).status).toBe(200);
    } finally {
      await gw.stop();
    }
  });

  it('shuts down gracefully on SIGTERM: tells clients to reconnect elsewhere and exits 0', async () => {
    const gw = await startGateway();
    const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'native-leaving' }) });
    await native.request('session:info');
    const socket = sioConnect(gw.http, { token: await makeToken({ sub: 'sio-leaving' }) });
    await sioConnected(socket);
    const sioNotice = new Promise<unknown>((resolve) => socket.once('session:reconnect', resolve));
    const sioClosed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    const code = await gw.stop();
    expect(code).toBe(0);
    expect(await native.closed).toEqual({ code: 4000, reason: 'Node shutting down; reconnect (to any node) and resume.' });
    expect(native.frames.at(-1)).toMatchObject({ event: 'session:reconnect', data: { reason: 'shutdown', nodeId: gw.nodeId } });
    expect(await sioNotice).toEqual({ reason: 'shutdown', nodeId: gw.nodeId });
    expect(await sioClosed).toBe('transport close');
    expect(gw.logs.some((l) => l.msg === 'shutdown complete')).toBe(true);
  });
});
