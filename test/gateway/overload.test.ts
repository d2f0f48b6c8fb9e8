/**
 * Shedding before the cliff (docs/PROTOCOL.md, "Priority lanes and overload"): node pressure
 * thresholds set to 0 make the level deterministic (every event-loop delay is at or above them), so
 * the refusals and the node-wide ambient shedding are checked without load; admission control
 * refuses connections over its bucket with 4013 and a jittered retry-after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_LANES } from '../../src/gateway/lanes.js';
import { metric, waitUntil } from '../support/chat.js';
import { NativeClient, sioConnect, sioConnected, type ServerFrame } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

const LIMITS = {
  BENCH_MODE: '1',
  LANE_CHECK_MS: '20',
  PRESSURE_RETRY_AFTER_MS: '300',
  RATE_LIMIT_CONN_BURST: '10000',
  RATE_LIMIT_USER_BURST: '10000',
};

interface Marker {
  room: string;
  fromSeq: number;
  toSeq: number;
  counts: { chat: number; ambient: number };
}

type Seen = { event: string | undefined; seq: number | undefined } | { skipped: Marker };

/**
 * Room frames and markers in arrival order, adjacent markers joined: a skip run may be told in two
 * markers when the trailing-skip check (every LANE_CHECK_MS) falls inside it.
 */
function mergeMarkers(frames: ServerFrame[]): Seen[] {
  const out: Seen[] = [];
  for (const f of frames) {
    const prev = out.at(-1);
    const m = f.data as Marker;
    if (f.event !== 'room:skipped') out.push({ event: f.event, seq: f.seq });
    else if (prev && 'skipped' in prev && prev.skipped.toSeq + 1 === m.fromSeq) {
      const counts = { chat: prev.skipped.counts.chat + m.counts.chat, ambient: prev.skipped.counts.ambient + m.counts.ambient };
      prev.skipped = { ...prev.skipped, toSeq: m.toSeq, counts };
    } else out.push({ skipped: { ...m } });
  }
  return out;
}

async function pressureLevel(gw: GatewayProcess, level: number): Promise<void> {
  await waitUntil(`pressure level ${level}`, async () => (await metric(gw, 'livegate_pressure_level')) === level);
}

describe('node pressure: critical', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ ...LIMITS, PRESSURE_LAG_ELEVATED_MS: '0', PRESSURE_LAG_CRITICAL_MS: '0' });
    await pressureLevel(gw, 2);
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('refuses chat and ambient publishes with overloaded and a retryAfterMs; control, money and joins still run', async () => {
    const host = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'crit-host' }) });
    const viewer = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'crit-viewer' }) });
    expect((await host.request('livestream:start', { title: 'hot', livestreamId: 'crit-stream' })).error).toBeUndefined();
    expect((await viewer.request('livestream:join', { livestreamId: 'crit-stream' })).error).toBeUndefined();

    const chat = await viewer.request('livestream:chat', { livestreamId: 'crit-stream', text: 'hello' });
    expect(chat.error).toMatchObject({ code: 'overloaded' });
    const retry = (chat.error as { retryAfterMs?: number }).retryAfterMs;
    expect(retry).toBeGreaterThanOrEqual(300);
    expect(retry).toBeLessThan(600);
    expect((await viewer.request('presence:set', { status: 'away' })).error).toMatchObject({ code: 'overloaded' });

    // What is not a low-lane publish is never refused.
    expect((await viewer.request('session:info')).data).toMatchObject({ userId: 'crit-viewer' });
    expect((await host.request('bench:publish', { room: 'bench:crit', event: 'bench:gift', data: {} })).error).toBeUndefined();
    expect(await metric(gw, 'livegate_publishes_refused_total', { lane: 'chat' })).toBe(1);
    expect(await metric(gw, 'livegate_publishes_refused_total', { lane: 'ambient' })).toBe(1);
    expect(await metric(gw, 'livegate_errors_total', { code: 'overloaded' })).toBe(2);
    await Promise.all([host.close(), viewer.close()]);
  });
});

describe('lane table against the node', () => {
  it('gives every server event the node declares (/asyncapi.json) an explicit lane', async () => {
    const gw = await startGateway({ BENCH_MODE: '1' });
    try {
      const doc = (await (await fetch(`${gw.http}/asyncapi.json`)).json()) as {
        operations: Record<string, { action: string; messages: Array<{ $ref: string }> }>;
        components: { messages: Record<string, { name: string }> };
      };
      const received = Object.values(doc.operations)
        .filter((op) => op.action === 'receive')
        .flatMap((op) => op.messages.map((m) => doc.components.messages[m.$ref.slice(m.$ref.lastIndexOf('/') + 1)]!.name));
      expect(received.length).toBeGreaterThan(20);
      expect(received.filter((event) => !(event in EVENT_LANES))).toEqual([]);
    } finally {
      await gw.stop();
    }
  });
});

describe('node pressure: elevated', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ ...LIMITS, PRESSURE_LAG_ELEVATED_MS: '0', PRESSURE_LAG_CRITICAL_MS: '60000' });
    await pressureLevel(gw, 1);
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('refuses ambient publishes only', async () => {
    const host = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'elev-host' }) });
    expect((await host.request('livestream:start', { title: 'warm', livestreamId: 'elev-stream' })).error).toBeUndefined();
    expect((await host.request('livestream:chat', { livestreamId: 'elev-stream', text: 'still on' })).error).toBeUndefined();
    expect((await host.request('presence:set', { status: 'away' })).error).toMatchObject({ code: 'overloaded' });
    await host.close();
  });

  it('sheds ambient room frames for every socket of the node, told by one room:skipped before the next frame', async () => {
    const room = 'bench:elevated';
    const viewers = await Promise.all(['elev-a', 'elev-b'].map(async (sub) => NativeClient.connect(gw.ws, { token: await makeToken({ sub }) })));
    for (const v of viewers) expect((await v.request('bench:join', { room })).error).toBeUndefined();
    const publisher = viewers[0]!;
    const seqs: number[] = [];
    for (const event of ['bench:msg', 'bench:ambient', 'bench:ambient', 'bench:gift', 'bench:ambient', 'bench:msg']) {
      const ack = await publisher.request('bench:publish', { room, event, data: { event } });
      expect(ack.error).toBeUndefined();
      seqs.push((ack.data as { seq: number }).seq);
    }
    for (const v of viewers) {
      await v.waitFor((f) => f.room === room && f.seq === seqs[5]);
      const got = mergeMarkers(v.frames.filter((f) => f.room === room || f.event === 'room:skipped'));
      expect(got).toEqual([
        { event: 'bench:msg', seq: seqs[0] },
        { skipped: { room, fromSeq: seqs[1], toSeq: seqs[2], counts: { chat: 0, ambient: 2 } } },
        { event: 'bench:gift', seq: seqs[3] },
        { skipped: { room, fromSeq: seqs[4], toSeq: seqs[4], counts: { chat: 0, ambient: 1 } } },
        { event: 'bench:msg', seq: seqs[5] },
      ]);
    }
    expect(await metric(gw, 'livegate_lane_shed_total', { lane: 'ambient', scope: 'node' })).toBe(6);
    await Promise.all(viewers.map((v) => v.close()));
  });

  it('sheds ambient for a resumed viewer (delivered one by one) as for the topic subscribers', async () => {
    const livestreamId = 'elev-live';
    const room = `live:${livestreamId}`;
    const host = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'elev-live-host' }) });
    expect((await host.request('livestream:start', { title: 'warm', livestreamId })).error).toBeUndefined();
    const first = await host.request('livestream:chat', { livestreamId, text: 'before' });
    const fromSeq = (first.data as { seq: number }).seq;
    const plain = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'elev-live-plain' }) });
    const resumed = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'elev-live-resumed' }) });
    expect((await plain.request('livestream:join', { livestreamId })).error).toBeUndefined();
    expect((await resumed.request('livestream:join', { livestreamId, lastSeq: fromSeq })).data).toMatchObject({ resume: { gap: false } });
    // The viewer count changed: its livestream:viewers frame (ambient) is skipped on this elevated node.
    await waitUntil('a skipped viewer count', async () => ((await metric(gw, 'livegate_lane_shed_total', { lane: 'ambient', scope: 'connection' })) ?? 0) >= 1);
    const last = (await host.request('livestream:chat', { livestreamId, text: 'after' })).data as { seq: number };
    for (const viewer of [plain, resumed]) {
      await viewer.waitFor((f) => f.room === room && f.seq === last.seq);
      const seen = mergeMarkers(viewer.frames.filter((f) => f.room === room || f.event === 'room:skipped')).filter(
        (f) => 'skipped' in f || (f.seq !== undefined && f.seq > fromSeq),
      );
      // Whatever came between the join and the last chat is accounted for; the viewer counts among it were skipped.
      expect(seen.some((f) => 'skipped' in f && f.skipped.counts.ambient >= 1)).toBe(true);
      expect(seen.at(-1)).toEqual({ event: 'livestream:chat', seq: last.seq });
      expect(seen.every((f) => !('event' in f) || f.event !== 'livestream:viewers')).toBe(true);
    }
    await Promise.all([host.close(), plain.close(), resumed.close()]);
  });

  it('tells Socket.IO clients too: room:skipped arrives as an event before the next frame', async () => {
    const room = 'bench:elevated-sio';
    const socket = sioConnect(gw.http, { token: await makeToken({ sub: 'elev-sio' }) });
    await sioConnected(socket);
    const seen: Array<[string, unknown]> = [];
    socket.onAny((event: string, data: unknown) => seen.push([event, data]));
    expect(await socket.emitWithAck('bench:join', { room })).toEqual({ room });
    const publisher = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'elev-sio-pub' }) });
    const seqs: number[] = [];
    for (const event of ['bench:ambient', 'bench:msg'])
      seqs.push(((await publisher.request('bench:publish', { room, event, data: { event } })).data as { seq: number }).seq);
    await waitUntil('the chat frame', () => Promise.resolve(seen.some(([event]) => event === 'bench:msg')));
    expect(seen).toEqual([
      ['room:skipped', { room, fromSeq: seqs[0], toSeq: seqs[0], counts: { chat: 0, ambient: 1 } }],
      ['bench:msg', { event: 'bench:msg' }],
    ]);
    socket.close();
    await publisher.close();
  });

  it('tells a trailing skip without waiting for another frame of the room', async () => {
    const room = 'bench:elevated-tail';
    const viewer = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'elev-tail' }) });
    expect((await viewer.request('bench:join', { room })).error).toBeUndefined();
    const ack = await viewer.request('bench:publish', { room, event: 'bench:ambient', data: {} });
    const seq = (ack.data as { seq: number }).seq;
    const marker = await viewer.waitFor((f) => f.event === 'room:skipped' && (f.data as { room: string }).room === room);
    expect(marker.data).toEqual({ room, fromSeq: seq, toSeq: seq, counts: { chat: 0, ambient: 1 } });
    await viewer.close();
  });
});

describe('admission control', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ ...LIMITS, ADMISSION_PER_SEC: '1', ADMISSION_BURST: '2', ADMISSION_RETRY_AFTER_MS: '100' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('closes connections over the bucket with 4013 and a retryAfterMs spread at the admission rate, before authenticating them', async () => {
    const token = await makeToken({ sub: 'storm' });
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const c = await NativeClient.connect(gw.ws, { token });
        if (c.frames.some((f) => f.event === 'session:ready')) return { client: c, admitted: true as const };
        const closed = await c.closed;
        return { client: c, admitted: false as const, closedAt: Date.now(), ...closed };
      }),
    );
    const elapsedSec = (Date.now() - started) / 1000;
    const admitted = outcomes.filter((o) => o.admitted).length;
    const refused = outcomes.flatMap((o) => (o.admitted ? [] : [o]));
    // Two at once plus one per second, however slow the box was.
    expect(admitted).toBeLessThanOrEqual(2 + Math.ceil(elapsedSec));
    expect(refused.length).toBeGreaterThan(0);
    const returns = refused.map((r) => {
      expect(r.code).toBe(4013);
      const wait = Number(/retryAfterMs=(\d+)/.exec(r.reason)?.[1]);
      // Never sooner than ADMISSION_RETRY_AFTER_MS; at most one slot per refused socket ahead, plus jitter.
      expect(wait).toBeGreaterThanOrEqual(100);
      expect(wait).toBeLessThanOrEqual(refused.length * 1000 + 200);
      return r.closedAt + wait;
    });
    // Each refused socket got its own slot, 1 / ADMISSION_PER_SEC after the one before: the last one
    // is told to come back at least one second per refused socket after the storm began.
    expect(Math.max(...returns)).toBeGreaterThanOrEqual(started + refused.length * 1000);
    expect(await metric(gw, 'livegate_connections_refused_total', { reason: 'admission' })).toBe(refused.length);
    // Refused sockets were never authenticated: no session of theirs opened (log lines arrive on their own time).
    const opened = (): number => gw.logs.filter((l) => l.msg === 'connection open').length;
    await waitUntil('the admitted sockets logged', () => Promise.resolve(opened() >= admitted));
    expect(opened()).toBe(admitted);
    await Promise.all(outcomes.map((o) => o.client.close()));
  });
});
