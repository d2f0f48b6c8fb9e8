import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import nodeFetch from 'node-fetch';
import { Agent, request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../support/gateway.js';

const KEY = 'keepalive-test-key-0123456789';
const body = (i: number): string => JSON.stringify({ userId: `ka-${i}`, event: 'notification:new', data: { i } });

/** One raw exchange on a plain agent, reporting the response's Connection header and the socket used. */
function rawPost(base: string, agent: HttpAgent, headers: Record<string, string>, payload: string) {
  return new Promise<{ status: number; connection: string | undefined; socketClosed: Promise<void>; socketId: object }>((resolve, reject) => {
    const req = httpRequest(
      new URL('/api/server/publish/user', base),
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'content-length': String(Buffer.byteLength(payload)), ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, socketClosed, socketId: socket }));
      },
    );
    let socket: object = {};
    let socketClosed: Promise<void> = Promise.resolve();
    req.on('socket', (s) => {
      socket = s;
      socketClosed = new Promise((r) => s.once('close', () => r()));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('HTTP/1.1 persistent connections', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ SERVICE_API_KEYS: KEY, HTTP_MAX_BODY: '2048' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('answers `Connection: close` with `Connection: close`, then closes the connection', async () => {
    const agent = new HttpAgent({ keepAlive: false });
    const reply = await rawPost(gw.http, agent, { connection: 'close' }, body(0));
    expect(reply.status).toBe(200);
    expect(reply.connection).toBe('close');
    await reply.socketClosed;
    agent.destroy();
  });

  it('keeps the connection open otherwise: sequential requests reuse one socket', async () => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const first = await rawPost(gw.http, agent, {}, body(1));
    const second = await rawPost(gw.http, agent, {}, body(2));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.connection).not.toBe('close');
    expect(second.socketId).toBe(first.socketId);
    agent.destroy();
  });

  it('ends the connection after refusing a body it did not read (413), saying so', async () => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const big = await rawPost(gw.http, agent, {}, JSON.stringify({ userId: 'ka', event: 'x', data: 'y'.repeat(64 * 1024) }));
    expect(big.status).toBe(413);
    expect(big.connection).toBe('close');
    await big.socketClosed;
    // The agent opens a fresh connection for the next request.
    expect((await rawPost(gw.http, agent, {}, body(3))).status).toBe(200);
    agent.destroy();
  });

  it('node-fetch: 300 sequential publishes (`Connection: close`, keep-alive agent, both at once), none hang up', async () => {
    const keepAlive = new HttpAgent({ keepAlive: true, maxSockets: 4 });
    const variants: Array<{ agent?: HttpAgent; close: boolean }> = [{ close: true }, { agent: keepAlive, close: false }, { agent: keepAlive, close: true }];
    for (const { agent, close } of variants) {
      for (let i = 0; i < 100; i++) {
        const res = await nodeFetch(new URL('/api/server/publish/user', gw.http).toString(), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': KEY, ...(close ? { connection: 'close' } : {}) },
          body: body(i),
          ...(agent ? { agent } : {}),
        });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ nodes: 0 });
        // HTTP/1.1 is persistent by default: no header unless the connection ends.
        expect(res.headers.get('connection')).toBe(close ? 'close' : null);
      }
    }
    keepAlive.destroy();
  });

  it('undici: 200 sequential publishes over one pooled connection, and with `connection: close` on each', async () => {
    const dispatcher = new Agent({ connections: 1, pipelining: 1 });
    for (let i = 0; i < 100; i++) {
      const res = await undiciRequest(new URL('/api/server/publish/user', gw.http), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        body: body(i),
        dispatcher,
      });
      expect(res.statusCode).toBe(200);
      await res.body.json();
    }
    await dispatcher.close();
    // Global fetch (undici inside Node) with an explicit close on every request.
    for (let i = 0; i < 100; i++) {
      const res = await fetch(new URL('/api/server/publish/user', gw.http), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY, connection: 'close' },
        body: body(i),
      }).catch((err: unknown) => {
        throw new Error(`request ${i}: ${String((err as { cause?: unknown }).cause ?? err)}`);
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  });
});
