import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, chatEnv, connectUser, eventFrames, openDb, queueDrained, refused, uid } from '../support/chat.js';
import type { NativeClient } from '../support/clients.js';
import { sioConnect, sioConnected } from '../support/clients.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';
import { makeToken } from '../support/gateway.js';

interface Conversation {
  id: string;
  participants: string[];
  unreadCount: number;
  adminId?: string;
  isMuted: boolean;
  isArchived: boolean;
}
interface Ack {
  id: string;
  conversationId: string;
  clientId?: string;
  createdAt: string;
}

describe('chat on one node', () => {
  const dbName = uid('chat1');
  let gw: GatewayProcess;
  let db: Db;
  let closeDb: () => Promise<void>;
  const clients: NativeClient[] = [];
  const connect = async (user: string): Promise<NativeClient> => {
    const c = await connectUser(gw, user);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    gw = await startGateway(chatEnv(inject('redisUrl'), inject('mongoUrl'), dbName));
    ({ db, close: closeDb } = await openDb(inject('mongoUrl'), dbName));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw.stop();
    await db.dropDatabase();
    await closeDb();
  });

  it('keeps one private conversation per pair and delivers messages, unread counts and receipts', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(alice);
    const b = await connect(bob);
    const fromA = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: bob });
    const fromB = await call<Conversation>(b, 'conversation:create', { type: 'private', userId: alice });
    expect(fromB.id).toBe(fromA.id);
    expect([...fromA.participants].sort()).toEqual([alice, bob].sort());

    const sent = await call<Ack>(a, 'message:send', { conversationId: fromA.id, clientId: 'c1', type: 'text', text: 'hello' });
    const got = await b.waitFor((f) => f.event === 'message:new' && (f.data as { id: string }).id === sent.id);
    expect(got.data).toMatchObject({ conversationId: fromA.id, senderId: alice, type: 'text', text: 'hello', clientId: 'c1' });
    // The sender's own devices hear it too.
    await a.waitFor((f) => f.event === 'message:new' && (f.data as { id: string }).id === sent.id);
    const update = await b.waitFor((f) => f.event === 'conversation:update' && (f.data as Conversation).unreadCount === 1);
    expect(update.data).toMatchObject({ id: fromA.id, lastMessage: { id: sent.id, text: 'hello' } });

    await call(b, 'message:delivered', { conversationId: fromA.id, messageId: sent.id });
    const delivered = await a.waitForEvent('message:delivered');
    expect(delivered.data).toMatchObject({ conversationId: fromA.id, userId: bob, messageId: sent.id });

    // The seed's client sends the bare conversation id.
    const read = await call<Conversation>(b, 'conversation:read', fromA.id);
    expect(read.unreadCount).toBe(0);
    const receipt = await a.waitForEvent('message:read');
    expect(receipt.data).toMatchObject({ conversationId: fromA.id, userId: bob });
    expect((await call<Conversation>(b, 'conversation:get', { conversationId: fromA.id })).unreadCount).toBe(0);

    // `to` finds the same private conversation.
    const viaTo = await call<Ack>(b, 'message:send', { to: alice, type: 'location', location: { latitude: 48.85, longitude: 2.35, name: 'Paris' } });
    expect(viaTo.conversationId).toBe(fromA.id);
  });

  it('makes a retried send idempotent: same ack, stored once', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(alice);
    const conv = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: bob });
    const msg = { conversationId: conv.id, clientId: 'retry-1', type: 'image', mediaUrl: 'https://cdn.example/p.jpg' };
    const first = await call<Ack>(a, 'message:send', msg);
    const again = await call<Ack>(a, 'message:send', msg);
    expect(again).toEqual(first);
    // A marker sent after the retry reaches alice's user room after anything the retry could have
    // published (one room, one order), so once it is here a duplicate message:new would be too.
    const markerConv = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: uid('dave') });
    const marker = await call<Ack>(a, 'message:send', { conversationId: markerConv.id, type: 'text', text: 'marker' });
    await a.waitFor((f) => f.event === 'message:new' && (f.data as { id: string }).id === marker.id);
    expect(eventFrames(a, 'message:new').filter((f) => (f.data as { id: string }).id === first.id)).toHaveLength(1);
    await queueDrained(gw);
    expect(await db.collection('messages').countDocuments({ conversationId: conv.id })).toBe(1);
    const stored = await db.collection<{ _id: string }>('messages').findOne({ _id: first.id });
    expect(stored).toMatchObject({ senderId: alice, type: 'image', mediaUrl: 'https://cdn.example/p.jpg', clientId: 'retry-1', version: 1 });
    expect((stored as Record<string, unknown> | null)?.['createdAt']).toBeInstanceOf(Date);
    // Client ids are scoped to a conversation: the same one elsewhere is another message.
    const other = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: uid('carol') });
    const elsewhere = await call<Ack>(a, 'message:send', { ...msg, conversationId: other.id });
    expect(elsewhere.id).not.toBe(first.id);
  });

  it('refuses non-participants everything', async () => {
    const [alice, bob, mallory] = [uid('alice'), uid('bob'), uid('mallory')];
    const a = await connect(alice);
    const m = await connect(mallory);
    const conv = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: bob });
    const sent = await call<Ack>(a, 'message:send', { conversationId: conv.id, type: 'text', text: 'secret' });
    expect(await refused(m, 'message:send', { conversationId: conv.id, type: 'text', text: 'hi' })).toBe('forbidden');
    expect(await refused(m, 'message:history', { conversationId: conv.id })).toBe('forbidden');
    expect(await refused(m, 'conversation:get', { conversationId: conv.id })).toBe('forbidden');
    expect(await refused(m, 'conversation:read', { conversationId: conv.id })).toBe('forbidden');
    expect(await refused(m, 'typing', { conversationId: conv.id })).toBe('forbidden');
    expect(await refused(m, 'message:react', { conversationId: conv.id, messageId: sent.id, emoji: '👍' })).toBe('forbidden');
    expect(await refused(m, 'message:edit', { conversationId: conv.id, messageId: sent.id, text: 'pwned' })).toBe('forbidden');
    expect(await refused(m, 'message:delete', { conversationId: conv.id, messageId: sent.id })).toBe('forbidden');
    expect(await refused(m, 'message:send', { conversationId: 'dm_doesnotexist', type: 'text', text: 'x' })).toBe('not_found');
    expect(eventFrames(m, 'message:new')).toHaveLength(0);
    await queueDrained(gw);
    const stored = await db.collection<{ _id: string }>('messages').findOne({ _id: sent.id });
    expect(stored).toMatchObject({ text: 'secret', edited: false, isDeleted: false });
  });

  it('validates message types', async () => {
    const a = await connect(uid('alice'));
    const conv = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: uid('bob') });
    expect(await refused(a, 'message:send', { conversationId: conv.id, type: 'image' })).toBe('validation_failed');
    expect(await refused(a, 'message:send', { conversationId: conv.id, type: 'gift' })).toBe('validation_failed');
    expect(await refused(a, 'message:send', { conversationId: conv.id, type: 'poll', text: 'x' })).toBe('validation_failed');
    expect(await refused(a, 'message:send', { conversationId: conv.id, type: 'text', text: 'x'.repeat(5001) })).toBe('validation_failed');
    expect(await refused(a, 'message:send', { conversationId: conv.id, type: 'text', text: '   ' })).toBe('validation_failed');
  });

  it('edits, deletes and reacts; every change is versioned into MongoDB', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(alice);
    const b = await connect(bob);
    const conv = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: bob });
    const sent = await call<Ack>(a, 'message:send', { conversationId: conv.id, type: 'text', text: 'typo' });
    const reply = await call<Ack>(b, 'message:send', { conversationId: conv.id, type: 'text', text: 'answer', replyTo: sent.id });
    expect(await refused(b, 'message:send', { conversationId: conv.id, type: 'text', text: 'x', replyTo: 'm_nosuchmessage' })).toBe('not_found');
    expect(await refused(b, 'message:edit', { conversationId: conv.id, messageId: sent.id, text: 'not mine' })).toBe('forbidden');
    await call(a, 'message:edit', { conversationId: conv.id, messageId: sent.id, text: 'fixed' });
    const edited = await b.waitFor((f) => f.event === 'message:update' && (f.data as { action: string }).action === 'edit');
    expect(edited.data).toMatchObject({ userId: alice, message: { id: sent.id, text: 'fixed' } });
    await call(b, 'message:react', { conversationId: conv.id, messageId: sent.id, emoji: '❤️' });
    await call(b, 'message:react', { conversationId: conv.id, messageId: sent.id, emoji: '❤️' });
    await call(a, 'message:react', { conversationId: conv.id, messageId: sent.id, emoji: '😂' });
    await call(a, 'message:unreact', { conversationId: conv.id, messageId: sent.id, emoji: '😂' });
    await call(b, 'message:delete', { conversationId: conv.id, messageId: reply.id });
    expect(await refused(b, 'message:edit', { conversationId: conv.id, messageId: reply.id, text: 'again' })).toBe('conflict');
    await a.waitFor((f) => f.event === 'message:update' && (f.data as { action: string }).action === 'delete');

    await queueDrained(gw);
    const messages = db.collection<{ _id: string }>('messages');
    const first = await messages.findOne({ _id: sent.id });
    expect(first).toMatchObject({ text: 'fixed', edited: true, isDeleted: false, version: 5 });
    expect(((first as Record<string, unknown> | null)?.['reactions'] as Array<{ userId: string; emoji: string }>).map((r) => [r.userId, r.emoji])).toEqual([
      [bob, '❤️'],
    ]);
    const second = await messages.findOne({ _id: reply.id });
    expect(second).toMatchObject({ isDeleted: true, text: '', replyTo: sent.id, version: 2 });

    const page = await call<{ messages: Array<{ id: string; text?: string; isDeleted: boolean }>; hasMore: boolean }>(a, 'message:history', {
      conversationId: conv.id,
      limit: 1,
    });
    expect(page.hasMore).toBe(true);
    expect(page.messages.map((m) => m.id)).toEqual([reply.id]);
    expect(page.messages[0]!.isDeleted).toBe(true);
    const older = await call<{ messages: Array<{ id: string; text?: string }>; hasMore: boolean }>(a, 'message:history', {
      conversationId: conv.id,
      before: reply.id,
      limit: 10,
    });
    expect(older).toMatchObject({ hasMore: false, messages: [{ id: sent.id, text: 'fixed' }] });
  });

  it('runs groups: admin adds and removes, members leave, non-admins cannot add', async () => {
    const [admin, m1, m2, m3] = [uid('admin'), uid('m1'), uid('m2'), uid('m3')];
    const a = await connect(admin);
    const c1 = await connect(m1);
    const group = await call<Conversation>(a, 'conversation:create', { type: 'group', groupName: 'team', participants: [m1, m2], clientId: 'g1' });
    expect(group).toMatchObject({ adminId: admin, participants: [admin, m1, m2] });
    const same = await call<Conversation>(a, 'conversation:create', { type: 'group', groupName: 'team', participants: [m1, m2], clientId: 'g1' });
    expect(same.id).toBe(group.id);
    expect(await refused(c1, 'conversation:participants:add', { conversationId: group.id, userIds: [m3] })).toBe('forbidden');
    const added = await call<Conversation>(a, 'conversation:participants:add', { conversationId: group.id, userIds: [m3] });
    expect(added.participants).toEqual([admin, m1, m2, m3]);
    await call(a, 'message:send', { conversationId: group.id, type: 'text', text: 'welcome' });
    const unread = await c1.waitFor((f) => f.event === 'conversation:update' && (f.data as Conversation).unreadCount === 1);
    expect((unread.data as Conversation).participants).toContain(m3);
    await call(a, 'conversation:participants:remove', { conversationId: group.id, userIds: [m2] });
    await call(c1, 'conversation:participants:remove', { conversationId: group.id, userIds: [m1] });
    await c1.waitFor((f) => f.event === 'conversation:removed');
    expect(await refused(c1, 'message:send', { conversationId: group.id, type: 'text', text: 'still here?' })).toBe('forbidden');
    expect(
      await refused(a, 'conversation:participants:add', {
        conversationId: (await call<Conversation>(a, 'conversation:create', { type: 'private', userId: m1 })).id,
        userIds: [m3],
      }),
    ).toBe('conflict');
    await queueDrained(gw);
    const stored = await db.collection<{ _id: string }>('conversations').findOne({ _id: group.id });
    expect(stored).toMatchObject({ type: 'group', groupName: 'team', adminId: admin, participants: [admin, m3], messagesCount: 1 });
  });

  it('relays typing to the other participants, throttled and never stored', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(alice);
    const b = await connect(bob);
    const conv = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: bob });
    expect(await call(a, 'typing', { conversationId: conv.id })).toEqual({ sent: true });
    expect(await call(a, 'typing', { conversationId: conv.id })).toEqual({ sent: false });
    expect(await call(a, 'typing', { conversationId: conv.id, isTyping: false })).toEqual({ sent: true });
    await b.waitFor((f) => f.event === 'typing' && (f.data as { isTyping: boolean }).isTyping === false);
    expect(eventFrames(b, 'typing').map((f) => f.data)).toEqual([
      { conversationId: conv.id, userId: alice, isTyping: true },
      { conversationId: conv.id, userId: alice, isTyping: false },
    ]);
    expect(eventFrames(a, 'typing')).toHaveLength(0);
  });

  it('mutes, archives, and notifies only users not looking at the conversation', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(alice);
    const b = await connect(bob);
    const conv = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: bob });
    await call(a, 'message:send', { conversationId: conv.id, type: 'text', text: 'one' });
    const n1 = await b.waitForEvent('notification:new');
    expect(n1.data).toMatchObject({ notification: { type: 'message', senderId: alice, body: 'one', data: { conversationId: conv.id } }, unreadCount: 1 });

    await call(b, 'conversation:view', { conversationId: conv.id });
    await call(a, 'message:send', { conversationId: conv.id, type: 'text', text: 'two' });
    await b.waitFor((f) => f.event === 'message:new' && (f.data as { text: string }).text === 'two');
    await call(b, 'conversation:view', { conversationId: null });
    const muted = await call<Conversation>(b, 'conversation:mute', { conversationId: conv.id, on: true });
    expect(muted.isMuted).toBe(true);
    await call(a, 'message:send', { conversationId: conv.id, type: 'text', text: 'three' });
    await b.waitFor((f) => f.event === 'message:new' && (f.data as { text: string }).text === 'three');
    await call(b, 'conversation:mute', { conversationId: conv.id, on: false });
    await call(a, 'message:send', { conversationId: conv.id, type: 'text', text: 'four' });
    await b.waitFor((f) => f.event === 'notification:new' && (f.data as { notification: { body: string } }).notification.body === 'four');
    expect(eventFrames(b, 'notification:new').map((f) => (f.data as { notification: { body: string } }).notification.body)).toEqual(['one', 'four']);

    const archived = await call<Conversation>(b, 'conversation:archive', { conversationId: conv.id, on: true });
    expect(archived).toMatchObject({ isArchived: true, unreadCount: 4 });
    const list = await (async () => {
      await queueDrained(gw);
      return call<{ conversations: Conversation[] }>(b, 'conversation:list', {});
    })();
    expect(list.conversations.find((c) => c.id === conv.id)).toMatchObject({ isArchived: true, unreadCount: 4 });
  });

  it("speaks the seed app's Socket.IO events unchanged (socket.io-client)", async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(alice);
    const bobSocket = sioConnect(gw.http, { token: await makeToken({ sub: bob }) });
    try {
      await sioConnected(bobSocket);
      const got = new Promise<{ text: string; conversationId: string }>((resolve) => bobSocket.on('message:new', resolve));
      const unread = new Promise<Conversation>((resolve) => bobSocket.on('conversation:update', (c: Conversation) => c.unreadCount === 1 && resolve(c)));
      const conv = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: bob });
      await call(a, 'message:send', { conversationId: conv.id, type: 'text', text: 'over socket.io' });
      expect(await got).toMatchObject({ text: 'over socket.io', conversationId: conv.id });
      expect((await unread).id).toBe(conv.id);
      // socket.emit('conversation:read', conversationId) as in seed 000
      const read = (await bobSocket.emitWithAck('conversation:read', conv.id)) as Conversation;
      expect(read).toMatchObject({ id: conv.id, unreadCount: 0 });
      const reply = (await bobSocket.emitWithAck('message:send', {
        conversationId: conv.id,
        type: 'sticker',
        mediaUrl: 'https://cdn.example/s.webp',
        clientId: 'sio-1',
      })) as { id: string };
      await a.waitFor((f) => f.event === 'message:new' && (f.data as { id: string }).id === reply.id);
    } finally {
      bobSocket.close();
    }
  });
});
