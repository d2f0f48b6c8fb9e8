/**
 * Group calls (mesh, up to CALL_MAX_PARTIES) over two nodes, and a node killed with -9 during an
 * answered call: the other party hears `call:ended {reason: disconnected}` within the grace period,
 * or the call goes on when the device comes back on another node; the record is stored either way.
 */
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, chatEnv, connectUser, eventFrames, openDb, refused, uid, waitUntil } from '../support/chat.js';
import type { NativeClient, ServerFrame } from '../support/clients.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';
import { startRedis, type Service } from '../support/services.js';

const GRACE_MS = 1500;
const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

type Data = Record<string, unknown>;
const dataOf = (f: ServerFrame): Data => f.data as Data;
const about = (event: string, callId: string) => (f: ServerFrame) => f.event === event && dataOf(f)['callId'] === callId;
const connectionOf = (c: NativeClient): string => dataOf(c.frames.find((f) => f.event === 'session:ready')!)['connectionId'] as string;
const offer = (callId: string, toConnectionId?: string): Data => ({
  callId,
  kind: 'offer',
  data: { type: 'offer', sdp: SDP },
  ...(toConnectionId ? { toConnectionId } : {}),
});

describe('group calls and node deaths', () => {
  const dbName = uid('groupcalls');
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
  const record = (callId: string) =>
    waitUntil('the ended record', async () => (await db.collection('calls').findOne({ _id: callId as never, status: 'ended' })) ?? undefined);

  // A Redis of this file's own: its tests pause and kill nodes, and the gateways of other files on a
  // shared Redis would reap them (and sweep the call timers) in their place.
  let redis: Service;
  beforeAll(async () => {
    redis = await startRedis();
    env = chatEnv(redis.url, inject('mongoUrl'), dbName, {
      CALL_RING_TIMEOUT_MS: '20000',
      CALL_RECONNECT_GRACE_MS: String(GRACE_MS),
      CALL_MAX_PARTIES: '3',
      CALL_SWEEP_MS: '50',
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

  it('three parties on two nodes: rings all, two answer, signals go per device pair, one leaves and the call goes on, the last leaves and it ends', async () => {
    const [alice, bob, carol] = [uid('alice'), uid('bob'), uid('carol')];
    const a = await connect(nodes[0]!, alice);
    const b = await connect(nodes[1]!, bob);
    const c1 = await connect(nodes[1]!, carol);
    const c2 = await connect(nodes[0]!, carol);
    const { id: conversationId } = await call<{ id: string }>(a, 'conversation:create', { type: 'group', participants: [bob, carol], groupName: 'mesh' });
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId, media: 'video' });
    for (const x of [b, c1, c2]) expect(dataOf(await x.waitFor(about('call:ringing', callId)))).toMatchObject({ participants: [alice, bob, carol] });

    await call(b, 'call:accept', { callId });
    expect(await call(c1, 'call:accept', { callId })).toMatchObject({ status: 'active' });
    // carol's other device stops ringing: it is told where she answered.
    expect(dataOf(await c2.waitFor((f) => about('call:accepted', callId)(f) && dataOf(f)['userId'] === carol))).toMatchObject({
      connectionId: connectionOf(c1),
    });

    // The mesh: each pair of devices negotiates on its own, addressed by connection id.
    const [ac, bc, cc] = [connectionOf(a), connectionOf(b), connectionOf(c1)];
    expect(await call(a, 'call:signal', offer(callId, bc))).toEqual({ callId, delivered: 1 });
    expect(await call(a, 'call:signal', offer(callId, cc))).toEqual({ callId, delivered: 1 });
    expect(await call(b, 'call:signal', offer(callId, cc))).toEqual({ callId, delivered: 1 });
    expect(await call(c1, 'call:signal', { callId, kind: 'answer', data: { type: 'answer', sdp: SDP }, toConnectionId: ac })).toEqual({ callId, delivered: 1 });
    // Without toConnectionId: to every other device in the call.
    expect(await call(a, 'call:signal', { callId, kind: 'candidate', data: { candidate: '' } })).toEqual({ callId, delivered: 2 });
    await c1.waitFor((f) => about('call:signal', callId)(f) && dataOf(f)['kind'] === 'candidate');
    const from = (x: NativeClient, kind: string) =>
      eventFrames(x, 'call:signal')
        .filter((f) => dataOf(f)['callId'] === callId && dataOf(f)['kind'] === kind)
        .map((f) => dataOf(f)['fromConnectionId']);
    expect(from(b, 'offer')).toEqual([ac]);
    expect(from(c1, 'offer').sort()).toEqual([ac, bc].sort());
    expect(from(a, 'answer')).toEqual([cc]);
    await b.waitFor((f) => about('call:signal', callId)(f) && dataOf(f)['kind'] === 'candidate');
    // carol's device that did not answer never sees the SDP.
    expect(eventFrames(c2, 'call:signal')).toEqual([]);

    // bob leaves: the others are told, the call goes on between alice and carol.
    expect(await call(b, 'call:hangup', { callId })).toMatchObject({ status: 'active' });
    for (const x of [a, c1]) expect(dataOf(await x.waitFor(about('call:left', callId)))).toMatchObject({ userId: bob, reason: 'hangup' });
    expect(dataOf(await b.waitFor(about('call:ended', callId)))).toMatchObject({ reason: 'hangup' });
    expect(await call(a, 'call:signal', offer(callId))).toEqual({ callId, delivered: 1 });
    expect(await refused(a, 'call:signal', offer(callId, bc))).toBe('not_found');
    expect(eventFrames(a, 'call:ended').filter((f) => dataOf(f)['callId'] === callId)).toEqual([]);

    // carol leaves: alice is alone, the call ends for her too.
    await call(c1, 'call:hangup', { callId });
    expect(dataOf(await a.waitFor(about('call:ended', callId)))).toMatchObject({ reason: 'hangup' });
    const stored = await record(callId);
    expect(stored).toMatchObject({
      endReason: 'hangup',
      participants: [alice, bob, carol],
      parties: [
        { userId: alice, status: 'left' },
        { userId: bob, status: 'left' },
        { userId: carol, status: 'left' },
      ],
    });
    expect(stored['durationMs']).toBeGreaterThanOrEqual(0);
  });

  it('refuses a call in a conversation larger than CALL_MAX_PARTIES', async () => {
    const users = [uid('u'), uid('u'), uid('u'), uid('u')];
    const a = await connect(nodes[0]!, users[0]!);
    const { id } = await call<{ id: string }>(a, 'conversation:create', { type: 'group', participants: users.slice(1), groupName: 'too big' });
    expect(await refused(a, 'call:invite', { conversationId: id, media: 'audio' })).toBe('validation_failed');
  });

  it('a node killed -9 during an answered call: the other party hears call:ended (disconnected) within the grace period', async () => {
    const spare = await startGateway(env);
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connectUser(spare, alice);
    const b = await connect(nodes[1]!, bob);
    const { id: conversationId } = await call<{ id: string }>(a, 'conversation:create', { type: 'private', userId: bob });
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId, media: 'audio' });
    await b.waitFor(about('call:ringing', callId));
    await call(b, 'call:accept', { callId });
    await a.waitFor(about('call:accepted', callId));
    const killed = Date.now();
    await spare.kill();
    // Node death noticed (NODE_TTL_MS) + grace + a sweep: well within 10 s.
    expect(dataOf(await b.waitFor(about('call:ended', callId), 10_000))).toMatchObject({ reason: 'disconnected' });
    expect(Date.now() - killed).toBeGreaterThanOrEqual(GRACE_MS - 50);
    expect(await record(callId)).toMatchObject({
      endReason: 'disconnected',
      parties: [
        { userId: alice, status: 'left' },
        { userId: bob, status: 'left' },
      ],
    });
  });

  it('a node killed -9 during an answered call, the device back on another node at once: the call goes on', async () => {
    const spare = await startGateway(env);
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connectUser(spare, alice);
    const b = await connect(nodes[1]!, bob);
    const { id: conversationId } = await call<{ id: string }>(a, 'conversation:create', { type: 'private', userId: bob });
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId, media: 'audio' });
    await b.waitFor(about('call:ringing', callId));
    await call(b, 'call:accept', { callId });
    await spare.kill();
    // Back at once, before the cluster noticed the death: the new device takes the dead one's place.
    const again = await connect(nodes[0]!, alice);
    expect(await call(again, 'call:accept', { callId })).toMatchObject({ status: 'active' });
    await b.waitFor((f) => about('call:accepted', callId)(f) && dataOf(f)['connectionId'] === connectionOf(again));
    // A surviving node reaps the dead one (its devices' cleanup runs); past the grace period after that,
    // the call still relays both ways and nothing ended it.
    const reaped = (l: { msg?: unknown; deadNode?: unknown }) =>
      l.msg === 'node heartbeat expired; removing its viewers and devices' && l.deadNode === spare.nodeId;
    await Promise.race(nodes.map((n) => n.waitForLog(reaped)));
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    expect(await call(b, 'call:signal', offer(callId))).toEqual({ callId, delivered: 1 });
    expect(await call(again, 'call:signal', { callId, kind: 'answer', data: { type: 'answer', sdp: SDP } })).toEqual({ callId, delivered: 1 });
    expect(eventFrames(b, 'call:ended').filter((f) => dataOf(f)['callId'] === callId)).toEqual([]);
    await call(b, 'call:hangup', { callId });
    expect(dataOf(await again.waitFor(about('call:ended', callId)))).toMatchObject({ reason: 'hangup' });
    expect(await record(callId)).toMatchObject({ endReason: 'hangup' });
  });
});
