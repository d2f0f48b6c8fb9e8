/**
 * Priority lanes per connection (docs/PROTOCOL.md, "Priority lanes and overload"): a socket that
 * stops reading has its chat and ambient room frames skipped once its send buffer passes the lane
 * thresholds, gets every money frame, and learns what it missed from `room:skipped` markers that
 * account for every seq; a reader that keeps up gets everything, without markers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric } from '../support/chat.js';
import { NativeClient, type ServerFrame } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

interface Marker {
  room: string;
  fromSeq: number;
  toSeq: number;
  counts: { chat: number; ambient: number };
}

const BENCH_EVENTS = new Set(['bench:msg', 'bench:gift', 'bench:ambient']);

/**
 * Walks a client's frames of `room` in arrival order: every seq after the first is either the
 * next one or explained by a marker that starts right after the last seq seen. Returns the last seq
 * accounted for and the markers.
 */
function account(frames: ServerFrame[], room: string): { last: number; markers: Marker[]; delivered: ServerFrame[] } {
  let last: number | undefined;
  const markers: Marker[] = [];
  const delivered: ServerFrame[] = [];
  for (const frame of frames) {
    if (frame.event === 'room:skipped') {
      const marker = frame.data as Marker;
      if (marker.room !== room) continue;
      if (last !== undefined) expect(marker.fromSeq).toBe(last + 1);
      expect(marker.toSeq).toBeGreaterThanOrEqual(marker.fromSeq);
      expect(marker.counts.chat + marker.counts.ambient).toBe(marker.toSeq - marker.fromSeq + 1);
      markers.push(marker);
      last = marker.toSeq;
      continue;
    }
    if (frame.room !== room || !BENCH_EVENTS.has(frame.event ?? '')) continue;
    if (last !== undefined) expect(frame.seq).toBe(last + 1);
    last = frame.seq!;
    delivered.push(frame);
  }
  return { last: last ?? 0, markers, delivered };
}

describe('priority lanes per connection', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({
      BENCH_MODE: '1',
      // Room for every money frame; chat and ambient are weighed long before this.
      WS_MAX_BACKPRESSURE: String(64 * 1024 * 1024),
      LANE_CHECK_MS: '20',
      LANE_WATCH_BYTES: '4096',
      LANE_AMBIENT_MAX_BYTES: '8192',
      LANE_CHAT_MAX_BYTES: '65536',
      // Node pressure stays out of this test: only the stalled socket's own buffer decides.
      PRESSURE_LAG_ELEVATED_MS: '60000',
      PRESSURE_LAG_CRITICAL_MS: '60000',
      RATE_LIMIT_CONN_BURST: '100000',
      RATE_LIMIT_CONN_PER_SEC: '100000',
      RATE_LIMIT_USER_BURST: '100000',
      RATE_LIMIT_USER_PER_SEC: '100000',
    });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('sheds chat and ambient to a stalled reader, never money, and accounts for every seq with room:skipped', async () => {
    const room = 'bench:lanes';
    const slow = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'lanes-stalled' }) });
    const fast = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'lanes-reader' }) });
    const publisher = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'lanes-publisher' }) });
    for (const c of [slow, fast]) expect((await c.request('bench:join', { room })).error).toBeUndefined();
    slow.socket.pause();

    const payload = 'c'.repeat(16_000);
    let gifts = 0;
    let lastSeq = 0;
    const publish = async (event: string, data: unknown): Promise<void> => {
      const ack = await publisher.request('bench:publish', { room, event, data });
      expect(ack.error).toBeUndefined();
      lastSeq = Math.max(lastSeq, (ack.data as { seq: number }).seq);
    };
    const batch = async (): Promise<void> => {
      await Promise.all([
        ...Array.from({ length: 16 }, (_, i) => publish('bench:msg', { i, payload })),
        publish('bench:ambient', { viewers: lastSeq }),
        publish('bench:gift', { n: gifts++ }),
      ]);
    };
    // Until the stalled socket's buffers (kernel, then uWS) are full enough that chat is shed.
    let batches = 0;
    while (((await metric(gw, 'livegate_lane_shed_total', { lane: 'chat', scope: 'connection' })) ?? 0) === 0) {
      await batch();
      expect(++batches).toBeLessThan(3000);
    }
    for (let i = 0; i < 10; i++) await batch();
    await publish('bench:gift', { n: gifts++, last: true });

    // Everything reached the reader that keeps up, in order, without markers.
    await fast.waitFor((f) => f.room === room && f.seq === lastSeq, 60_000);
    const seen = account(fast.frames, room);
    expect(seen.markers).toEqual([]);
    expect(seen.delivered.filter((f) => f.event === 'bench:gift')).toHaveLength(gifts);

    // The stalled reader reads again: every gift arrives, the jumps are all explained.
    slow.socket.resume();
    await slow.waitFor((f) => f.room === room && f.seq === lastSeq, 60_000);
    const stalled = account(slow.frames, room);
    expect(stalled.last).toBe(lastSeq);
    expect(stalled.delivered.filter((f) => f.event === 'bench:gift').map((f) => (f.data as { n: number }).n)).toEqual(
      Array.from({ length: gifts }, (_, i) => i),
    );
    expect(stalled.markers.length).toBeGreaterThan(0);
    const shedChat = stalled.markers.reduce((n, m) => n + m.counts.chat, 0);
    expect(shedChat).toBeGreaterThan(0);
    expect(stalled.delivered.length + shedChat + stalled.markers.reduce((n, m) => n + m.counts.ambient, 0)).toBe(seen.delivered.length);

    // The socket lived through it and is back on its topic (no longer weighed frame by frame).
    expect((await slow.request('session:info')).data).toMatchObject({ userId: 'lanes-stalled' });
    expect(await metric(gw, 'livegate_lane_transitions_total', { to: 'direct' })).toBeGreaterThanOrEqual(1);
    expect(await metric(gw, 'livegate_slow_consumers_closed_total')).toBe(0);
    expect(await metric(gw, 'livegate_skip_markers_total')).toBeGreaterThanOrEqual(stalled.markers.length);
    await Promise.all([slow.close(), fast.close(), publisher.close()]);
  }, 180_000);

  it('closes a stalled socket with 4008 as soon as a money frame no longer fits (never skipped while it lives)', async () => {
    const small = await startGateway({
      BENCH_MODE: '1',
      WS_MAX_BACKPRESSURE: '65536',
      WS_SLOW_CONSUMER_GRACE_MS: '600000',
      LANE_CHECK_MS: '20',
      PRESSURE_LAG_ELEVATED_MS: '60000',
      PRESSURE_LAG_CRITICAL_MS: '60000',
      RATE_LIMIT_CONN_BURST: '100000',
      RATE_LIMIT_CONN_PER_SEC: '100000',
      RATE_LIMIT_USER_BURST: '100000',
      RATE_LIMIT_USER_PER_SEC: '100000',
    });
    try {
      const room = 'bench:money-overflow';
      const slow = await NativeClient.connect(small.ws, { token: await makeToken({ sub: 'money-stalled' }) });
      const publisher = await NativeClient.connect(small.ws, { token: await makeToken({ sub: 'money-publisher' }) });
      expect((await slow.request('bench:join', { room })).error).toBeUndefined();
      slow.socket.pause();
      const payload = 'g'.repeat(16_000);
      // Only money frames: none may be skipped, so once they no longer fit the socket is closed.
      let sent = 0;
      while (small.logs.every((l) => !(l.msg === 'connection closed' && l['user'] === 'money-stalled'))) {
        await Promise.all(Array.from({ length: 16 }, () => publisher.request('bench:publish', { room, event: 'bench:gift', data: { n: sent++, payload } })));
        expect(sent).toBeLessThan(200_000);
      }
      const closed = await small.waitForLog((l) => l.msg === 'connection closed' && l['user'] === 'money-stalled', 15_000);
      expect(closed['code']).toBe(4008);
      expect(await metric(small, 'livegate_slow_consumers_closed_total')).toBe(1);
      expect((await metric(small, 'livegate_lane_shed_total', { lane: 'chat', scope: 'connection' })) ?? 0).toBe(0);
      slow.socket.resume();
      await slow.closed;
      await publisher.close();
    } finally {
      await small.stop();
    }
  }, 180_000);
});
