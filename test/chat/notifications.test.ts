import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, chatEnv, connectUser, eventFrames, openDb, queueDrained, refused, uid } from '../support/chat.js';
import type { NativeClient } from '../support/clients.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';

interface Notification {
  id: string;
  type: string;
  body: string;
  isRead: boolean;
}

describe('notifications', () => {
  const dbName = uid('notif');
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

  it('delivers to every device, counts unread, marks one and all read, deletes, and stores it all', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connect(nodes[0]!, alice);
    const bobA = await connect(nodes[0]!, bob);
    const bobB = await connect(nodes[1]!, bob);
    const conv = await call<{ id: string }>(a, 'conversation:create', { type: 'private', userId: bob });
    for (const text of ['one', 'two', 'three']) await call(a, 'message:send', { conversationId: conv.id, type: 'text', text });
    const third = (f: { event?: string; data?: unknown }): boolean => f.event === 'notification:new' && (f.data as { unreadCount: number }).unreadCount === 3;
    await Promise.all([bobA.waitFor(third), bobB.waitFor(third)]);
    expect(eventFrames(bobB, 'notification:new').map((f) => (f.data as { notification: Notification }).notification.body)).toEqual(['one', 'two', 'three']);
    expect(await call(bobB, 'notification:unread_count')).toEqual({ unreadCount: 3 });

    const [n1, n2, n3] = eventFrames(bobA, 'notification:new').map((f) => (f.data as { notification: Notification }).notification);
    expect(await call(bobA, 'notification:read', { id: n1!.id })).toEqual({ id: n1!.id, updated: true, unreadCount: 2 });
    expect(await call(bobA, 'notification:read', { id: n1!.id })).toEqual({ id: n1!.id, updated: false, unreadCount: 2 });
    await bobB.waitFor((f) => f.event === 'notification:update' && (f.data as { unreadCount: number }).unreadCount === 2);
    // Someone else's notification is not theirs to read or delete.
    expect(await call(a, 'notification:read', { id: n2!.id })).toMatchObject({ updated: false });
    expect(await refused(a, 'notification:delete', { id: n2!.id })).toBe('not_found');
    expect(await call(bobB, 'notification:unread_count')).toEqual({ unreadCount: 2 });

    await call(bobB, 'notification:delete', { id: n2!.id });
    expect(await call(bobB, 'notification:read_all')).toEqual({ updated: 1, unreadCount: 0 });
    await bobA.waitFor((f) => f.event === 'notification:update' && (f.data as { action: string }).action === 'read_all');

    await Promise.all(nodes.map((n) => queueDrained(n)));
    const list = await call<{ notifications: Notification[]; unreadCount: number }>(bobA, 'notification:list', { limit: 10 });
    expect(list.unreadCount).toBe(0);
    expect(list.notifications.map((n) => [n.id, n.isRead])).toEqual([
      [n3!.id, true],
      [n1!.id, true],
    ]);
    const stored = (await db.collection('notifications').find({ userId: bob }).sort({ createdAt: 1 }).toArray()) as Array<Record<string, unknown>>;
    expect(stored.map((d) => [d._id, d['isRead'], d['deletedAt'] instanceof Date, d['version']])).toEqual([
      [n1!.id, true, false, 2],
      [n2!.id, false, true, 3],
      [n3!.id, true, false, 2],
    ]);
    const expiresAt = stored[0]!['expiresAt'] as Date;
    const createdAt = stored[0]!['createdAt'] as Date;
    expect(Math.round((expiresAt.getTime() - createdAt.getTime()) / 86_400_000)).toBe(90);
  });
});
