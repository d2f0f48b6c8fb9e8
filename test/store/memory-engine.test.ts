import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, connectUser, metric, openDb, queueDrained, uid } from '../support/chat.js';
import { startGateway } from '../support/gateway.js';

interface Ack {
  id: string;
}

/** Single node without Redis: memory queue and in-process chat state; SIGTERM flushes the queue. */
describe('write pipeline without Redis (memory engine)', () => {
  const dbName = uid('mem');
  let db: Db;
  let closeDb: () => Promise<void>;
  const env = (): Record<string, string> => ({
    MONGO_URL: inject('mongoUrl'),
    MONGO_DB: dbName,
    RATE_LIMIT_CONN_PER_SEC: '100000',
    RATE_LIMIT_CONN_BURST: '100000',
    RATE_LIMIT_USER_PER_SEC: '100000',
    RATE_LIMIT_USER_BURST: '100000',
  });

  beforeAll(async () => {
    ({ db, close: closeDb } = await openDb(inject('mongoUrl'), dbName));
  });
  afterAll(async () => {
    await db.dropDatabase();
    await closeDb();
  });

  it('chats and stores through the memory engine, and flushes what is queued on SIGTERM', async () => {
    const gw = await startGateway(env());
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connectUser(gw, alice);
    const b = await connectUser(gw, bob);
    const conv = await call<{ id: string }>(a, 'conversation:create', { type: 'private', userId: bob });
    const first = await call<Ack>(a, 'message:send', { conversationId: conv.id, clientId: 'x', type: 'text', text: 'hello' });
    await b.waitFor((f) => f.event === 'message:new');
    expect(await call<Ack>(a, 'message:send', { conversationId: conv.id, clientId: 'x', type: 'text', text: 'hello' })).toEqual(first);
    await queueDrained(gw);
    expect(await metric(gw, 'livegate_write_queue_length', { engine: 'memory' })).toBe(0);
    expect(await db.collection('messages').countDocuments({ conversationId: conv.id })).toBe(1);

    // A burst, then SIGTERM at once: the writer applies what is queued before the process exits.
    const acks = await Promise.all(
      Array.from({ length: 300 }, (_, k) => call<Ack>(a, 'message:send', { conversationId: conv.id, clientId: `s${k}`, type: 'text', text: `m${k}` })),
    );
    const code = await gw.stop();
    expect(code).toBe(0);
    const flushed = await gw.waitForLog((l) => l.msg === 'write queue flushed');
    expect(flushed['left']).toBe(0);
    const ids = (
      await db
        .collection<{ _id: string }>('messages')
        .find({ conversationId: conv.id }, { projection: { _id: 1 } })
        .toArray()
    ).map((m) => m._id);
    expect(ids).toHaveLength(301);
    expect(acks.every((ack) => ids.includes(ack.id))).toBe(true);
    await Promise.allSettled([a.close(), b.close()]);
  }, 60_000);
});
