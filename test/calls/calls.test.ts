/**
 * Call signaling on two nodes sharing Redis and MongoDB: every state of a call (ring on all
 * devices, answer on one, decline, cancel, busy, no answer, hang up, reconnect grace), the relay
 * isolation, the bounds of call:signal, the TURN credential format, history, and a node killed
 * while its call rings.
 */
import { createHmac } from 'node:crypto';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, chatEnv, connectUser, eventFrames, openDb, refused, uid, waitUntil } from '../support/chat.js';
import type { NativeClient, ServerFrame } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { http } from '../support/http.js';
import { startRedis, type Service } from '../support/services.js';

const RING_MS = 1500;
const GRACE_MS = 1500;
const TURN_SECRET = 'turn-shared-secret-for-tests';
const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

type Data = Record<string, unknown>;
const dataOf = (f: ServerFrame): Data => f.data as Data;
const about = (event: string, callId: string) => (f: ServerFrame) => f.event === event && dataOf(f)['callId'] === callId;

describe('calls on two nodes', () => {
  const dbName = uid('calls');
  let env: Record<string, string>;
  let nodes: GatewayProcess[] = [];
  let db: Db;
  let closeDb: () => Promise<void>;
  const clients: NativeClient[] = [];
  const connect = async (node: GatewayProcess, userId: string): Promise<NativeClient> => {
    const c = await connectUser(node, userId);
    clients.push(c);
    return c;
  };
  const conversation = async (a: NativeClient, userId: string): Promise<string> =>
    (await call<{ id: string }>(a, 'conversation:create', { type: 'private', userId })).id;
  const connectionOf = (c: NativeClient): string => dataOf(c.frames.find((f) => f.event === 'session:ready')!)['connectionId'] as string;

  // A Redis of this file's own: its tests pause and kill nodes, and the gateways of other files on a
  // shared Redis would reap them (and sweep the call timers) in their place.
  let redis: Service;
  beforeAll(async () => {
    redis = await startRedis();
    env = chatEnv(redis.url, inject('mongoUrl'), dbName, {
      CALL_RING_TIMEOUT_MS: String(RING_MS),
      CALL_RECONNECT_GRACE_MS: String(GRACE_MS),
      CALL_SIGNAL_MAX_BYTES: '4096',
      CALL_SIGNAL_PER_SEC: '1',
      CALL_SIGNAL_BURST: '20',
      CALL_SWEEP_MS: '50',
      TURN_SECRET,
      TURN_URLS: 'turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349',
      STUN_URLS: 'stun:stun.example.com:3478',
      TURN_TTL_MS: '3600000',
      NODE_HEARTBEAT_MS: '200',
      NODE_TTL_MS: '1000',
    });
    nodes = await Promise.all([startGateway(env), startGateway(env)]);
    ({ db, close: closeDb } = await openDb(inject('mongoUrl'), dbName));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await db.dropDatabase();
    await closeDb();
    await redis.stop();
  });

  it('rings every device of the callee on both nodes, answers on one, tells the others where, relays only to the device in the call', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(nodes[0]!, alice);
    const b1 = await connect(nodes[1]!, bob);
    const b2 = await connect(nodes[0]!, bob);
    const b3 = await connect(nodes[1]!, bob);
    const cid = await conversation(a, bob);
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId: cid, media: 'video' });
    for (const b of [b1, b2, b3]) {
      const ring = await b.waitFor(about('call:ringing', callId));
      expect(dataOf(ring)).toMatchObject({ callId, conversationId: cid, callerId: alice, media: 'video', participants: [alice, bob] });
      expect(typeof dataOf(ring)['sentAt']).toBe('string');
    }
    // The caller's device hears that it rings.
    await a.waitFor(about('call:ringing', callId));

    const accepted = await call<Data>(b1, 'call:accept', { callId });
    expect(accepted).toMatchObject({ callId, status: 'active' });
    for (const c of [a, b1, b2, b3]) {
      const f = await c.waitFor(about('call:accepted', callId));
      expect(dataOf(f)).toMatchObject({ callId, userId: bob, connectionId: connectionOf(b1) });
    }
    // Another device of the callee cannot answer too, nor signal.
    expect(await refused(b2, 'call:accept', { callId })).toBe('conflict');
    expect(await refused(b3, 'call:signal', { callId, kind: 'offer', data: { type: 'offer', sdp: SDP } })).toBe('forbidden');

    // Offer (with the spelling toConnection), candidates, answer, renegotiation.
    const offer = await call<Data>(a, 'call:signal', { callId, kind: 'offer', data: { type: 'offer', sdp: SDP }, toConnection: connectionOf(b1) });
    expect(offer).toEqual({ callId, delivered: 1 });
    const got = await b1.waitFor(about('call:signal', callId));
    expect(dataOf(got)).toMatchObject({ callId, kind: 'offer', data: { type: 'offer', sdp: SDP }, fromUserId: alice, fromConnectionId: connectionOf(a) });
    await call(a, 'call:signal', {
      callId,
      kind: 'candidate',
      data: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    });
    await call(b1, 'call:signal', { callId, kind: 'answer', data: { type: 'answer', sdp: SDP } });
    await a.waitFor((f) => about('call:signal', callId)(f) && dataOf(f)['kind'] === 'answer');
    await call(b1, 'call:signal', { callId, kind: 'renegotiate', data: { reason: 'camera_off' } });
    await a.waitFor((f) => about('call:signal', callId)(f) && dataOf(f)['kind'] === 'renegotiate');
    await call(a, 'call:signal', { callId, kind: 'renegotiate', data: { reason: 'screen_share_start', description: { type: 'offer', sdp: SDP } } });
    await b1.waitFor((f) => about('call:signal', callId)(f) && (dataOf(f)['data'] as Data)['reason'] === 'screen_share_start');
    expect(await refused(a, 'call:signal', { callId, kind: 'offer', data: { type: 'offer', sdp: SDP }, toConnectionId: connectionOf(b2) })).toBe('not_found');

    // Hang up: everyone's devices hear the end; the other devices of bob never saw any SDP.
    await call(b1, 'call:hangup', { callId });
    for (const c of [a, b1, b2, b3]) expect(dataOf(await c.waitFor(about('call:ended', callId)))).toMatchObject({ callId, reason: 'hangup' });
    expect(eventFrames(b1, 'call:signal').map((f) => dataOf(f)['kind'])).toEqual(['offer', 'candidate', 'renegotiate']);
    expect(eventFrames(b2, 'call:signal')).toEqual([]);
    expect(eventFrames(b3, 'call:signal')).toEqual([]);
    expect(await refused(a, 'call:signal', { callId, kind: 'offer', data: { type: 'offer', sdp: SDP } })).toBe('conflict');

    const record = await waitUntil('the record', async () => (await db.collection('calls').findOne({ _id: callId as never, status: 'ended' })) ?? undefined);
    expect(record).toMatchObject({ endReason: 'hangup', media: 'video', participants: [alice, bob] });
    const history = await http<{ items: Data[]; total: number }>(nodes[1]!, 'GET', '/api/calls', { token: await makeToken({ sub: bob }) });
    expect(history.status).toBe(200);
    expect(history.body.items[0]).toMatchObject({ callId, status: 'ended', endReason: 'hangup', callerId: alice });
  });

  it('busy: a callee already in a call; the caller hears busy, the callee gets a missed-call notification', async () => {
    const [alice, bob, carol] = [uid('alice'), uid('bob'), uid('carol')];
    const a = await connect(nodes[0]!, alice);
    const b = await connect(nodes[1]!, bob);
    const c = await connect(nodes[1]!, carol);
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId: await conversation(a, bob), media: 'audio' });
    await b.waitFor(about('call:ringing', callId));
    await call(b, 'call:accept', { callId });
    const busy = await call<{ callId: string }>(c, 'call:invite', { conversationId: await conversation(c, bob), media: 'audio' });
    expect(dataOf(await c.waitFor(about('call:ended', busy.callId)))).toMatchObject({ reason: 'busy' });
    const n = await b.waitFor((f) => f.event === 'notification:new' && (dataOf(f)['notification'] as Data)['type'] === 'missed_call');
    expect((dataOf(n)['notification'] as Data)['data']).toMatchObject({ callId: busy.callId });
    expect(eventFrames(b, 'call:ringing').filter((f) => dataOf(f)['callId'] === busy.callId)).toEqual([]);
    // The caller is in a call too: no second call from her.
    expect(await refused(a, 'call:invite', { conversationId: await conversation(a, carol), media: 'audio' })).toBe('conflict');
    await call(a, 'call:hangup', { callId });
  });

  it('no answer: the call ends after the ring timeout for caller and callee, who gets a missed-call notification', async () => {
    const [alice, dave] = [uid('alice'), uid('dave')];
    const a = await connect(nodes[0]!, alice);
    const d = await connect(nodes[1]!, dave);
    const started = Date.now();
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId: await conversation(a, dave), media: 'audio' });
    expect(dataOf(await a.waitFor(about('call:ended', callId), 10_000))).toMatchObject({ reason: 'no_answer', durationMs: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(RING_MS - 50);
    expect(dataOf(await d.waitFor(about('call:ended', callId)))).toMatchObject({ reason: 'no_answer' });
    await d.waitFor((f) => f.event === 'notification:new' && (dataOf(f)['notification'] as Data)['type'] === 'missed_call');
    expect(await refused(d, 'call:accept', { callId })).toBe('conflict');
    const record = await waitUntil('the record', async () => (await db.collection('calls').findOne({ _id: callId as never, status: 'ended' })) ?? undefined);
    expect(record).toMatchObject({
      endReason: 'no_answer',
      parties: [
        { userId: alice, status: 'left' },
        { userId: dave, status: 'missed' },
      ],
    });
  });

  it('cancel and decline end a ringing call for every device', async () => {
    const [alice, erin] = [uid('alice'), uid('erin')];
    const a = await connect(nodes[0]!, alice);
    const e1 = await connect(nodes[1]!, erin);
    const e2 = await connect(nodes[0]!, erin);
    const cid = await conversation(a, erin);
    const first = await call<{ callId: string }>(a, 'call:invite', { conversationId: cid, media: 'audio' });
    await e1.waitFor(about('call:ringing', first.callId));
    expect(await refused(e1, 'call:cancel', first)).toBe('forbidden');
    expect(await call(a, 'call:cancel', first)).toMatchObject({ status: 'ended', endReason: 'cancelled' });
    for (const c of [a, e1, e2]) expect(dataOf(await c.waitFor(about('call:ended', first.callId)))).toMatchObject({ reason: 'cancelled' });
    await e2.waitFor((f) => f.event === 'notification:new' && ((dataOf(f)['notification'] as Data)['data'] as Data)['callId'] === first.callId);

    const second = await call<{ callId: string }>(a, 'call:invite', { conversationId: cid, media: 'video' });
    await e2.waitFor(about('call:ringing', second.callId));
    await call(e2, 'call:decline', second);
    for (const c of [a, e1, e2]) expect(dataOf(await c.waitFor(about('call:ended', second.callId)))).toMatchObject({ reason: 'declined' });
    const message = await waitUntil('the call message', async () => (await db.collection('messages').findOne({ 'call.callId': second.callId })) ?? undefined);
    expect(message).toMatchObject({ type: 'call', conversationId: cid, call: { endReason: 'declined', durationMs: 0 } });
  });

  it('a reconnect within the grace period keeps the call; a device gone past it ends the call', async () => {
    // A neighbour configured with a far longer grace sweeps the shared timers too (and more often):
    // the deadline is the one fixed by the node that saw the device go, not the sweeper's own.
    const neighbour = await startGateway({ ...env, CALL_RECONNECT_GRACE_MS: '60000', CALL_SWEEP_MS: '20' });
    nodes.push(neighbour);
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(nodes[0]!, alice);
    const b = await connect(nodes[1]!, bob);
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId: await conversation(a, bob), media: 'audio' });
    await b.waitFor(about('call:ringing', callId));
    await call(b, 'call:accept', { callId });
    await b.close();
    // Back on the other node within the grace period: call:accept re-attaches the new device.
    const again = await connect(nodes[0]!, bob);
    const reattached = await call<Data>(again, 'call:accept', { callId });
    expect(reattached).toMatchObject({ status: 'active' });
    await a.waitFor((f) => about('call:accepted', callId)(f) && dataOf(f)['connectionId'] === connectionOf(again));
    // Past the grace period the call still goes on and relays to the new device.
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    expect(await call(a, 'call:signal', { callId, kind: 'renegotiate', data: { reason: 'ice_restart', description: { type: 'offer', sdp: SDP } } })).toEqual({
      callId,
      delivered: 1,
    });
    await again.waitFor(about('call:signal', callId));
    // Gone for good: the call ends by itself once the grace period is over.
    const gone = Date.now();
    await again.close();
    expect(dataOf(await a.waitFor(about('call:ended', callId), 10_000))).toMatchObject({ reason: 'disconnected' });
    expect(Date.now() - gone).toBeGreaterThanOrEqual(GRACE_MS - 50);
    const record = await waitUntil('the record', async () => (await db.collection('calls').findOne({ _id: callId as never, status: 'ended' })) ?? undefined);
    expect(record).toMatchObject({ endReason: 'disconnected' });
    expect(record['durationMs']).toBeGreaterThan(GRACE_MS);
  });

  it('a node taken for dead by a long pause puts its devices back in their calls', async () => {
    const paused = await startGateway(env);
    nodes.push(paused);
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(paused, alice);
    const b = await connect(nodes[1]!, bob);
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId: await conversation(a, bob), media: 'audio' });
    await b.waitFor(about('call:ringing', callId));
    await call(b, 'call:accept', { callId });
    // Paused past NODE_TTL_MS: another node reaps it and marks alice's device gone.
    paused.process.kill('SIGSTOP');
    // Whichever other node holds the reaping lock logs it.
    await Promise.any(nodes.filter((n) => n !== paused).map((n) => n.waitForLog((l) => l['deadNode'] === paused.nodeId, 20_000))).finally(() =>
      paused.process.kill('SIGCONT'),
    );
    await paused.waitForLog((l) => String(l.msg).startsWith('heartbeat had lapsed'), 20_000);
    // Past the grace period that the reap started, the call goes on and relays both ways.
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    expect(await call(b, 'call:signal', { callId, kind: 'candidate', data: { candidate: '' } })).toEqual({ callId, delivered: 1 });
    await a.waitFor(about('call:signal', callId));
    expect(a.frames.some(about('call:ended', callId))).toBe(false);
    await call(a, 'call:hangup', { callId });
  });

  it('bounds call:signal: schema, size and rate', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(nodes[0]!, alice);
    const b = await connect(nodes[1]!, bob);
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId: await conversation(a, bob), media: 'audio' });
    await b.waitFor(about('call:ringing', callId));
    // Not answered yet: the callee's device is not in the call.
    expect(await refused(b, 'call:signal', { callId, kind: 'answer', data: { type: 'answer', sdp: SDP } })).toBe('forbidden');
    await call(b, 'call:accept', { callId });
    expect(await refused(a, 'call:signal', { callId, kind: 'mute', data: {} })).toBe('validation_failed');
    expect(await refused(a, 'call:signal', { callId, kind: 'offer', data: { sdp: SDP } })).toBe('validation_failed');
    expect(await refused(a, 'call:signal', { callId, kind: 'renegotiate', data: { reason: 'dance' } })).toBe('validation_failed');
    expect(await refused(a, 'call:signal', { callId, kind: 'offer', data: { type: 'offer', sdp: 'x'.repeat(5000) } })).toBe('payload_too_large');
    // Burst of 20 (some used above), refill 1/s: a quick run of 25 is cut off.
    const codes: string[] = [];
    for (let i = 0; i < 25; i++) {
      const reply = await a.request('call:signal', { callId, kind: 'candidate', data: { candidate: '' } });
      codes.push(reply.error?.code ?? 'ok');
    }
    expect(codes).toContain('rate_limited');
    expect(codes[0]).toBe('ok');
    await call(a, 'call:hangup', { callId });
  });

  it('TURN credentials follow the coturn REST API scheme', async () => {
    const user = uid('turn');
    const before = Math.floor(Date.now() / 1000);
    const reply = await http<{
      username: string;
      credential: string;
      ttlMs: number;
      expiresAt: string;
      iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
    }>(nodes[0]!, 'GET', '/api/calls/turn-credentials', { token: await makeToken({ sub: user }) });
    expect(reply.status).toBe(200);
    const { username, credential, ttlMs, expiresAt, iceServers } = reply.body;
    const [expiry, name] = username.split(':');
    expect(name).toBe(user);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
    expect(credential).toBe(createHmac('sha1', TURN_SECRET).update(username).digest('base64'));
    expect(ttlMs).toBe(3_600_000);
    expect(Date.parse(expiresAt)).toBe(Number(expiry) * 1000);
    expect(iceServers).toEqual([
      { urls: ['stun:stun.example.com:3478'] },
      { urls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349'], username, credential },
    ]);
    expect((await http(nodes[0]!, 'GET', '/api/calls/turn-credentials')).status).toBe(401);
  });

  it('a node killed while its call rings: another node fires the timeout', async () => {
    const spare = await startGateway(env);
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connectUser(spare, alice);
    const b = await connect(nodes[1]!, bob);
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId: await conversation(a, bob), media: 'audio' });
    await b.waitFor(about('call:ringing', callId));
    await spare.kill();
    expect(dataOf(await b.waitFor(about('call:ended', callId), 10_000))).toMatchObject({ reason: 'no_answer' });
    const record = await waitUntil('the record', async () => (await db.collection('calls').findOne({ _id: callId as never, status: 'ended' })) ?? undefined);
    expect(record).toMatchObject({ endReason: 'no_answer' });
  });

  it('chat messages (seed 002): attachments, the voice, file and system types; call messages only from the server', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(nodes[0]!, alice);
    const b = await connect(nodes[1]!, bob);
    const conversationId = await conversation(a, bob);
    const attachments = [{ type: 'audio', url: 'https://cdn.example.com/v.ogg', name: 'v.ogg', size: 12345, mime: 'audio/ogg' }];
    const voice = await call<{ id: string }>(a, 'message:send', { conversationId, type: 'voice', attachments });
    expect(dataOf(await b.waitFor((f) => f.event === 'message:new' && dataOf(f)['id'] === voice.id))).toMatchObject({ type: 'voice', attachments });
    await call(a, 'message:send', {
      conversationId,
      type: 'file',
      attachments: [{ type: 'file', url: 'https://cdn.example.com/a.pdf', mime: 'application/pdf' }],
    });
    await call(a, 'message:send', { conversationId, type: 'system', text: 'alice renamed the chat' });
    expect(await refused(a, 'message:send', { conversationId, type: 'voice', attachments: [{ type: 'image', url: 'https://cdn.example.com/i.png' }] })).toBe(
      'validation_failed',
    );
    expect(await refused(a, 'message:send', { conversationId, type: 'file' })).toBe('validation_failed');
    expect(await refused(a, 'message:send', { conversationId, type: 'call', text: 'fake' })).toBe('validation_failed');
    expect(await refused(a, 'message:send', { conversationId, type: 'file', attachments: [{ type: 'file', url: 'u', mime: 'not a mime' }] })).toBe(
      'validation_failed',
    );
    const stored = await waitUntil('the voice message', async () => (await db.collection('messages').findOne({ _id: voice.id as never })) ?? undefined);
    expect(stored).toMatchObject({ type: 'voice', attachments });
  });
});
