import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, chatEnv, connectUser, openDb, pipelined, queueDrained, refused, uid } from '../support/chat.js';
import type { NativeClient } from '../support/clients.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';

interface Ack {
  id: string;
  conversationId: string;
  clientId?: string;
  createdAt: string;
}
interface Conversation {
  id: string;
  unreadCount: number;
}

describe('chat across two nodes sharing Redis and MongoDB', () => {
  const dbName = uid('chat2');
  let nodes: GatewayProcess[];
  let db: Db;
  let closeDb: () => Promise<void>;
  const clients: NativeClient[] = [];
  const connect = async (node: GatewayProcess, user: string): Promise<NativeClient> => {
    const c = await connectUser(node, user);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    const env = chatEnv(inject('redisUrl'), inject('mongoUrl'), dbName);
    nodes = await Promise.all([startGateway(env), startGateway(env)]);
    ({ db, close: closeDb } = await openDb(inject('mongoUrl'), dbName));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await db.dropDatabase();
    await closeDb();
  });

  it('stores 1,000 messages sent through two nodes exactly once, retried sends included', async () => {
    const PAIRS = 10;
    const PER_SENDER = 100;
    const senders = Array.from({ length: PAIRS }, (_, i) => uid(`s${i}`));
    const recipients = Array.from({ length: PAIRS }, (_, i) => uid(`r${i}`));
    const conns = await Promise.all(senders.map((s, i) => connect(nodes[i % 2]!, s)));
    const convs = await Promise.all(conns.map((c, i) => call<Conversation>(c, 'conversation:create', { type: 'private', userId: recipients[i] })));

    const acks = await Promise.all(
      conns.map((c, i) =>
        pipelined(PER_SENDER, 10, (k) => call<Ack>(c, 'message:send', { conversationId: convs[i]!.id, clientId: `k${k}`, type: 'text', text: `m${k}` })),
      ),
    );
    // Retries as a client would make them after reconnecting to the other node: same client ids.
    const retryConns = await Promise.all(senders.map((s, i) => connect(nodes[(i + 1) % 2]!, s)));
    const retried = await Promise.all(
      retryConns.map((c, i) =>
        pipelined(PER_SENDER / 5, 10, (j) =>
          call<Ack>(c, 'message:send', { conversationId: convs[i]!.id, clientId: `k${j * 5}`, type: 'text', text: `m${j * 5}` }),
        ),
      ),
    );
    retried.forEach((list, i) => list.forEach((ack, j) => expect(ack).toEqual(acks[i]![j * 5])));

    await Promise.all(nodes.map((n) => queueDrained(n)));
    const stored = await db
      .collection<{ _id: string; senderId: string; clientId: string }>('messages')
      .find({ conversationId: { $in: convs.map((c) => c.id) } }, { projection: { senderId: 1, clientId: 1 } })
      .toArray();
    expect(stored).toHaveLength(PAIRS * PER_SENDER);
    expect(new Set(stored.map((m) => `${m.senderId}/${m.clientId}`)).size).toBe(PAIRS * PER_SENDER);
    expect(new Set(stored.map((m) => m._id))).toEqual(new Set(acks.flat().map((a) => a.id)));
    const conversations = await db
      .collection<{ _id: string; messagesCount: number }>('conversations')
      .find({ _id: { $in: convs.map((c) => c.id) } })
      .toArray();
    expect(conversations.map((c) => c.messagesCount)).toEqual(Array(PAIRS).fill(PER_SENDER));
    // One notification per message for recipients who were not looking, also exactly once.
    expect(await db.collection('notifications').countDocuments({ userId: { $in: recipients } })).toBe(PAIRS * PER_SENDER);
  }, 120_000);

  it('keeps unread counts and read receipts right across two devices of one user on two nodes', async () => {
    const [alice, bob, mallory] = [uid('alice'), uid('bob'), uid('mallory')];
    const a = await connect(nodes[0]!, alice);
    const bobOnA = await connect(nodes[0]!, bob);
    const bobOnB = await connect(nodes[1]!, bob);
    const malloryOnB = await connect(nodes[1]!, mallory);
    const conv = await call<Conversation>(a, 'conversation:create', { type: 'private', userId: bob });

    for (let k = 1; k <= 3; k++) await call<Ack>(a, 'message:send', { conversationId: conv.id, clientId: `u${k}`, type: 'text', text: `hi ${k}` });
    const unreadIs = (n: number) => (f: { event?: string; data?: unknown }) =>
      f.event === 'conversation:update' && (f.data as Conversation).id === conv.id && (f.data as Conversation).unreadCount === n;
    // Both devices see every message and the count reach 3, wherever they are connected.
    await Promise.all([bobOnA.waitFor(unreadIs(3)), bobOnB.waitFor(unreadIs(3))]);
    for (const device of [bobOnA, bobOnB]) {
      expect(device.frames.filter((f) => f.event === 'message:new').map((f) => (f.data as { text: string }).text)).toEqual(['hi 1', 'hi 2', 'hi 3']);
    }

    // Reading on one device clears the count on the other and sends the receipt to the sender.
    const read = await call<Conversation>(bobOnB, 'conversation:read', { conversationId: conv.id });
    expect(read.unreadCount).toBe(0);
    await bobOnA.waitFor(unreadIs(0));
    const receipt = await a.waitForEvent('message:read');
    expect(receipt.data).toMatchObject({ conversationId: conv.id, userId: bob });
    expect((await call<Conversation>(bobOnA, 'conversation:get', { conversationId: conv.id })).unreadCount).toBe(0);

    await call<Ack>(a, 'message:send', { conversationId: conv.id, clientId: 'u4', type: 'text', text: 'hi 4' });
    await Promise.all([bobOnA.waitFor(unreadIs(1)), bobOnB.waitFor(unreadIs(1))]);

    // A non-participant on the other node can neither read nor post, and hears nothing.
    expect(await refused(malloryOnB, 'message:history', { conversationId: conv.id })).toBe('forbidden');
    expect(await refused(malloryOnB, 'message:send', { conversationId: conv.id, type: 'text', text: 'let me in' })).toBe('forbidden');
    expect(await refused(malloryOnB, 'conversation:read', conv.id)).toBe('forbidden');
    expect(malloryOnB.frames.filter((f) => f.event !== undefined && f.event !== 'session:ready')).toEqual([]);

    await Promise.all(nodes.map((n) => queueDrained(n)));
    const stored = await db
      .collection<{ _id: string; participantStatus: Array<{ userId: string; unreadCount: number }> }>('conversations')
      .findOne({ _id: conv.id });
    expect(stored?.participantStatus.find((s) => s.userId === bob)?.unreadCount).toBe(1);
    expect(await db.collection('messages').countDocuments({ conversationId: conv.id })).toBe(4);
  }, 60_000);
});
