/**
 * /api/messaging/* and /api/notifications/* against a real gateway (Redis + FerretDB), with
 * sockets watching what the HTTP calls publish: the HTTP path runs the socket path's services.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WebhookReceiver } from '../bridge/webhook-receiver.js';
import { call, refused, waitUntil } from '../support/chat.js';
import { NativeClient, type ServerFrame } from '../support/clients.js';
import { startGateway, makeToken, type GatewayProcess } from '../support/gateway.js';
import { http } from '../support/http.js';
import { startRedis } from '../support/services.js';
import { FORGED, domainEnv, outcome, type Actor, type DomainEnv, type Page } from './helpers.js';

interface Ack {
  id: string;
  conversationId: string;
  clientId?: string;
  createdAt: string;
}
interface Message {
  id: string;
  conversationId: string;
  senderId: string;
  text?: string;
  isDeleted: boolean;
}
interface Conversation {
  id: string;
  type: string;
  participants: string[];
  unreadCount: number;
}
interface Notification {
  id: string;
  type: string;
  isRead: boolean;
  data?: { conversationId?: string; messageId?: string };
}

const dataOf = <T>(frame: ServerFrame): T => frame.data as T;
/** Fresh users per test (env.user ids are per file). */
let serial = 0;
const fresh = (name: string): Promise<Actor> => env.user(`${name}${++serial}`);

let env: DomainEnv;
const sockets: NativeClient[] = [];
const connect = async (actor: Actor): Promise<NativeClient> => {
  const client = await NativeClient.connect(env.gw.ws, { token: actor.token });
  sockets.push(client);
  return client;
};

beforeAll(async () => {
  env = await domainEnv('msghttp', { REDIS_URL: inject('redisUrl') });
});
afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  await env.stop();
});

describe('messaging over HTTP', () => {
  it("POST /api/messaging/send arrives as message:new on the recipient's socket, once per clientId (HTTP and socket alike)", async () => {
    const alice = await fresh('alice');
    const bob = await fresh('bob');
    const bobSocket = await connect(bob);
    const aliceSocket = await connect(alice);

    const sent = await env.call<Ack>('POST', '/api/messaging/send', {
      token: alice.token,
      body: { to: bob.id, type: 'text', text: 'hello over http', clientId: 'c1' },
    });
    expect(sent.status).toBe(201);
    const arrived = await bobSocket.waitFor((f) => f.event === 'message:new' && dataOf<Message>(f).id === sent.body.id);
    expect(dataOf<Message>(arrived)).toMatchObject({ conversationId: sent.body.conversationId, senderId: alice.id, text: 'hello over http' });
    const update = await bobSocket.waitFor((f) => f.event === 'conversation:update' && dataOf<Conversation>(f).id === sent.body.conversationId);
    expect(dataOf<Conversation>(update).unreadCount).toBe(1);

    // A retry (HTTP, then the same clientId over the socket) gets the same ack and publishes nothing.
    const retry = await env.call<Ack>('POST', '/api/messaging/send', {
      token: alice.token,
      body: { to: bob.id, type: 'text', text: 'hello over http', clientId: 'c1' },
    });
    expect(retry.body).toEqual(sent.body);
    expect(
      await call(aliceSocket, 'message:send', { conversationId: sent.body.conversationId, type: 'text', text: 'hello over http', clientId: 'c1' }),
    ).toEqual(sent.body);
    // Events of one room arrive in order: once the next message is here, a duplicate would be too.
    const next = await env.call<Ack>('POST', '/api/messaging/send', {
      token: alice.token,
      body: { conversationId: sent.body.conversationId, type: 'text', text: 'second', clientId: 'c2' },
    });
    await bobSocket.waitFor((f) => f.event === 'message:new' && dataOf<Message>(f).id === next.body.id);
    expect(bobSocket.frames.filter((f) => f.event === 'message:new' && dataOf<Message>(f).id === sent.body.id)).toHaveLength(1);
  });

  it('POST /api/messaging/send: 401 without a valid token, 422/400 for bad input, 403 outside the conversation, 404 for none', async () => {
    const alice = await fresh('alice');
    const bob = await fresh('bob');
    const mallory = await fresh('mallory');
    const group = await env.call<Conversation>('POST', '/api/messaging/conversations', {
      token: alice.token,
      body: { type: 'group', participants: [bob.id], groupName: 'pair' },
    });
    expect(group.status).toBe(201);
    const send = (token: string | undefined, body: unknown) => env.call('POST', '/api/messaging/send', { token, body });

    expect(outcome(await send(undefined, { to: bob.id, type: 'text', text: 'x' }))).toEqual([401, 'unauthorized']);
    expect(outcome(await send(FORGED, { to: bob.id, type: 'text', text: 'x' }))).toEqual([401, 'unauthorized']);
    for (const bad of [
      { to: bob.id, text: 'no type' },
      { to: bob.id, type: 'text', text: '   ' },
      { type: 'text', text: 'nowhere' },
      { to: alice.id, type: 'text', text: 'myself' },
      { to: bob.id, type: 'image' },
      { to: bob.id, type: 'text', text: 'x', extra: 1 },
    ]) {
      expect(outcome(await send(alice.token, bad)), JSON.stringify(bad)).toEqual([422, 'validation_failed']);
    }
    expect(outcome(await env.call('POST', '/api/messaging/send', { token: alice.token, raw: '{"to":' }))).toEqual([400, 'bad_request']);
    expect(outcome(await send(mallory.token, { conversationId: group.body.id, type: 'text', text: 'let me in' }))).toEqual([403, 'forbidden']);
    expect(outcome(await send(alice.token, { conversationId: `g_nothing-${env.tag}`, type: 'text', text: 'x' }))).toEqual([404, 'not_found']);
  });

  it('conversations: create, get, list (paginated); 401, 422, 403 for non-participants, 404', async () => {
    const alice = await fresh('alice');
    const bob = await fresh('bob');
    const mallory = await fresh('mallory');
    const dm = await env.call<Conversation>('POST', '/api/messaging/conversations', { token: alice.token, body: { type: 'private', userId: bob.id } });
    expect(dm.status).toBe(201);
    expect(dm.body.participants.sort()).toEqual([alice.id, bob.id].sort());
    const group = await env.call<Conversation>('POST', '/api/messaging/conversations', {
      token: alice.token,
      body: { type: 'group', participants: [bob.id], groupName: 'g' },
    });

    expect((await env.call<Conversation>('GET', `/api/messaging/conversations/${dm.body.id}`, { token: bob.token })).body.id).toBe(dm.body.id);
    expect(outcome(await env.call('GET', `/api/messaging/conversations/${dm.body.id}`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('GET', `/api/messaging/conversations/g_none-${env.tag}`, { token: alice.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('GET', `/api/messaging/conversations/${dm.body.id}`))).toEqual([401, 'unauthorized']);
    expect(
      outcome(await env.call('POST', '/api/messaging/conversations', { token: alice.token, body: { type: 'group', participants: [], groupName: 'g' } })),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('POST', '/api/messaging/conversations', { body: { type: 'private', userId: bob.id } }))).toEqual([401, 'unauthorized']);

    // Lists read MongoDB, which the write queue fills a moment later (the page and the count are two reads).
    const page = await waitUntil('both conversations listed', async () => {
      const reply = await env.call<Page<Conversation>>('GET', '/api/messaging/conversations?limit=1', { token: bob.token });
      return reply.body.total === 2 && reply.body.items.length === 1 ? reply : undefined;
    });
    expect(page.body).toMatchObject({ page: 1, limit: 1, total: 2, hasMore: true });
    const second = await env.call<Page<Conversation>>('GET', '/api/messaging/conversations?limit=1&page=2', { token: bob.token });
    expect(second.body.hasMore).toBe(false);
    expect([page.body.items[0]?.id, second.body.items[0]?.id].sort()).toEqual([dm.body.id, group.body.id].sort());
    expect((await env.call<Page<Conversation>>('GET', '/api/messaging/conversations', { token: mallory.token })).body).toMatchObject({ items: [], total: 0 });
    expect(outcome(await env.call('GET', '/api/messaging/conversations?limit=0', { token: bob.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', '/api/messaging/conversations'))).toEqual([401, 'unauthorized']);
  });

  it('messages, mark read and delete publish what the socket events publish; outsiders get 403', async () => {
    const alice = await fresh('alice');
    const bob = await fresh('bob');
    const mallory = await fresh('mallory');
    const aliceSocket = await connect(alice);
    const bobSocket = await connect(bob);
    const first = await env.call<Ack>('POST', '/api/messaging/send', { token: alice.token, body: { to: bob.id, type: 'text', text: 'one' } });
    const second = await env.call<Ack>('POST', '/api/messaging/send', { token: alice.token, body: { to: bob.id, type: 'text', text: 'two' } });
    const cid = first.body.conversationId;
    const messagesUrl = `/api/messaging/conversations/${cid}/messages`;

    const newest = await waitUntil('both messages stored', async () => {
      const reply = await env.call<Page<Message>>('GET', `${messagesUrl}?limit=1`, { token: bob.token });
      return reply.body.total === 2 && reply.body.items.length === 1 ? reply : undefined;
    });
    expect(newest.body.items.map((m) => m.id)).toEqual([second.body.id]);
    expect((await env.call<Page<Message>>('GET', `${messagesUrl}?limit=1&page=2`, { token: bob.token })).body).toMatchObject({
      items: [{ id: first.body.id }],
      hasMore: false,
    });
    expect(outcome(await env.call('GET', messagesUrl, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('GET', `/api/messaging/conversations/dm_none-${env.tag}/messages`, { token: bob.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('GET', `${messagesUrl}?page=0`, { token: bob.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', messagesUrl, { token: FORGED }))).toEqual([401, 'unauthorized']);

    // Mark read: bob's unread count drops, alice's devices get the receipt.
    const read = await env.call<Conversation>('PUT', `/api/messaging/conversations/${cid}/read?messageId=${second.body.id}`, { token: bob.token });
    expect(read.status).toBe(200);
    expect(read.body.unreadCount).toBe(0);
    const receipt = await aliceSocket.waitFor((f) => f.event === 'message:read' && (f.data as { conversationId: string }).conversationId === cid);
    expect(receipt.data).toMatchObject({ userId: bob.id, messageId: second.body.id });
    expect(outcome(await env.call('PUT', `/api/messaging/conversations/${cid}/read`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('PUT', `/api/messaging/conversations/dm_none-${env.tag}/read`, { token: bob.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('PUT', `/api/messaging/conversations/${cid}/read?messageId=`, { token: bob.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('PUT', `/api/messaging/conversations/${cid}/read`))).toEqual([401, 'unauthorized']);

    // Delete: only the sender; the other participant sees message:update.
    expect(outcome(await env.call('DELETE', `/api/messaging/messages/${first.body.id}?conversationId=${cid}`, { token: bob.token }))).toEqual([
      403,
      'forbidden',
    ]);
    expect(outcome(await env.call('DELETE', `/api/messaging/messages/${first.body.id}?conversationId=${cid}`, { token: mallory.token }))).toEqual([
      403,
      'forbidden',
    ]);
    expect(outcome(await env.call('DELETE', `/api/messaging/messages/m_none-${env.tag}`, { token: alice.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('DELETE', `/api/messaging/messages/${first.body.id}?conversationId=`, { token: alice.token }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('DELETE', `/api/messaging/messages/${first.body.id}`))).toEqual([401, 'unauthorized']);
    // Without conversationId the message is found in MongoDB (stored above).
    const deleted = await env.call<Message>('DELETE', `/api/messaging/messages/${first.body.id}`, { token: alice.token });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id: first.body.id, isDeleted: true });
    expect(deleted.body.text).toBeUndefined();
    const removed = await bobSocket.waitFor((f) => f.event === 'message:update' && (f.data as { message: Message }).message.id === first.body.id);
    expect(removed.data).toMatchObject({ action: 'delete', userId: alice.id });
  });
});

describe('notifications over HTTP', () => {
  it('list, unread count, mark read, read all and delete; each change reaches the sockets; 401, 422, 404 for ids that are not yours', async () => {
    const alice = await fresh('alice');
    const bob = await fresh('bob');
    const mallory = await fresh('mallory');
    const bobSocket = await connect(bob);
    // A message to bob (not looking at the conversation) notifies him.
    const acks: Ack[] = [];
    for (const text of ['n1', 'n2', 'n3'])
      acks.push((await env.call<Ack>('POST', '/api/messaging/send', { token: alice.token, body: { to: bob.id, type: 'text', text } })).body);
    const live = await bobSocket.waitFor(
      (f) => f.event === 'notification:new' && (f.data as { notification: Notification }).notification.data?.messageId === acks[2]!.id,
    );
    expect(live.data).toMatchObject({ unreadCount: 3, notification: { type: 'message', isRead: false } });

    expect((await env.call('GET', '/api/notifications/unread-count', { token: bob.token })).body).toEqual({ unreadCount: 3 });
    expect((await env.call('GET', '/api/notifications/unread-count', { token: mallory.token })).body).toEqual({ unreadCount: 0 });
    const list = await waitUntil('three notifications stored', async () => {
      const reply = await env.call<Page<Notification>>('GET', '/api/notifications?limit=2', { token: bob.token });
      return reply.body.total === 3 && reply.body.items.length === 2 ? reply : undefined;
    });
    expect(list.body).toMatchObject({ page: 1, limit: 2, hasMore: true });
    expect(list.body.items.map((n) => n.data?.messageId)).toEqual([acks[2]!.id, acks[1]!.id]);
    const [newest, middle] = list.body.items as [Notification, Notification];
    expect((await env.call<Page<Notification>>('GET', '/api/notifications', { token: mallory.token })).body.total).toBe(0);
    expect(outcome(await env.call('GET', '/api/notifications?limit=500', { token: bob.token }))).toEqual([422, 'validation_failed']);
    for (const path of ['/api/notifications', '/api/notifications/unread-count'])
      expect(outcome(await env.call('GET', path)), path).toEqual([401, 'unauthorized']);

    // Mark one read: the devices hear it; a second time is not an error; someone else's id is 404.
    expect(outcome(await env.call('PUT', `/api/notifications/${newest.id}/read`, { token: mallory.token }))).toEqual([404, 'not_found']);
    expect((await env.call('PUT', `/api/notifications/${newest.id}/read`, { token: bob.token })).body).toEqual({
      id: newest.id,
      updated: true,
      unreadCount: 2,
    });
    const readUpdate = await bobSocket.waitFor((f) => f.event === 'notification:update' && (f.data as { action: string }).action === 'read');
    expect(readUpdate.data).toEqual({ action: 'read', ids: [newest.id], unreadCount: 2 });
    expect((await env.call('PUT', `/api/notifications/${newest.id}/read`, { token: bob.token })).body).toEqual({
      id: newest.id,
      updated: false,
      unreadCount: 2,
    });
    expect(outcome(await env.call('PUT', `/api/notifications/n_none-${env.tag}/read`, { token: bob.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('PUT', '/api/notifications/bad%20id/read', { token: bob.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('PUT', `/api/notifications/${newest.id}/read`))).toEqual([401, 'unauthorized']);

    // Delete: someone else's is 404 and leaves it alone.
    expect(outcome(await env.call('DELETE', `/api/notifications/${middle.id}`, { token: mallory.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('DELETE', '/api/notifications/bad%20id', { token: bob.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('DELETE', `/api/notifications/${middle.id}`))).toEqual([401, 'unauthorized']);
    expect((await env.call('DELETE', `/api/notifications/${middle.id}`, { token: bob.token })).body).toEqual({ id: middle.id, unreadCount: 1 });
    await bobSocket.waitFor((f) => f.event === 'notification:update' && (f.data as { action: string }).action === 'delete');

    // Read all: the last unread one.
    expect(outcome(await env.call('PUT', '/api/notifications/read-all'))).toEqual([401, 'unauthorized']);
    expect((await env.call('PUT', '/api/notifications/read-all', { token: mallory.token })).body).toEqual({ updated: 0, unreadCount: 0 });
    expect((await env.call('PUT', '/api/notifications/read-all', { token: bob.token })).body).toEqual({ updated: 1, unreadCount: 0 });
    const all = await bobSocket.waitFor((f) => f.event === 'notification:update' && (f.data as { action: string }).action === 'read_all');
    expect((all.data as { ids: string[] }).ids).toHaveLength(1);
    expect((await env.call('GET', '/api/notifications/unread-count', { token: bob.token })).body).toEqual({ unreadCount: 0 });
    const after = await waitUntil('the deletion stored', async () => {
      const reply = await env.call<Page<Notification>>('GET', '/api/notifications', { token: bob.token });
      return reply.body.total === 2 && reply.body.items.length === 2 ? reply : undefined;
    });
    expect(after.body.items.every((n) => n.isRead)).toBe(true);
    // Once the deletion is stored, deleting again is 404 (until then a repeat is answered 200 again: idempotent).
    expect(outcome(await env.call('DELETE', `/api/notifications/${middle.id}`, { token: bob.token }))).toEqual([404, 'not_found']);
  });
});

describe('chat wiring', () => {
  it("users who share a conversation may subscribe to each other's presence; others may not", async () => {
    const alice = await fresh('alice');
    const carol = await fresh('carol');
    const erin = await fresh('erin');
    const carolSocket = await connect(carol);
    const erinSocket = await connect(erin);
    expect(await refused(carolSocket, 'presence:subscribe', { userIds: [alice.id] })).toBe('forbidden');

    // A private conversation opened over HTTP.
    await env.call('POST', '/api/messaging/conversations', { token: alice.token, body: { type: 'private', userId: carol.id } });
    expect(await call(carolSocket, 'presence:subscribe', { userIds: [alice.id] })).toMatchObject({ users: [{ userId: alice.id }] });
    expect(await refused(erinSocket, 'presence:subscribe', { userIds: [carol.id] })).toBe('forbidden');

    // A group, and a participant added later (socket events of the same module).
    const aliceSocket = await connect(alice);
    const group = await call<{ id: string }>(aliceSocket, 'conversation:create', { type: 'group', participants: [carol.id], groupName: 'later' });
    expect(await refused(erinSocket, 'presence:subscribe', { userIds: [carol.id] })).toBe('forbidden');
    await call(aliceSocket, 'conversation:participants:add', { conversationId: group.id, userIds: [erin.id] });
    expect(await call(erinSocket, 'presence:subscribe', { userIds: [carol.id, alice.id] })).toMatchObject({
      users: [{ userId: carol.id }, { userId: alice.id }],
    });
  });
});

describe('message.offline webhook', () => {
  const SECRET = 'msghttp-webhook-secret-0123456789';
  const receiver = new WebhookReceiver();
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let gw: GatewayProcess;
  const clients: NativeClient[] = [];

  beforeAll(async () => {
    await receiver.up();
    // Its own Redis: the webhook queue's keys are fixed, and no other suite may deliver these.
    redis = await startRedis();
    gw = await startGateway({
      REDIS_URL: redis.url,
      MONGO_URL: inject('mongoUrl'),
      MONGO_DB: `msghttp_wh_${process.pid}`,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_EVENTS: 'message.offline',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_RETRY_MAX_MS: '200',
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw?.stop();
    await redis?.stop();
    await receiver.close();
  });

  interface Hook {
    type: string;
    source: string;
    data: { messageId: string; conversationId: string; senderId: string; recipientId: string };
  }
  const hooksFor = (messageId: string): Hook[] => receiver.deliveries.map((d) => JSON.parse(d.body) as Hook).filter((h) => h.data.messageId === messageId);

  it('goes out for each recipient with no device connected, and not for one who is online', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    // bob sorts before carol, and both join the group at once: bob's webhook would be emitted first.
    const [alice, bob, carol] = await Promise.all(
      ['alice', 'bob', 'carol'].map(async (n) => ({ id: `${n}-${tag}`, token: await makeToken({ sub: `${n}-${tag}` }) })),
    );
    const aliceSocket = await NativeClient.connect(gw.ws, { token: alice!.token });
    clients.push(aliceSocket);
    const group = await http<Conversation>(gw, 'POST', '/api/messaging/conversations', {
      token: alice!.token,
      body: { type: 'group', participants: [bob!.id, carol!.id], groupName: 'hooks' },
    });
    expect(group.status).toBe(201);
    const send = (text: string) =>
      http<Ack>(gw, 'POST', '/api/messaging/send', { token: alice!.token, body: { conversationId: group.body.id, type: 'text', text } });

    // Both recipients offline: one webhook each (the sender is online and is never one).
    const first = (await send('while you were out')).body;
    await waitUntil('two message.offline webhooks', async () => hooksFor(first.id).length === 2 || undefined);
    expect(
      hooksFor(first.id)
        .map((h) => h.data.recipientId)
        .sort(),
    ).toEqual([bob!.id, carol!.id]);
    expect(hooksFor(first.id)[0]).toMatchObject({
      type: 'message.offline',
      source: `conversation:${group.body.id}`,
      data: { conversationId: group.body.id, senderId: alice!.id },
    });

    // bob comes online (alice sees it through presence, so the presence store has his device).
    await call(aliceSocket, 'presence:subscribe', { userIds: [bob!.id] });
    clients.push(await NativeClient.connect(gw.ws, { token: bob!.token }));
    await aliceSocket.waitFor(
      (f) =>
        f.event === 'presence:update' &&
        (f.data as { userId: string; status: string }).userId === bob!.id &&
        (f.data as { status: string }).status === 'online',
    );
    const second = (await send('now you are here')).body;
    // Same source, delivered in the order emitted: once carol's is here, bob's would be too.
    await waitUntil("carol's webhook", async () => hooksFor(second.id).some((h) => h.data.recipientId === carol!.id) || undefined);
    expect(hooksFor(second.id).map((h) => h.data.recipientId)).toEqual([carol!.id]);
  });
});
