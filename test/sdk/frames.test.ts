/**
 * The event contract against real traffic: a realistic session of three users on two nodes (Redis,
 * MongoDB) — presence, chat, a livestream with chat, gifts and live shopping, a call, a PK
 * invitation, notifications, coins — and every frame each client received (acks, events, errors)
 * is checked against /asyncapi.json's schemas. A schema that does not match what is sent fails it:
 * the second test breaks one declared schema and expects exactly those frames to fail.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect, eventually, fund, startMoneyEnv, uid, type MoneyEnv } from '../money/support.js';
import type { NativeClient, ServerFrame } from '../support/clients.js';
import { ContractChecker, recorder, type Recorded } from './frames.js';

type Json = Record<string, unknown>;
type Rec = ReturnType<typeof recorder>;

const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

/** The ack's data; fails with the server's error otherwise. */
async function ok<T = Json>(r: Rec, event: string, data: unknown = {}): Promise<T> {
  const reply = await r.request(event, data);
  if (reply.error) throw new Error(`${r.who}: ${event} refused: ${reply.error.code}: ${reply.error.message}`);
  return reply.data as T;
}

const about =
  (event: string, match: (data: Json) => boolean = () => true) =>
  (f: ServerFrame) =>
    f.event === event && match(f.data as Json);

describe('real frames match the declared schemas', () => {
  let env: MoneyEnv;
  let doc: Json;
  const recorded: Recorded[] = [];
  const clients: NativeClient[] = [];

  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2, { DEV_PAYMENTS: 'true', COMPAT_USER_PRESENCE_EVENTS: 'true', PK_SCORE_INTERVAL_MS: '100' });
    doc = (await (await fetch(`${env.gateways[0]!.http}/asyncapi.json`)).json()) as Json;

    const [n0, n1] = [env.gateways[0]!, env.gateways[1]!];
    const [aliceId, bobId, carolId] = [uid('alice'), uid('bob'), uid('carol')];
    const open = async (who: string, node: typeof n0, userId: string, role?: string): Promise<Rec> => {
      const client = await connect(node, userId, role);
      clients.push(client);
      const r = recorder(who, client);
      recorded.push(r);
      return r;
    };
    const alice = await open('alice', n0, aliceId);
    const bob = await open('bob', n1, bobId);
    const carol = await open('carol', n1, carolId);
    const admin = await open('admin', n0, uid('admin'), 'admin');
    const client = (r: Rec): NativeClient => clients[recorded.indexOf(r)]!;

    // Session and catalogue.
    await ok(alice, 'session:info');
    await ok(alice, 'session:ping', { clientAt: new Date().toISOString() });
    await ok(alice, 'subscribe_notifications', {});
    await ok(alice, 'gift:catalog');
    for (const kind of ['gifts', 'coinPackages', 'levels', 'supporterBadges', 'currencies']) await ok(alice, 'catalog:get', { kind });
    await ok(admin, 'wallet:credit', { userId: bobId, amount: 500, reason: 'frames test', idempotencyKey: uid('fund') });
    await fund(env.admin, carolId, 100);
    await ok(bob, 'wallet:balance');
    await ok(carol, 'coins:purchase', { packageId: 'coins-100', idempotencyKey: uid('buy') });

    // Chat: a private conversation and a group, messages, receipts, reactions, typing.
    const { id: dm } = await ok<{ id: string }>(alice, 'conversation:create', { type: 'private', userId: bobId });
    const { id: group } = await ok<{ id: string }>(alice, 'conversation:create', { type: 'group', participants: [bobId, carolId], groupName: 'frames' });
    await ok(bob, 'presence:subscribe', { userIds: [aliceId] });
    await ok(alice, 'presence:set', { status: 'away' });
    await client(bob).waitFor(about('presence:update', (d) => d['status'] === 'away'));
    await ok(alice, 'user:follow', { userId: carolId });
    await ok(alice, 'user:unfollow', { userId: carolId });
    const sent = await ok<{ id: string }>(bob, 'message:send', { conversationId: dm, type: 'text', text: 'hi alice', clientId: uid('c') });
    await client(alice).waitFor(about('message:new', (d) => d['id'] === sent.id));
    await ok(bob, 'message:edit', { conversationId: dm, messageId: sent.id, text: 'hi alice!' });
    await ok(alice, 'message:react', { conversationId: dm, messageId: sent.id, emoji: '👍' });
    await ok(alice, 'message:unreact', { conversationId: dm, messageId: sent.id, emoji: '👍' });
    await ok(alice, 'message:delivered', { conversationId: dm, messageId: sent.id });
    await ok(alice, 'conversation:read', { conversationId: dm, messageId: sent.id });
    await client(bob).waitFor(about('message:read'));
    await ok(alice, 'typing', { conversationId: dm, isTyping: true });
    await client(bob).waitFor(about('typing'));
    await ok(alice, 'conversation:view', { conversationId: dm });
    await ok(alice, 'conversation:view', { conversationId: null });
    await ok(alice, 'conversation:mute', { conversationId: dm, on: true });
    await ok(alice, 'conversation:archive', { conversationId: dm, on: false });
    await ok(alice, 'conversation:get', { conversationId: group });
    const groupMessage = await ok<{ id: string }>(carol, 'message:send', { conversationId: group, type: 'text', text: 'hello group' });
    await ok(carol, 'message:delete', { conversationId: group, messageId: groupMessage.id });
    await client(alice).waitFor(about('message:update', (d) => d['action'] === 'delete'));
    await ok(alice, 'conversation:participants:remove', { conversationId: group, userIds: [carolId] });
    await client(carol).waitFor(about('conversation:removed'));
    await ok(alice, 'conversation:participants:add', { conversationId: group, userIds: [carolId] });
    await eventually(
      async () => (await env.db.collection('messages').countDocuments({ conversationId: dm })) > 0,
      (stored) => stored,
    );
    await ok(alice, 'message:history', { conversationId: dm, limit: 10 });
    await ok(alice, 'conversation:list', { limit: 10 });

    // A livestream: viewers, chat, a gift, live shopping, co-host invite.
    const streamId = uid('live');
    await ok(alice, 'livestream:start', { title: 'frames', livestreamId: streamId });
    await ok(bob, 'livestream:join', { livestreamId: streamId });
    await ok(carol, 'livestream:join', { livestreamId: streamId });
    await ok(bob, 'livestream:chat', { livestreamId: streamId, text: 'hello stream' });
    await client(alice).waitFor(about('livestream:viewers', (d) => d['viewers'] === 2));
    await ok(bob, 'gift:send', { giftId: 'rose', quantity: 2, livestreamId: streamId, idempotencyKey: uid('gift') });
    await client(carol).waitFor(about('gift:sent'));
    await ok(bob, 'gift:leaderboard', { livestreamId: streamId });
    await ok(bob, 'gift:totals', { livestreamId: streamId });
    await ok(alice, 'livestream:cohost:invite', { livestreamId: streamId, userId: carolId });
    await client(carol).waitFor(about('livestream:cohost:invited'));
    await ok(alice, 'shopping:start', { livestreamId: streamId });
    await ok(alice, 'shopping:pin', { livestreamId: streamId, productId: 'mug', price: 5, name: 'Mug' });
    await ok(bob, 'shopping:view', { livestreamId: streamId });
    await ok(bob, 'shopping:order', { livestreamId: streamId, productId: 'mug', quantity: 1, idempotencyKey: uid('order') });
    await client(alice).waitFor(about('shopping:order'));
    await client(bob).waitFor(about('shopping:stats'));
    await ok(alice, 'shopping:stats', { livestreamId: streamId });
    await ok(alice, 'shopping:unpin', { livestreamId: streamId, productId: 'mug' });
    await ok(bob, 'room:resume', { room: `user:${bobId}`, lastSeq: 0 });

    // A PK invitation, declined.
    const battle = await ok<{ battleId: string }>(alice, 'pk:invite', { opponentId: bobId });
    await client(bob).waitFor(about('pk_battle:invite'));
    await ok(bob, 'pk:get', { battleId: battle.battleId });
    await ok(bob, 'pk:decline', { battleId: battle.battleId });
    await client(alice).waitFor(about('pk_battle:declined'));
    await ok(bob, 'pk:rankings', {});

    // A call: ring, answer, offer/answer/candidate/renegotiate, hang up; the call message follows.
    const { callId } = await ok<{ callId: string }>(alice, 'call:invite', { conversationId: dm, media: 'video' });
    await client(bob).waitFor(about('call:ringing', (d) => d['callId'] === callId));
    await ok(bob, 'call:accept', { callId });
    await client(alice).waitFor(about('call:accepted', (d) => d['callId'] === callId));
    await ok(alice, 'call:signal', { callId, kind: 'offer', data: { type: 'offer', sdp: SDP } });
    await ok(bob, 'call:signal', { callId, kind: 'answer', data: { type: 'answer', sdp: SDP } });
    await ok(bob, 'call:signal', { callId, kind: 'candidate', data: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
    await ok(alice, 'call:signal', { callId, kind: 'renegotiate', data: { reason: 'camera_off' } });
    await client(bob).waitFor(about('call:signal', (d) => d['kind'] === 'renegotiate'));
    await ok(bob, 'call:hangup', { callId });
    await client(alice).waitFor(about('call:ended', (d) => d['callId'] === callId));
    await client(alice).waitFor(about('message:new', (d) => d['type'] === 'call'));
    // A call nobody answers in the group: a missed-call notification for carol... declined by bob, cancelled.
    const missed = await ok<{ callId: string }>(alice, 'call:invite', { conversationId: group, media: 'audio' });
    await client(carol).waitFor(about('call:ringing', (d) => d['callId'] === missed.callId));
    await ok(bob, 'call:decline', { callId: missed.callId });
    await ok(alice, 'call:cancel', { callId: missed.callId });
    await client(carol).waitFor(about('notification:new', (d) => (d['notification'] as Json)['type'] === 'missed_call'));

    // Notifications, refusals (error frames), the stream's end.
    await ok(carol, 'notification:list', { limit: 20 });
    await ok(carol, 'notification:unread_count');
    // The list is read from MongoDB, which the write queue fills asynchronously.
    const { notifications } = await eventually(
      () => ok<{ notifications: Array<{ id: string }> }>(carol, 'notification:list', {}),
      (page) => page.notifications.length > 0,
    );
    await ok(carol, 'notification:read', { id: notifications[0]!.id });
    await ok(carol, 'notification:read_all');
    await ok(carol, 'notification:delete', { id: notifications[0]!.id });
    await client(carol).waitFor(about('notification:update', (d) => d['action'] === 'delete'));
    expect((await bob.request('livestream:chat', { livestreamId: 'nope', text: 'x' })).error).toBeDefined();
    expect((await bob.request('no:such:event', {})).error?.code).toBe('unknown_event');
    await ok(bob, 'livestream:leave', { livestreamId: streamId });
    await ok(alice, 'livestream:end', { livestreamId: streamId });
    await client(carol).waitFor(about('livestream:ended'));
    await ok(alice, 'presence:unsubscribe', { userIds: [bobId] });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await env?.close();
  });

  it('every ack, event and error frame of the session is declared and matches its schema', () => {
    const { checked, violations } = new ContractChecker(doc).check(recorded);
    expect(violations).toEqual([]);
    // The session covers most of the contract (acks and server events alike).
    const acks = [...checked].filter((id) => id.endsWith('.ack'));
    const events = [...checked].filter((id) => id.endsWith('.event'));
    expect(acks.length).toBeGreaterThanOrEqual(60);
    expect(events).toEqual(
      expect.arrayContaining(
        [
          'session:ready',
          'presence:update',
          'user_online',
          'message:new',
          'message:update',
          'message:read',
          'typing',
          'conversation:update',
          'conversation:removed',
          'livestream:chat',
          'livestream:viewers',
          'livestream:ended',
          'livestream:cohost:invited',
          'gift:sent',
          'shopping:pinned',
          'shopping:order',
          'shopping:stats',
          'pk_battle:invite',
          'pk_battle:declined',
          'call:ringing',
          'call:accepted',
          'call:signal',
          'call:ended',
          'call:left',
          'notification:new',
          'notification:update',
        ].map((e) => `${e.replace(/[^A-Za-z0-9._-]/g, '.')}.event`),
      ),
    );
    expect(checked.has('error')).toBe(true);
  });

  it('a declared schema that differs from what is sent fails the check', () => {
    const broken = structuredClone(doc) as { components: { schemas: Record<string, Json>; messages: Record<string, { payload: Json }> } };
    // The chat message's senderId declared as a number; and livestream:chat declared without `text` (strict object).
    (broken.components.schemas['ChatMessage']!['properties'] as Json)['senderId'] = { type: 'integer' };
    const chat = broken.components.messages['livestream.chat.event']!.payload;
    delete (chat['properties'] as Json)['text'];
    const { violations } = new ContractChecker(broken).check(recorded);
    const failed = new Set(violations.map((v) => v.what));
    expect(failed).toEqual(
      new Set([
        'message.new.event',
        'message.update.event',
        'message.edit.ack',
        'message.react.ack',
        'message.unreact.ack',
        'message.delete.ack',
        'message.history.ack',
        'livestream.chat.event',
      ]),
    );
  });
});
