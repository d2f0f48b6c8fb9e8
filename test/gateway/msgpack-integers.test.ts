import { decode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

const KEY = 'msgpack-int-key-0123456789';

describe('msgpack on /ws through a gateway', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ SERVICE_API_KEYS: KEY });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('sends seq and large integers of a room event as 64-bit integers a strict decoder reads exactly', async () => {
    const url = new URL('/ws', gw.ws);
    url.searchParams.set('token', await makeToken({ sub: 'mp-int' }));
    url.searchParams.set('encoding', 'msgpack');
    const socket = new WebSocket(url);
    const frames: Array<Record<string, unknown>> = [];
    const waiters: Array<() => void> = [];
    socket.on('message', (raw: Buffer) => {
      frames.push(decode(raw, { useBigInt64: true }) as Record<string, unknown>);
      waiters.splice(0).forEach((w) => w());
    });
    const next = async (event: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const found = frames.find((f) => f['event'] === event);
        if (found) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    await next('session:ready');
    const res = await fetch(new URL('/api/server/publish/user', gw.http), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({ userId: 'mp-int', event: 'wallet:update', data: { balance: 9_007_199_254_740_991, small: 3, price: 1.25 } }),
    });
    const { published } = (await res.json()) as { published: Array<{ seq: number }> };
    const frame = await next('wallet:update');
    expect(typeof frame['seq']).toBe('bigint');
    expect(frame['seq']).toBe(BigInt(published[0]!.seq));
    expect(published[0]!.seq).toBeGreaterThan(2 ** 32);
    expect(frame['data']).toEqual({ balance: 9_007_199_254_740_991n, small: 3, price: 1.25 });
    socket.close();
  });
});
