import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

async function metric(gw: GatewayProcess, name: string): Promise<number> {
  const text = await (await fetch(`${gw.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
  return line ? Number(line.split(' ').pop()) : 0;
}

/**
 * The slow-consumer policy: a socket that stops reading is skipped once its send buffer passes
 * WS_MAX_BACKPRESSURE and closed with 4008 after WS_SLOW_CONSUMER_GRACE_MS, while the rest of the
 * room keeps receiving everything.
 */
describe('backpressure and slow consumers', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({
      BENCH_MODE: '1',
      WS_MAX_BACKPRESSURE: '16384',
      WS_SLOW_CONSUMER_GRACE_MS: '500',
      RATE_LIMIT_CONN_BURST: '10000',
      RATE_LIMIT_USER_BURST: '10000',
    });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('closes a stalled socket with 4008 and keeps delivering to the others', async () => {
    const room = 'bench:slow-consumer';
    const slow = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'stalled' }) });
    const fast = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'keeping-up' }) });
    const publisher = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'publisher' }) });
    expect((await slow.request('bench:join', { room })).error).toBeUndefined();
    expect((await fast.request('bench:join', { room })).error).toBeUndefined();
    slow.socket.pause();

    // 400 frames of ~40 KB (16 MB) overflow the kernel's socket buffers and then uWS's.
    const payload = 'x'.repeat(40_000);
    const total = 400;
    for (let i = 0; i < total; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => publisher.request('bench:publish', { room, data: { i: i + j, payload } })));
    }
    await fast.waitFor(() => fast.frames.filter((f) => f.event === 'bench:msg').length === total, 30_000);
    const seqs = fast.frames.filter((f) => f.event === 'bench:msg').map((f) => f.seq ?? 0);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));

    const closed = await gw.waitForLog((l) => l.msg === 'connection closed' && l['user'] === 'stalled', 15_000);
    expect(closed['code']).toBe(4008);
    expect(await metric(gw, 'livegate_slow_consumers_closed_total')).toBe(1);
    // uWS cannot queue a close frame behind a full send buffer: it shuts the TCP connection, so the
    // stalled client sees 1006 (the server logged 4008 above). It then reconnects and resumes.
    slow.socket.resume();
    expect((await slow.closed).code).toBe(1006);
    const received = slow.frames.filter((f) => f.event === 'bench:msg').length;
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(total);

    // The publisher and the fast reader were never affected.
    expect((await fast.request('session:info')).data).toMatchObject({ userId: 'keeping-up' });
    await Promise.all([fast.close(), publisher.close()]);
  }, 60_000);
});
