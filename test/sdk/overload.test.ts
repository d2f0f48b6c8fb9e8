/**
 * @livegate/client under the node's overload rules (docs/PROTOCOL.md, "Priority lanes and overload"):
 * a `room:skipped` marker moves the room's last seq without a gap, an `overloaded` refusal is sent
 * again after its retryAfterMs, and a 4013 admission refusal is reconnected after its retry-after.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LivegateClient, type ClientEvents, type RoomMeta } from '../../clients/js/src/index.js';
import { metric, waitUntil } from '../support/chat.js';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

const gateways: GatewayProcess[] = [];
const clients: LivegateClient[] = [];

async function gateway(env: Record<string, string>): Promise<GatewayProcess> {
  const gw = await startGateway({ BENCH_MODE: '1', LANE_CHECK_MS: '20', RATE_LIMIT_CONN_BURST: '100000', RATE_LIMIT_USER_BURST: '100000', ...env });
  gateways.push(gw);
  return gw;
}

async function sdk(gw: GatewayProcess, userId: string): Promise<LivegateClient> {
  const c = new LivegateClient({ urls: [gw.ws], token: await makeToken({ sub: userId }), backoff: { baseMs: 50, maxMs: 200 } });
  clients.push(c);
  return c;
}

afterAll(async () => {
  for (const c of clients) c.close();
  for (const gw of gateways) await gw.stop();
});

describe('@livegate/client and overload', () => {
  it('takes room:skipped as the end of a jump, not a gap', async () => {
    // Elevated from the first check on: ambient frames are skipped for every socket of the node.
    const gw = await gateway({ PRESSURE_LAG_ELEVATED_MS: '0', PRESSURE_LAG_CRITICAL_MS: '60000' });
    await waitUntil('elevated', async () => (await metric(gw, 'livegate_pressure_level')) === 1);
    const room = 'bench:sdk-skipped';
    const c = await sdk(gw, 'sdk-skip');
    await c.connect();
    await c.request('bench:join', { room });
    const delivered: number[] = [];
    const gaps: ClientEvents['gap'][] = [];
    const skipped: ClientEvents['skipped'][] = [];
    c.on('bench:msg', (_data: unknown, meta: RoomMeta | undefined) => meta && delivered.push(meta.seq));
    c.on('gap', (g) => gaps.push(g));
    c.on('skipped', (s) => skipped.push(s));

    const publisher = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'sdk-skip-pub' }) });
    const seqs: number[] = [];
    for (const event of ['bench:msg', 'bench:ambient', 'bench:ambient', 'bench:msg']) {
      seqs.push(((await publisher.request('bench:publish', { room, event, data: {} })).data as { seq: number }).seq);
    }
    // Both chat frames delivered and both ambient ones told (the markers may arrive while publishing).
    await waitUntil('the frames and markers', () => Promise.resolve(delivered.length === 2 && skipped.reduce((n, m) => n + m.counts.ambient, 0) === 2));
    expect(delivered).toEqual([seqs[0], seqs[3]]);
    // One marker, or two when the trailing-skip check ran between the two ambient publishes: together they cover both.
    expect(skipped[0]).toMatchObject({ room, fromSeq: seqs[1] });
    expect(skipped.at(-1)).toMatchObject({ room, toSeq: seqs[2] });
    expect(skipped.reduce((n, s) => n + s.counts.ambient, 0)).toBe(2);
    expect(gaps).toEqual([]);
    expect(c.lastSeq(room)).toBe(seqs[3]);
    await publisher.close();
  });

  it('sends an overloaded request again after its retryAfterMs, and it runs once the node recovers', async () => {
    // Pressure from send buffers only: critical while a stalled reader holds more than 1 KB.
    const gw = await gateway({
      WS_MAX_BACKPRESSURE: String(64 * 1024 * 1024),
      PRESSURE_LAG_ELEVATED_MS: '60000',
      PRESSURE_LAG_CRITICAL_MS: '60000',
      PRESSURE_BUFFERED_ELEVATED_BYTES: '1024',
      PRESSURE_BUFFERED_CRITICAL_BYTES: '1024',
      PRESSURE_RETRY_AFTER_MS: '200',
    });
    const room = 'bench:sdk-overloaded';
    const stalled = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'sdk-stalled' }) });
    await stalled.request('bench:join', { room });
    stalled.socket.pause();
    const publisher = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'sdk-filler' }) });
    const payload = 'm'.repeat(64_000);
    while ((await metric(gw, 'livegate_pressure_level')) !== 2) {
      await Promise.all(Array.from({ length: 8 }, () => publisher.request('bench:publish', { room, event: 'bench:gift', data: { payload } })));
    }

    const host = await sdk(gw, 'sdk-host');
    await host.connect();
    await host.request('livestream:start', { title: 'busy', livestreamId: 'sdk-busy' });
    const chat = host.request('livestream:chat', { livestreamId: 'sdk-busy', text: 'eventually' }, { timeout: 60_000 });
    await waitUntil('a refused chat', async () => ((await metric(gw, 'livegate_publishes_refused_total', { lane: 'chat' })) ?? 0) >= 1);
    stalled.socket.resume();
    expect(await chat).toMatchObject({ livestreamId: 'sdk-busy' });
    await Promise.all([stalled.close(), publisher.close()]);
  }, 120_000);

  it('reconnects after the retry-after of a 4013 admission refusal', async () => {
    const gw = await gateway({ ADMISSION_PER_SEC: '1', ADMISSION_BURST: '1', ADMISSION_RETRY_AFTER_MS: '100' });
    // Six clients at once against one token plus one per second: some are refused and come back later.
    const storm = await Promise.all(Array.from({ length: 6 }, (_, i) => sdk(gw, `sdk-storm-${i}`)));
    const refusals = storm.map((c) => {
      const seen: Array<{ at: number; wait: number; code: number; willReconnect: boolean }> = [];
      c.on('disconnected', (d) => {
        if (c.state !== 'closed')
          seen.push({ at: Date.now(), wait: Number(/retryAfterMs=(\d+)/.exec(d.reason)?.[1]), code: d.code, willReconnect: d.willReconnect });
      });
      return seen;
    });
    const connectedAt = await Promise.all(storm.map(async (c) => (await c.connect(), Date.now())));
    for (const r of refusals.flat()) expect(r).toMatchObject({ code: 4013, willReconnect: true });
    const refused = refusals.filter((r) => r.length > 0).length;
    expect(refused).toBeGreaterThan(0);
    // Every refused client waited at least the retry-after it was given before it got in.
    storm.forEach((_, i) => {
      const last = refusals[i]!.at(-1);
      if (last) expect(connectedAt[i]! - last.at).toBeGreaterThanOrEqual(last.wait);
    });
    expect(await metric(gw, 'livegate_connections_refused_total', { reason: 'admission' })).toBe(refusals.reduce((n, r) => n + r.length, 0));
  }, 60_000);
});
