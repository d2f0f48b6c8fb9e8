/**
 * /api/livestreams/*, /api/pk-battles/* and /api/live-shopping/* against a real gateway (its own
 * Redis, FerretDB), with sockets in the rooms: the HTTP routes run the socket path's services, so
 * what an HTTP call changes is what the socket side sees, and the same events go out.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fund } from '../money/support.js';
import { NativeClient, type ServerFrame } from '../support/clients.js';
import { removeDir, startRedis } from '../support/services.js';
import { FORGED, domainEnv, outcome, type Actor, type DomainEnv, type Page } from './helpers.js';

/** The wire's instants (docs/PROTOCOL.md, "Wire convention"). */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Livestream {
  livestreamId: string;
  hostId: string;
  title: string;
  status: 'created' | 'live' | 'ended';
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  cohosts: string[];
  viewers: number;
  room: string;
}
interface Receipt {
  giftTransactionId: string;
  giftId: string;
  recipientId: string;
  livestreamId: string | null;
  quantity: number;
  totalCost: number;
  balance: number;
}
interface Battle {
  battleId: string;
  host1Id: string;
  host2Id: string;
  livestreamIds: [string | null, string | null];
  status: string;
  result: string | null;
  host1Score: number;
  host2Score: number;
  winnerId: string | null;
  startedAt: string | null;
  endsAt: string | null;
}
interface Stats {
  sessionId: string;
  livestreamId: string;
  totalOrders: number;
  totalRevenue: number;
  uniqueBuyers: number;
  uniqueViewers: number;
  conversionRate: number;
}

type RedisServer = Awaited<ReturnType<typeof startRedis>>;

let redis: RedisServer;
let env: DomainEnv;
let admin: Actor;
let funder: NativeClient;
const sockets: NativeClient[] = [];
const key = (): string => `k-${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  // Its own Redis: PK rankings and the live-now list are global keys, checked exactly here.
  redis = await startRedis();
  env = await domainEnv('livehttp', { REDIS_URL: redis.url, PK_POLL_MS: '100', HTTP_RATE_LIMIT_BURST: '1000', HTTP_RATE_LIMIT_PER_SEC: '1000' });
  admin = await env.user('admin', 'admin');
  funder = await socketOf(admin);
});
afterAll(async () => {
  for (const s of sockets) await s.close();
  await env.stop();
  await redis.stop();
  removeDir(redis.dir);
});

/** An authenticated socket (the first request proves the token was accepted and the user room joined). */
async function socketOf(actor: Actor): Promise<NativeClient> {
  const socket = await NativeClient.connect(env.gw.ws, { token: actor.token });
  expect((await socket.request('session:info')).error).toBeUndefined();
  sockets.push(socket);
  return socket;
}

/** A socket that joined the stream as a counted viewer. */
async function viewerOf(actor: Actor, livestreamId: string): Promise<NativeClient> {
  const socket = await socketOf(actor);
  const joined = await socket.request('livestream:join', { livestreamId });
  expect(joined.error).toBeUndefined();
  return socket;
}

/** A stream created and started over HTTP. */
async function liveStream(host: Actor, title = 'on air'): Promise<Livestream> {
  const created = await env.call<Livestream>('POST', '/api/livestreams', { token: host.token, body: { title } });
  expect(created.status).toBe(201);
  const started = await env.call<Livestream>('POST', `/api/livestreams/${created.body.livestreamId}/start`, { token: host.token });
  expect(started.status).toBe(200);
  return started.body;
}

const dataOf = <T>(frame: ServerFrame): T => frame.data as T;

/** Several users at once, typed one per name. */
const users = <N extends readonly string[]>(...names: N): Promise<{ [K in keyof N]: Actor }> =>
  Promise.all(names.map((n) => env.user(n))) as Promise<{ [K in keyof N]: Actor }>;

describe('livestreams', () => {
  it('create -> start -> end over HTTP is the stream the sockets see; the room gets livestream:ended', async () => {
    const host = await env.user('host');
    const other = await env.user('other');
    const watcher = await env.user('watcher');

    const created = await env.call<Livestream>('POST', '/api/livestreams', { token: host.token, body: { title: 'Morning show' } });
    expect(created.status).toBe(201);
    const livestreamId = created.body.livestreamId;
    expect(created.body).toMatchObject({
      hostId: host.id,
      title: 'Morning show',
      status: 'created',
      startedAt: null,
      endedAt: null,
      viewers: 0,
      cohosts: [],
      room: `live:${livestreamId}`,
    });
    // A draft is its host's: others do not see it (admins do); nobody can watch it yet.
    expect(outcome(await env.call('GET', `/api/livestreams/${livestreamId}`, { token: other.token }))).toEqual([404, 'not_found']);
    expect((await env.call<Livestream>('GET', `/api/livestreams/${livestreamId}`, { token: admin.token })).body.status).toBe('created');
    expect(outcome(await env.call('POST', `/api/livestreams/${livestreamId}/join`, { token: host.token }))).toEqual([409, 'conflict']);
    expect(outcome(await env.call('POST', `/api/livestreams/${livestreamId}/end`, { token: host.token }))).toEqual([409, 'conflict']);
    const early = await socketOf(watcher);
    expect((await early.request('livestream:join', { livestreamId })).error?.code).toBe('not_found');
    expect((await env.call<Page<Livestream>>('GET', '/api/livestreams', { token: other.token })).body.items.map((s) => s.livestreamId)).not.toContain(
      livestreamId,
    );

    expect(outcome(await env.call('POST', `/api/livestreams/${livestreamId}/start`, { token: other.token }))).toEqual([404, 'not_found']);
    const started = await env.call<Livestream>('POST', `/api/livestreams/${livestreamId}/start`, { token: host.token });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ livestreamId, status: 'live', title: 'Morning show', createdAt: created.body.createdAt });
    expect(started.body.startedAt).toMatch(ISO);
    expect(Date.parse(started.body.startedAt!)).toBeGreaterThanOrEqual(Date.parse(created.body.createdAt));
    // Now someone else's live stream: 403 for its host-only actions.
    expect(outcome(await env.call('POST', `/api/livestreams/${livestreamId}/start`, { token: other.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('POST', `/api/livestreams/${livestreamId}/end`, { token: other.token }))).toEqual([403, 'forbidden']);
    expect((await env.call<Livestream>('POST', `/api/livestreams/${livestreamId}/start`, { token: host.token })).body.startedAt).toBe(started.body.startedAt);

    // Viewers are socket connections: a socket join counts, HTTP join and leave do not.
    const viewer = await viewerOf(watcher, livestreamId);
    expect((await env.call<Livestream>('GET', `/api/livestreams/${livestreamId}`, { token: other.token })).body).toMatchObject({ status: 'live', viewers: 1 });
    const join = await env.call<{ stream: Livestream; socket: unknown }>('POST', `/api/livestreams/${livestreamId}/join`, { token: other.token });
    expect(join.status).toBe(200);
    expect(join.body.stream).toMatchObject({ livestreamId, status: 'live', viewers: 1 });
    expect(join.body.socket).toEqual({ event: 'livestream:join', data: { livestreamId } });
    expect((await env.call<Livestream>('GET', `/api/livestreams/${livestreamId}`, { token: other.token })).body.viewers).toBe(1);
    const leave = await env.call<{ stream: Livestream; socket: unknown }>('POST', `/api/livestreams/${livestreamId}/leave`, { token: watcher.token });
    expect(leave.body).toMatchObject({ stream: { viewers: 1 }, socket: { event: 'livestream:leave', data: { livestreamId } } });
    const list = await env.call<Page<Livestream>>('GET', '/api/livestreams?limit=100', { token: other.token });
    expect(list.body.items.find((s) => s.livestreamId === livestreamId)).toMatchObject({ viewers: 1, hostId: host.id });

    const ended = await env.call<Livestream>('POST', `/api/livestreams/${livestreamId}/end`, { token: host.token });
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ livestreamId, status: 'ended', viewers: 0 });
    expect(dataOf(await viewer.waitForEvent('livestream:ended'))).toEqual({ livestreamId, endedBy: host.id });
    expect(outcome(await env.call('POST', `/api/livestreams/${livestreamId}/end`, { token: host.token }))).toEqual([409, 'conflict']);
    expect(outcome(await env.call('POST', `/api/livestreams/${livestreamId}/start`, { token: host.token }))).toEqual([409, 'conflict']);
    expect(outcome(await env.call('POST', `/api/livestreams/${livestreamId}/join`, { token: watcher.token }))).toEqual([409, 'conflict']);
    expect((await env.call<{ stream: Livestream }>('POST', `/api/livestreams/${livestreamId}/leave`, { token: watcher.token })).body.stream.status).toBe(
      'ended',
    );
    expect((await env.call<Page<Livestream>>('GET', '/api/livestreams?limit=100', { token: other.token })).body.items.map((s) => s.livestreamId)).not.toContain(
      livestreamId,
    );

    const record = await eventually(
      () => env.db.collection('livestreams').findOne({ _id: livestreamId as never }),
      (d) => d?.['status'] === 'ended',
    );
    expect(record).toMatchObject({ hostId: host.id, title: 'Morning show', status: 'ended', version: 2 });
  });

  it('shares the stream with the socket side in both directions', async () => {
    const host = await env.user('host-s');
    const hostSocket = await socketOf(host);
    // Created over HTTP, started over the socket (which also puts the host's socket in the room).
    const created = await env.call<Livestream>('POST', '/api/livestreams', {
      token: host.token,
      body: { title: 'Draft title', livestreamId: `draft-${env.tag}` },
    });
    const started = await hostSocket.request('livestream:start', { title: 'ignored', livestreamId: created.body.livestreamId });
    expect(started.error).toBeUndefined();
    expect((await env.call<Livestream>('GET', `/api/livestreams/${created.body.livestreamId}`, { token: host.token })).body).toMatchObject({
      status: 'live',
      title: 'Draft title',
    });
    // Started over the socket, ended over HTTP: the host's own socket hears the end.
    const direct = await hostSocket.request('livestream:start', { title: 'Direct' });
    const directId = dataOf<{ livestreamId: string }>(direct).livestreamId;
    expect((await env.call<Livestream>('GET', `/api/livestreams/${directId}`, { token: host.token })).body).toMatchObject({ status: 'live', title: 'Direct' });
    await env.call('POST', `/api/livestreams/${directId}/end`, { token: host.token });
    expect(dataOf(await hostSocket.waitFor((f) => f.event === 'livestream:ended' && dataOf<{ livestreamId: string }>(f).livestreamId === directId))).toEqual({
      livestreamId: directId,
      endedBy: host.id,
    });
    await hostSocket.request('livestream:end', { livestreamId: created.body.livestreamId });
    expect((await env.call<Livestream>('GET', `/api/livestreams/${created.body.livestreamId}`, { token: host.token })).body.status).toBe('ended');
  });

  it('lists the live streams newest first, paginated', async () => {
    const hosts = await Promise.all(['p1', 'p2', 'p3'].map((n) => env.user(`list-${n}`)));
    const streams: Livestream[] = [];
    for (const h of hosts) streams.push(await liveStream(h, `list ${h.id}`));
    const first = await env.call<Page<Livestream>>('GET', '/api/livestreams?limit=2', { token: hosts[0]!.token });
    expect(first.body).toMatchObject({ page: 1, limit: 2, hasMore: true });
    expect(first.body.items.map((s) => s.livestreamId)).toEqual([streams[2]!.livestreamId, streams[1]!.livestreamId]);
    const total = first.body.total;
    const second = await env.call<Page<Livestream>>('GET', '/api/livestreams?limit=2&page=2', { token: hosts[0]!.token });
    expect(second.body.items[0]?.livestreamId).toBe(streams[0]!.livestreamId);
    expect(second.body.total).toBe(total);
    for (const [i, h] of hosts.entries()) await env.call('POST', `/api/livestreams/${streams[i]!.livestreamId}/end`, { token: h.token });
    expect((await env.call<Page<Livestream>>('GET', '/api/livestreams?limit=2', { token: hosts[0]!.token })).body.total).toBe(total - 3);
  });

  it('refuses bad input (422), missing or forged tokens (401), ids in use (409) and unknown streams (404)', async () => {
    const host = await env.user('host-v');
    expect(outcome(await env.call('POST', '/api/livestreams', { token: host.token, body: { title: '' } }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('POST', '/api/livestreams', { token: host.token, body: { title: 't', viewers: 5 } }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('POST', '/api/livestreams', { token: host.token, body: { title: 't', livestreamId: 'bad id' } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('POST', '/api/livestreams', { token: host.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', '/api/livestreams?limit=0', { token: host.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', '/api/livestreams/bad%20id', { token: host.token }))).toEqual([422, 'validation_failed']);
    const taken = await env.call<Livestream>('POST', '/api/livestreams', { token: host.token, body: { title: 't', livestreamId: `taken-${env.tag}` } });
    expect(taken.status).toBe(201);
    expect(outcome(await env.call('POST', '/api/livestreams', { token: host.token, body: { title: 't', livestreamId: `taken-${env.tag}` } }))).toEqual([
      409,
      'conflict',
    ]);
    for (const action of ['start', 'end', 'join', 'leave']) {
      expect(outcome(await env.call('POST', `/api/livestreams/nope-${env.tag}/${action}`, { token: host.token })), action).toEqual([404, 'not_found']);
      expect(outcome(await env.call('POST', `/api/livestreams/${taken.body.livestreamId}/${action}`)), action).toEqual([401, 'unauthorized']);
      expect(outcome(await env.call('POST', `/api/livestreams/${taken.body.livestreamId}/${action}`, { token: FORGED })), action).toEqual([
        401,
        'unauthorized',
      ]);
    }
    expect(outcome(await env.call('GET', `/api/livestreams/nope-${env.tag}`, { token: host.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('POST', '/api/livestreams', { body: { title: 't' } }))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('GET', '/api/livestreams', { token: FORGED }))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('GET', `/api/livestreams/${taken.body.livestreamId}`))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('GET', '/api/livestreams/providers'))).toEqual([401, 'unauthorized']);
  });

  it('serves the stream providers under /api/livestreams/providers too', async () => {
    const user = await env.user('prov');
    await env.call('PUT', '/api/livestreaming/providers/agora', {
      token: admin.token,
      body: { displayName: 'Agora', enabled: true, status: 'active', priority: 10, publicConfig: { appId: 'a1' } },
    });
    const a = await env.call<Page<{ name: string }>>('GET', '/api/livestreams/providers', { token: user.token });
    const b = await env.call<Page<{ name: string }>>('GET', '/api/livestreaming/providers', { token: user.token });
    expect(a.status).toBe(200);
    expect(a.body.items.map((p) => p.name)).toEqual(['agora']);
    expect(a.body).toEqual(b.body);
  });

  it('sends gifts through the money path: debit, room gift:sent, idempotent retry, refusals', async () => {
    const host = await env.user('gift-host');
    const fan = await env.user('fan');
    const poor = await env.user('poor');
    const stream = await liveStream(host);
    const watcher = await viewerOf(await env.user('gift-watcher'), stream.livestreamId);
    expect(await fund(funder, fan.id, 100)).toBe(100);

    const body = { giftId: 'coffee', quantity: 2, idempotencyKey: key(), message: 'hi' };
    const sent = await env.call<Receipt>('POST', `/api/livestreams/${stream.livestreamId}/gift`, { token: fan.token, body });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ giftId: 'coffee', recipientId: host.id, livestreamId: stream.livestreamId, quantity: 2, totalCost: 20, balance: 80 });
    const frame = await watcher.waitForEvent('gift:sent');
    expect(frame.data).toMatchObject({
      livestreamId: stream.livestreamId,
      recipientId: host.id,
      sender: { userId: fan.id },
      giftId: 'coffee',
      count: 2,
      coins: 20,
    });
    // A retry with the same key returns the first receipt and moves nothing.
    expect((await env.call<Receipt>('POST', `/api/livestreams/${stream.livestreamId}/gift`, { token: fan.token, body })).body).toEqual(sent.body);
    expect(dataOf<{ balance: number }>(await (await socketOf(fan)).request('wallet:balance', {})).balance).toBe(80);

    expect(
      outcome(await env.call('POST', `/api/livestreams/${stream.livestreamId}/gift`, { token: poor.token, body: { ...body, idempotencyKey: key() } })),
    ).toEqual([422, 'insufficient_funds']);
    expect(
      outcome(await env.call('POST', `/api/livestreams/${stream.livestreamId}/gift`, { token: host.token, body: { ...body, idempotencyKey: key() } })),
    ).toEqual([400, 'bad_request']);
    expect(
      outcome(
        await env.call('POST', `/api/livestreams/${stream.livestreamId}/gift`, {
          token: fan.token,
          body: { ...body, giftId: 'no-such-gift', idempotencyKey: key() },
        }),
      ),
    ).toEqual([404, 'not_found']);
    expect(outcome(await env.call('POST', `/api/livestreams/nope-${env.tag}/gift`, { token: fan.token, body: { ...body, idempotencyKey: key() } }))).toEqual([
      404,
      'not_found',
    ]);
    expect(
      outcome(
        await env.call('POST', `/api/livestreams/${stream.livestreamId}/gift`, { token: fan.token, body: { ...body, quantity: 0, idempotencyKey: key() } }),
      ),
    ).toEqual([422, 'validation_failed']);
    expect(
      outcome(await env.call('POST', `/api/livestreams/${stream.livestreamId}/gift`, { token: fan.token, body: { ...body, idempotencyKey: 'short' } })),
    ).toEqual([422, 'validation_failed']);
    expect(
      outcome(
        await env.call('POST', `/api/livestreams/${stream.livestreamId}/gift`, {
          token: fan.token,
          body: { ...body, recipientId: fan.id, idempotencyKey: key() },
        }),
      ),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('POST', `/api/livestreams/${stream.livestreamId}/gift`, { body: { ...body, idempotencyKey: key() } }))).toEqual([
      401,
      'unauthorized',
    ]);
    expect(dataOf<{ balance: number }>(await (await socketOf(fan)).request('wallet:balance', {})).balance).toBe(80);
  });
});

describe('PK battles', () => {
  it('invite, accept and gifts over HTTP reach the rooms as pk_battle:invite / start / score / end; the winner is ranked', async () => {
    const [host1, host2, mallory, fan] = await users('pk-h1', 'pk-h2', 'pk-mallory', 'pk-fan');
    const [s1, s2] = [await liveStream(host1), await liveStream(host2)];
    const host2Socket = await socketOf(host2);
    const [viewer1, viewer2] = [await viewerOf(await env.user('pk-v1'), s1.livestreamId), await viewerOf(await env.user('pk-v2'), s2.livestreamId)];
    await fund(funder, fan.id, 1000);

    expect(outcome(await env.call('POST', '/api/pk-battles', { token: host1.token, body: { opponentId: host2.id, livestreamId: s2.livestreamId } }))).toEqual([
      403,
      'forbidden',
    ]);
    const invited = await env.call<Battle>('POST', '/api/pk-battles', {
      token: host1.token,
      body: { opponentId: host2.id, durationMs: 2000, livestreamId: s1.livestreamId },
    });
    expect(invited.status).toBe(201);
    const battleId = invited.body.battleId;
    expect(invited.body).toMatchObject({
      host1Id: host1.id,
      host2Id: host2.id,
      status: 'pending',
      livestreamIds: [s1.livestreamId, null],
      host1Score: 0,
      host2Score: 0,
    });
    expect(dataOf(await host2Socket.waitForEvent('pk_battle:invite'))).toMatchObject({ battleId, host1Id: host1.id });
    expect(outcome(await env.call('POST', '/api/pk-battles', { token: host1.token, body: { opponentId: mallory.id } }))).toEqual([409, 'conflict']);
    expect(
      outcome(
        await env.call('POST', `/api/pk-battles/${battleId}/gift`, {
          token: fan.token,
          body: { recipientId: host1.id, giftId: 'rose', quantity: 1, idempotencyKey: key() },
        }),
      ),
    ).toEqual([409, 'conflict']);

    // Only the invited host accepts, and only with their own stream.
    expect(outcome(await env.call('POST', `/api/pk-battles/${battleId}/accept`, { token: mallory.token, body: {} }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('POST', `/api/pk-battles/${battleId}/accept`, { token: host1.token, body: {} }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('POST', `/api/pk-battles/${battleId}/accept`, { token: host2.token, body: { livestreamId: s1.livestreamId } }))).toEqual([
      403,
      'forbidden',
    ]);
    const accepted = await env.call<Battle>('POST', `/api/pk-battles/${battleId}/accept`, { token: host2.token, body: { livestreamId: s2.livestreamId } });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'active', livestreamIds: [s1.livestreamId, s2.livestreamId] });
    for (const v of [viewer1, viewer2]) expect(dataOf(await v.waitForEvent('pk_battle:start'))).toMatchObject({ battleId, status: 'active' });
    expect(outcome(await env.call('POST', `/api/pk-battles/${battleId}/accept`, { token: host2.token }))).toEqual([409, 'conflict']);

    const gift = await env.call<{ gift: Receipt; battle: Battle }>('POST', `/api/pk-battles/${battleId}/gift`, {
      token: fan.token,
      body: { recipientId: host1.id, giftId: 'star', quantity: 1, idempotencyKey: key() },
    });
    expect(gift.status).toBe(201);
    expect(gift.body.gift).toMatchObject({ recipientId: host1.id, livestreamId: s1.livestreamId, totalCost: 33, balance: 967 });
    expect(gift.body.battle).toMatchObject({ battleId, host1Score: 33, host2Score: 0 });
    expect(dataOf(await viewer2.waitFor((f) => f.event === 'pk_battle:score' && dataOf<Battle>(f).host1Score === 33))).toMatchObject({
      battleId,
      host2Score: 0,
    });
    expect(dataOf(await viewer1.waitForEvent('gift:sent'))).toMatchObject({ recipientId: host1.id, giftId: 'star' });
    expect(
      outcome(
        await env.call('POST', `/api/pk-battles/${battleId}/gift`, {
          token: fan.token,
          body: { recipientId: mallory.id, giftId: 'rose', quantity: 1, idempotencyKey: key() },
        }),
      ),
    ).toEqual([422, 'validation_failed']);
    expect(
      outcome(
        await env.call('POST', `/api/pk-battles/${battleId}/gift`, {
          token: host1.token,
          body: { recipientId: host1.id, giftId: 'rose', quantity: 1, idempotencyKey: key() },
        }),
      ),
    ).toEqual([400, 'bad_request']);
    expect((await env.call<Battle>('GET', `/api/pk-battles/${battleId}`, { token: mallory.token })).body).toMatchObject({ status: 'active', host1Score: 33 });

    const end = await viewer1.waitForEvent('pk_battle:end', 8000);
    expect(end.data).toMatchObject({ battleId, winnerId: host1.id, result: 'win', host1Score: 33, host2Score: 0 });
    expect((await env.call<Battle>('GET', `/api/pk-battles/${battleId}`, { token: fan.token })).body).toMatchObject({
      status: 'ended',
      winnerId: host1.id,
      result: 'win',
    });
    expect(
      outcome(
        await env.call('POST', `/api/pk-battles/${battleId}/gift`, {
          token: fan.token,
          body: { recipientId: host1.id, giftId: 'rose', quantity: 1, idempotencyKey: key() },
        }),
      ),
    ).toEqual([409, 'conflict']);
    const rankings = await env.call<Page<{ rank: number; userId: string; wins: number }>>('GET', '/api/pk-battles/leaderboard/rankings', { token: fan.token });
    expect(rankings.body).toEqual({ items: [{ rank: 1, userId: host1.id, wins: 1 }], page: 1, limit: 20, total: 1, hasMore: false });
  });

  it('accepts without a body and without streams: the frames go to the user rooms', async () => {
    const [a, b] = await users('pk-a', 'pk-b');
    const aSocket = await socketOf(a);
    const invited = await env.call<Battle>('POST', '/api/pk-battles', { token: a.token, body: { opponentId: b.id, durationMs: 1000 } });
    const accepted = await env.call<Battle>('POST', `/api/pk-battles/${invited.body.battleId}/accept`, { token: b.token });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'active', livestreamIds: [null, null], durationMs: 1000 });
    expect(dataOf(await aSocket.waitForEvent('pk_battle:start'))).toMatchObject({ battleId: invited.body.battleId });
    expect(dataOf(await aSocket.waitForEvent('pk_battle:end', 8000))).toMatchObject({ battleId: invited.body.battleId, result: 'tie', winnerId: null });
  });

  it('refuses bad input (422), yourself (400), unknown ids (404), streams that are not live (404) and missing tokens (401)', async () => {
    const host = await env.user('pk-v');
    const opponent = await env.user('pk-w');
    expect(outcome(await env.call('POST', '/api/pk-battles', { token: host.token, body: { opponentId: host.id } }))).toEqual([400, 'bad_request']);
    expect(outcome(await env.call('POST', '/api/pk-battles', { token: host.token, body: { opponentId: opponent.id, durationMs: 0 } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('POST', '/api/pk-battles', { token: host.token, body: { opponentId: opponent.id, rounds: 3 } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('POST', '/api/pk-battles', { token: host.token, body: {} }))).toEqual([422, 'validation_failed']);
    expect(
      outcome(await env.call('POST', '/api/pk-battles', { token: host.token, body: { opponentId: opponent.id, livestreamId: `nope-${env.tag}` } })),
    ).toEqual([404, 'not_found']);
    expect(outcome(await env.call('POST', '/api/pk-battles/pk_nope/accept', { token: opponent.token, body: { extra: 1 } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('POST', '/api/pk-battles/pk_nope/accept', { token: opponent.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('GET', '/api/pk-battles/pk_nope', { token: opponent.token }))).toEqual([404, 'not_found']);
    expect(
      outcome(
        await env.call('POST', '/api/pk-battles/pk_nope/gift', {
          token: opponent.token,
          body: { recipientId: host.id, giftId: 'rose', quantity: 1, idempotencyKey: key() },
        }),
      ),
    ).toEqual([404, 'not_found']);
    expect(
      outcome(await env.call('POST', '/api/pk-battles/pk_nope/gift', { token: opponent.token, body: { recipientId: host.id, giftId: 'rose', quantity: 1 } })),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', '/api/pk-battles/leaderboard/rankings?limit=101', { token: host.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('POST', '/api/pk-battles', { body: { opponentId: opponent.id } }))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('POST', '/api/pk-battles/pk_nope/accept', { token: FORGED }))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('POST', '/api/pk-battles/pk_nope/gift', { body: {} }))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('GET', '/api/pk-battles/pk_nope'))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('GET', '/api/pk-battles/leaderboard/rankings', { token: FORGED }))).toEqual([401, 'unauthorized']);
  });
});

describe('live shopping', () => {
  it('session, pins and orders over HTTP reach the room and the host; analytics for the owner and admins only', async () => {
    const [host, mallory, buyer] = await users('shop-host', 'shop-mallory', 'shop-buyer');
    const stream = await liveStream(host);
    const hostSocket = await socketOf(host);
    const viewer = await viewerOf(await env.user('shop-viewer'), stream.livestreamId);

    expect(outcome(await env.call('POST', '/api/live-shopping/session', { token: mallory.token, body: { livestreamId: stream.livestreamId } }))).toEqual([
      403,
      'forbidden',
    ]);
    expect(
      outcome(await env.call('POST', `/api/live-shopping/${stream.livestreamId}/pin-product`, { token: host.token, body: { productId: 'p1', price: 20 } })),
    ).toEqual([404, 'not_found']);
    const session = await env.call<{ sessionId: string; hostId: string; startedAt: string }>('POST', '/api/live-shopping/session', {
      token: host.token,
      body: { livestreamId: stream.livestreamId },
    });
    expect(session.status).toBe(201);
    expect(session.body).toMatchObject({ sessionId: stream.livestreamId, livestreamId: stream.livestreamId, hostId: host.id });
    expect(
      (await env.call<{ startedAt: string }>('POST', '/api/live-shopping/session', { token: host.token, body: { livestreamId: stream.livestreamId } })).body
        .startedAt,
    ).toBe(session.body.startedAt);
    const sessionId = session.body.sessionId;

    expect(
      outcome(await env.call('POST', `/api/live-shopping/${sessionId}/pin-product`, { token: mallory.token, body: { productId: 'p1', price: 20 } })),
    ).toEqual([403, 'forbidden']);
    await env.call('POST', `/api/live-shopping/${sessionId}/pin-product`, { token: host.token, body: { productId: 'p2', price: 5, displayOrder: 2 } });
    const pinned = await env.call<{ sessionId: string; products: Array<{ productId: string; displayOrder: number }> }>(
      'POST',
      `/api/live-shopping/${sessionId}/pin-product`,
      { token: host.token, body: { productId: 'p1', price: 20, displayOrder: 1 } },
    );
    expect(pinned.status).toBe(200);
    expect(pinned.body.products.map((p) => [p.productId, p.displayOrder])).toEqual([
      ['p1', 1],
      ['p2', 2],
    ]);
    const frame = await viewer.waitFor((f) => f.event === 'shopping:pinned' && dataOf<{ version: number }>(f).version === 2);
    expect(frame.data).toMatchObject({ livestreamId: stream.livestreamId, products: [{ productId: 'p1' }, { productId: 'p2' }] });

    // Unpaid (no coins): refused, nothing counted. A client-sent total is not accepted at all.
    const orderBody = { productId: 'p1', quantity: 2, idempotencyKey: `order-${env.tag}-1` };
    expect(outcome(await env.call('POST', `/api/live-shopping/${sessionId}/orders`, { token: buyer.token, body: orderBody }))).toEqual([
      422,
      'insufficient_funds',
    ]);
    expect(outcome(await env.call('POST', `/api/live-shopping/${sessionId}/orders`, { token: buyer.token, body: { orderId: 'o-1', total: 19.99 } }))).toEqual([
      422,
      'validation_failed',
    ]);
    const funded = await env.call('POST', '/api/payments/admin/credit', {
      token: admin.token,
      body: { userId: buyer.id, coins: 100, reason: 'shopping test funding', idempotencyKey: `fund-${env.tag}-shop` },
    });
    expect(funded.status).toBe(201);
    const order = await env.call<Record<string, unknown>>('POST', `/api/live-shopping/${sessionId}/orders`, { token: buyer.token, body: orderBody });
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ sessionId, buyerId: buyer.id, productId: 'p1', quantity: 2, unitPrice: 20, total: 40, balance: 60, counted: true });
    expect(dataOf(await hostSocket.waitForEvent('shopping:order'))).toMatchObject({
      livestreamId: stream.livestreamId,
      orderId: order.body['orderId'],
      buyerId: buyer.id,
      total: 40,
    });
    expect(dataOf(await viewer.waitForEvent('shopping:stats'))).toMatchObject({ totalOrders: 1, totalRevenue: 40 });
    const retry = await env.call<Record<string, unknown>>('POST', `/api/live-shopping/${sessionId}/orders`, { token: buyer.token, body: orderBody });
    expect([retry.status, retry.body['orderId'], retry.body['counted'], retry.body['balance']]).toEqual([201, order.body['orderId'], false, 60]);

    expect(outcome(await env.call('GET', `/api/live-shopping/${sessionId}/analytics`, { token: buyer.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('GET', `/api/live-shopping/${sessionId}/analytics`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    const stats = await env.call<Stats>('GET', `/api/live-shopping/${sessionId}/analytics`, { token: host.token });
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({
      sessionId,
      livestreamId: stream.livestreamId,
      totalOrders: 1,
      totalRevenue: 40,
      uniqueBuyers: 1,
      uniqueViewers: 1,
      conversionRate: 1,
    });
    expect((await env.call<Stats>('GET', `/api/live-shopping/${sessionId}/analytics`, { token: admin.token })).body).toEqual(stats.body);
  });

  it('refuses bad input (422), unknown sessions (404) and missing tokens (401)', async () => {
    const host = await env.user('shop-v');
    const nope = `nope-${env.tag}`;
    expect(outcome(await env.call('POST', '/api/live-shopping/session', { token: host.token, body: { livestreamId: nope } }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('POST', '/api/live-shopping/session', { token: host.token, body: {} }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('POST', '/api/live-shopping/session', { token: host.token, body: { livestreamId: 'bad id' } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(
      outcome(await env.call('POST', `/api/live-shopping/${nope}/pin-product`, { token: host.token, body: { productId: 'p1', price: 20, displayOrder: -1 } })),
    ).toEqual([422, 'validation_failed']);
    for (const price of [19.99, 0, '5', undefined]) {
      expect(outcome(await env.call('POST', `/api/live-shopping/${nope}/pin-product`, { token: host.token, body: { productId: 'p1', price } }))).toEqual([
        422,
        'validation_failed',
      ]);
    }
    expect(outcome(await env.call('POST', `/api/live-shopping/${nope}/pin-product`, { token: host.token, body: { productId: 'p1', price: 20 } }))).toEqual([
      404,
      'not_found',
    ]);
    expect(
      outcome(
        await env.call('POST', `/api/live-shopping/${nope}/orders`, {
          token: host.token,
          body: { productId: 'p', quantity: 0, idempotencyKey: `k-${env.tag}-q` },
        }),
      ),
    ).toEqual([422, 'validation_failed']);
    expect(
      outcome(
        await env.call('POST', `/api/live-shopping/${nope}/orders`, {
          token: host.token,
          body: { productId: 'p', quantity: 1.5, idempotencyKey: `k-${env.tag}-q` },
        }),
      ),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('POST', `/api/live-shopping/${nope}/orders`, { token: host.token, body: { productId: 'p' } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(
      outcome(await env.call('POST', `/api/live-shopping/${nope}/orders`, { token: host.token, body: { productId: 'p', idempotencyKey: `k-${env.tag}-n` } })),
    ).toEqual([404, 'not_found']);
    expect(outcome(await env.call('GET', '/api/live-shopping/bad%20id/analytics', { token: host.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', `/api/live-shopping/${nope}/analytics`, { token: host.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('POST', '/api/live-shopping/session', { body: { livestreamId: nope } }))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('POST', `/api/live-shopping/${nope}/pin-product`, { token: FORGED, body: { productId: 'p1', price: 20 } }))).toEqual([
      401,
      'unauthorized',
    ]);
    expect(outcome(await env.call('POST', `/api/live-shopping/${nope}/orders`, { body: { productId: 'p', idempotencyKey: `k-${env.tag}-u` } }))).toEqual([
      401,
      'unauthorized',
    ]);
    expect(outcome(await env.call('GET', `/api/live-shopping/${nope}/analytics`, { token: FORGED }))).toEqual([401, 'unauthorized']);
  });
});
