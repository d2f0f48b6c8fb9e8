/** Calls on one node without Redis: the in-memory CallStore keeps the same rules (ring, answer, relay, timeout). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, connectUser, refused, uid } from '../support/chat.js';
import type { NativeClient, ServerFrame } from '../support/clients.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';

const about = (event: string, callId: string) => (f: ServerFrame) => f.event === event && (f.data as { callId?: string }).callId === callId;

describe('calls on a single node (memory store)', () => {
  let gw: GatewayProcess;
  const clients: NativeClient[] = [];
  beforeAll(async () => {
    gw = await startGateway({ CALL_RING_TIMEOUT_MS: '1000', CALL_SWEEP_MS: '50', RATE_LIMIT_USER_PER_SEC: '1000', RATE_LIMIT_USER_BURST: '1000' });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw.stop();
  });
  const connect = async (userId: string): Promise<NativeClient> => {
    const c = await connectUser(gw, userId);
    clients.push(c);
    return c;
  };

  it('rings, answers on one device, relays to it only, then a second call times out', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(alice);
    const [b1, b2] = [await connect(bob), await connect(bob)];
    const conversationId = (await call<{ id: string }>(a, 'conversation:create', { type: 'private', userId: bob })).id;
    const { callId } = await call<{ callId: string }>(a, 'call:invite', { conversationId, media: 'audio' });
    await Promise.all([b1.waitFor(about('call:ringing', callId)), b2.waitFor(about('call:ringing', callId))]);
    await call(b2, 'call:accept', { callId });
    await b1.waitFor(about('call:accepted', callId));
    expect(await call(a, 'call:signal', { callId, kind: 'offer', data: { type: 'offer', sdp: 'v=0' } })).toEqual({ callId, delivered: 1 });
    await b2.waitFor(about('call:signal', callId));
    expect(await refused(b1, 'call:signal', { callId, kind: 'answer', data: { type: 'answer', sdp: 'v=0' } })).toBe('forbidden');
    await call(a, 'call:hangup', { callId });
    await b1.waitFor(about('call:ended', callId));
    expect(b1.frames.filter((f) => f.event === 'call:signal')).toEqual([]);

    const second = await call<{ callId: string }>(b1, 'call:invite', { conversationId, media: 'video' });
    expect((await a.waitFor(about('call:ended', second.callId))).data).toMatchObject({ reason: 'no_answer' });
  });
});
