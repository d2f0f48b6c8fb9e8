/**
 * @livegate/client against a real gateway node: both encodings, resume after a drop (missed events in
 * order, once, before live) and the gap path, token refresh on expiry and after a refusal, and the
 * bounded offline queue with its typed errors.
 */
import { randomBytes } from 'node:crypto';
import { type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
// The server's string formats (date-time, uuid, ...), so Value checks them as the server does.
import '../../src/gateway/http/formats.js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LivegateClient, LivegateError, type Codec, type RoomMeta, type TokenReason } from '../../clients/js/src/index.js';
import { msgpack } from '../../clients/js/src/msgpack.js';
import { ChatAck, JoinAck } from '../../src/handlers/livestream/module.js';
import { LIVESTREAM_EVENTS } from '../../src/handlers/livestream/schemas.js';
import { SessionInfo } from '../../src/handlers/session/module.js';
import { TEST_SECRET, makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { gatedSockets, next, stallingProxy, until } from './support.js';

const HISTORY = 20;
const LEAD_MS = 2000;
const GRACE_MS = 1000;
const uid = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const nowSec = (): number => Math.floor(Date.now() / 1000);
const tokenFor = (sub: string, exp: number): Promise<string> =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(TEST_SECRET));

interface Seen {
  event: string;
  data: { text?: string };
  meta: RoomMeta;
}

/** What the server sent matches the schema it declares in /asyncapi.json (and so the generated types). */
function conforms(schema: TSchema, value: unknown): void {
  expect([...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
}

let gw: GatewayProcess;
const clients: LivegateClient[] = [];

async function client(userId: string, extra: Partial<ConstructorParameters<typeof LivegateClient>[0]> = {}): Promise<LivegateClient> {
  const c = new LivegateClient({ urls: [gw.ws], token: await makeToken({ sub: userId }), backoff: { baseMs: 50, maxMs: 200 }, ...extra });
  clients.push(c);
  return c;
}

/** Every room event the client delivers, in delivery order. */
function record(c: LivegateClient, events: string[]): Seen[] {
  const seen: Seen[] = [];
  for (const event of events) c.on(event, (data: unknown, meta: RoomMeta | undefined) => meta && seen.push({ event, data: data as Seen['data'], meta }));
  return seen;
}

async function liveStream(): Promise<{ host: LivegateClient; livestreamId: string; room: string }> {
  const host = await client(uid('host'));
  await host.connect();
  const livestreamId = uid('s');
  await host.request('livestream:start', { title: 'sdk test', livestreamId });
  return { host, livestreamId, room: `live:${livestreamId}` };
}

beforeAll(async () => {
  gw = await startGateway({
    REDIS_URL: inject('redisUrl'),
    ROOM_HISTORY_SIZE: String(HISTORY),
    SESSION_EXPIRING_LEAD_MS: String(LEAD_MS),
    SESSION_EXPIRY_GRACE_MS: String(GRACE_MS),
    JWT_CLOCK_TOLERANCE_SEC: '0',
    RATE_LIMIT_CONN_PER_SEC: '10000',
    RATE_LIMIT_CONN_BURST: '10000',
    RATE_LIMIT_USER_PER_SEC: '10000',
    RATE_LIMIT_USER_BURST: '10000',
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await gw?.stop();
});

describe.each<[string, 'json' | Codec]>([
  ['json', 'json'],
  ['msgpack', msgpack],
])('@livegate/client over %s', (_name, format) => {
  it('acks, typed errors and room events with their room and seq', async () => {
    const { host, livestreamId, room } = await liveStream();
    const viewer = await client(uid('viewer'), { format });
    const ready = await viewer.connect();
    expect(ready).toMatchObject({ nodeId: gw.nodeId });
    const seen = record(viewer, ['livestream:chat']);
    const joined = await viewer.request('livestream:join', { livestreamId });
    expect(joined).toMatchObject({ livestreamId, viewers: 1 });
    conforms(JoinAck, joined);
    conforms(SessionInfo, await viewer.request('session:info', {}));
    const events: unknown[] = [];
    viewer.on('livestream:chat', (data) => events.push(data));
    expect(viewer.rooms()).toEqual([room]);
    const acks = [];
    for (let i = 0; i < 3; i++) acks.push(await host.request('livestream:chat', { livestreamId, text: `m${i}` }));
    await until(viewer, ['livestream:chat'], () => seen.length === 3);
    expect(seen.map((s) => s.data.text)).toEqual(['m0', 'm1', 'm2']);
    for (const ack of acks) conforms(ChatAck, ack);
    for (const event of events) conforms(LIVESTREAM_EVENTS['livestream:chat']!.schema, event);
    expect(seen.map((s) => s.meta)).toEqual(acks.map((a) => ({ room, seq: (a as { seq: number }).seq })));

    const unknown = await viewer.request('no:such', {}).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(LivegateError);
    expect(unknown).toMatchObject({ code: 'unknown_event', event: 'no:such' });
    await expect(viewer.request('livestream:chat', { livestreamId: uid('nostream'), text: 'x' })).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('@livegate/client resume', () => {
  it('after a drop, rejoins with lastSeq: missed events in order and once, before live ones; past the history it raises gap', async () => {
    const { host, livestreamId, room } = await liveStream();
    const sockets = gatedSockets();
    const viewer = await client(uid('viewer'), { WebSocket: sockets.Factory });
    await viewer.connect();
    const seen = record(viewer, ['livestream:chat']);
    const gaps: unknown[] = [];
    viewer.on('gap', (g) => gaps.push(g));
    await viewer.request('livestream:join', { livestreamId });
    const say = async (from: number, count: number): Promise<void> => {
      for (let i = from; i < from + count; i++) await host.request('livestream:chat', { livestreamId, text: `m${i}` });
    };
    await say(0, 3);
    await until(viewer, ['livestream:chat'], () => seen.length === 3);

    // Cut off while the room goes on: 4 events are missed, inside the room's history.
    sockets.open = false;
    const down = next(viewer, 'disconnected');
    sockets.drop();
    expect(await down).toMatchObject({ code: 1006, willReconnect: true });
    await say(3, 4);
    sockets.open = true;
    await next(viewer, 'connected');
    // A live event sent as soon as the client is back lands after the replayed ones.
    await say(7, 1);
    await until(viewer, ['livestream:chat'], () => seen.length === 8);
    expect(seen.map((s) => s.data.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    const seqs = seen.map((s) => s.meta.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(gaps).toEqual([]);

    // Cut off for longer than the history keeps: the server says gap, the client raises it and goes on live.
    sockets.open = false;
    const down2 = next(viewer, 'disconnected');
    sockets.drop();
    await down2;
    await say(8, HISTORY + 5);
    sockets.open = true;
    const gap = await next(viewer, 'gap');
    expect(gap).toMatchObject({ room, source: 'server' });
    expect(gap.latestSeq).toBeGreaterThan(seqs.at(-1)!);
    await say(100, 1);
    await until(viewer, ['livestream:chat'], () => seen.at(-1)?.data.text === 'm100');
    expect(seen.slice(8).map((s) => s.data.text)).toEqual(['m100']);
    expect(viewer.lastSeq(room)).toBe(seen.at(-1)!.meta.seq);
  });
});

describe('@livegate/client tokens', () => {
  it('refreshes an expiring token in place (same connection, rooms kept past the old exp)', async () => {
    const userId = uid('refresher');
    const reasons: TokenReason[] = [];
    const firstExp = nowSec() + 3;
    const c = new LivegateClient({
      urls: gw.ws,
      token: (reason) => {
        reasons.push(reason);
        return tokenFor(userId, reasons.length === 1 ? firstExp : nowSec() + 600);
      },
    });
    clients.push(c);
    const drops: unknown[] = [];
    c.on('disconnected', (d) => drops.push(d));
    const ready = await c.connect();
    const expiring = new Promise<{ expiresAt: string; closesAt: string }>((resolve) => c.on('session:expiring', resolve));
    const { closesAt } = await expiring;
    // Wait until the first token's grace has passed: a connection that had not refreshed is closed by now.
    await new Promise((r) => setTimeout(r, Date.parse(closesAt) + 500 - Date.now()));
    const info = await c.request('session:info', {});
    expect(info).toMatchObject({ userId, connectionId: ready.connectionId });
    expect(reasons).toEqual(['connect', 'expiring']);
    expect(drops).toEqual([]);
  });

  it('asks the provider again after a refused token (4101) and connects with the new one', async () => {
    const userId = uid('refused');
    const reasons: TokenReason[] = [];
    const c = new LivegateClient({
      urls: gw.ws,
      backoff: { baseMs: 20, maxMs: 50 },
      token: (reason) => {
        reasons.push(reason);
        return reasons.length === 1 ? 'not-a-jwt' : tokenFor(userId, nowSec() + 600);
      },
    });
    clients.push(c);
    const closed = next(c, 'disconnected');
    const ready = await c.connect();
    expect(await closed).toMatchObject({ code: 4101, willReconnect: true });
    expect(ready.userId).toBe(userId);
    expect(reasons).toEqual(['connect', 'refused']);
  });

  it('stops on a second refusal: connect and queued requests fail with a typed error', async () => {
    const c = new LivegateClient({ urls: gw.ws, backoff: { baseMs: 20, maxMs: 50 }, token: () => 'not-a-jwt' });
    clients.push(c);
    const queued = c.request('session:info', {});
    const error = await c.connect().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'closed', closeCode: 4101 });
    await expect(queued).rejects.toMatchObject({ code: 'closed', closeCode: 4101 });
    expect(c.state).toBe('closed');
  });
});

describe('@livegate/client offline queue', () => {
  it('holds requests made while disconnected, in order, up to its bound; expired and overflowing ones fail typed', async () => {
    const { host, livestreamId } = await liveStream();
    const viewer = await client(uid('viewer'), { maxQueue: 4 });
    const seen = record(host, ['livestream:chat']);
    // Made before connect: they wait. The chat needs the join before it (else `forbidden`).
    const join = viewer.request('livestream:join', { livestreamId });
    const chats = [viewer.request('livestream:chat', { livestreamId, text: 'q0' }), viewer.request('livestream:chat', { livestreamId, text: 'q1' })];
    const expires = viewer.request('session:info', {}, { timeout: 100 });
    const overflow = viewer.request('session:info', {});
    await expect(overflow).rejects.toMatchObject({ code: 'queue_full', event: 'session:info' });
    await expect(expires).rejects.toMatchObject({ code: 'queue_expired' });

    await viewer.connect();
    await expect(join).resolves.toMatchObject({ livestreamId });
    const [a, b] = (await Promise.all(chats)) as Array<{ seq: number }>;
    expect(b!.seq).toBe(a!.seq + 1);
    await until(host, ['livestream:chat'], () => seen.length === 2);
    expect(seen.map((s) => s.data.text)).toEqual(['q0', 'q1']);

    viewer.close();
    expect(viewer.state).toBe('closed');
    await expect(viewer.request('session:info', {})).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('@livegate/client under rate limits', () => {
  let limited: GatewayProcess;
  beforeAll(async () => {
    limited = await startGateway({ RATE_LIMIT_CONN_PER_SEC: '20', RATE_LIMIT_CONN_BURST: '5' });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('waits the milliseconds the server names and sends again: every request of a burst gets its ack', async () => {
    const c = new LivegateClient({ urls: limited.ws, token: await makeToken({ sub: uid('bursty') }) });
    clients.push(c);
    await c.connect();
    const started = Date.now();
    const acks = await Promise.all(Array.from({ length: 15 }, (_, i) => c.request('session:ping', { clientAt: new Date(i).toISOString() })));
    expect(acks.map((a) => a.clientAt)).toEqual(Array.from({ length: 15 }, (_, i) => new Date(i).toISOString()));
    // 5 at once, then 10 at 20 per second: at least ~450 ms of waiting the server asked for.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('heartbeat: pings an idle connection; a connection that goes silent without closing (half-open) is dropped and replaced, rooms rejoined', async () => {
    const proxy = await stallingProxy(Number(new URL(gw.http).port));
    try {
      const { host, livestreamId, room } = await liveStream();
      const c = await client(uid('quiet'), { urls: [proxy.url], heartbeat: { intervalMs: 200, timeoutMs: 400 } });
      const drops: Array<{ code: number; reason: string; willReconnect: boolean }> = [];
      c.on('disconnected', (d) => drops.push(d));
      const first = await c.connect();
      await c.request('livestream:join', { livestreamId });
      // Idle but alive: the pings are answered, nothing is dropped.
      let beats = 0;
      c.on('heartbeat', ({ rttMs }) => {
        expect(rttMs).toBeGreaterThanOrEqual(0);
        beats++;
      });
      await until(c, ['heartbeat'], () => beats >= 3);
      expect(drops).toEqual([]);

      // The path goes silent: no frame either way, no FIN, no RST.
      const seen: string[] = [];
      c.on('livestream:chat', (data) => seen.push(data.text));
      proxy.stall();
      const dropped = await next(c, 'disconnected');
      expect(dropped).toEqual({ code: 1006, reason: 'heartbeat timeout', willReconnect: true });
      const again = await next(c, 'connected');
      expect(again.connectionId).not.toBe(first.connectionId);
      expect(proxy.opened).toBe(2);
      // The stream room is rejoined on the new connection.
      expect(c.rooms()).toContain(room);
      await host.request('livestream:chat', { livestreamId, text: 'still here?' });
      await until(c, ['livestream:chat'], () => seen.includes('still here?'));
      expect((await c.request('session:info', {})).connectionId).toBe(again.connectionId);
    } finally {
      await proxy.close();
    }
  });
});
