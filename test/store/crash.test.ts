import { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, chatEnv, connectUser, metric, openDb, queueDrained, uid, waitUntil } from '../support/chat.js';
import type { NativeClient } from '../support/clients.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';
import { freePort } from '../support/services.js';

interface Ack {
  id: string;
}

/** kill -9 in the middle of a burst: every acknowledged message still reaches MongoDB, once. */
describe('write pipeline when a gateway crashes', () => {
  const dbName = uid('crash');
  let env: Record<string, string>;
  let db: Db;
  let closeDb: () => Promise<void>;
  let redis: Redis;
  const nodes: GatewayProcess[] = [];
  /** Live nodes that write through the suite's shared stream (`env`'s WRITE_QUEUE_STREAM). */
  const sharedWriters: GatewayProcess[] = [];
  const clients: NativeClient[] = [];

  beforeAll(async () => {
    env = chatEnv(inject('redisUrl'), inject('mongoUrl'), dbName, { WRITE_CLAIM_IDLE_MS: '2000', WRITE_MAX_BACKOFF_MS: '500', WRITE_TIMEOUT_MS: '3000' });
    ({ db, close: closeDb } = await openDb(inject('mongoUrl'), dbName));
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    redis.disconnect();
    await db.dropDatabase();
    await closeDb();
  });

  /** Fires `count` sends at once; kills `victim` once `killAfter` acks are in. Returns the acknowledged ids. */
  async function burstAndKill(client: NativeClient, conversationId: string, count: number, killAfter: number, victim: GatewayProcess): Promise<string[]> {
    const acked: string[] = [];
    const failures = new Map<string, number>();
    const fail = (why: string): void => void failures.set(why, (failures.get(why) ?? 0) + 1);
    let killed: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: count }, (_, k) =>
        client.request('message:send', { conversationId, clientId: `b${k}`, type: 'text', text: `burst ${k}` }).then(
          (reply) => {
            if (reply.error) return fail(reply.error.code);
            acked.push((reply.data as Ack).id);
            if (acked.length === killAfter) killed = victim.kill();
          },
          () => fail('no ack'), // the socket died with the node
        ),
      ),
    );
    await killed;
    if (acked.length < killAfter) throw new Error(`only ${acked.length} acks before the kill; failures: ${JSON.stringify([...failures])}`);
    return acked;
  }

  async function expectStoredOnce(conversationId: string, acked: string[]): Promise<void> {
    const stored = await db
      .collection<{ _id: string }>('messages')
      .find({ conversationId }, { projection: { _id: 1 } })
      .toArray();
    const ids = stored.map((m) => m._id);
    expect(new Set(ids).size).toBe(ids.length);
    const missing = acked.filter((id) => !ids.includes(id));
    expect(missing).toEqual([]);
  }

  /** This consumer's unacknowledged entries in the group. */
  async function pendingOf(stream: string, consumer: string): Promise<number> {
    const rows = (await redis.xpending(stream, 'writers', '-', '+', 10_000, consumer)) as unknown[];
    return rows.length;
  }

  it('loses no acknowledged message when a node is killed mid-burst and restarted', async () => {
    const a = await startGateway(env);
    const b = await startGateway(env);
    nodes.push(b);
    sharedWriters.push(b);
    const alice = await connectUser(a, uid('alice'));
    const conv = await call<{ id: string }>(alice, 'conversation:create', { type: 'private', userId: uid('bob') });
    const acked = await burstAndKill(alice, conv.id, 400, 100, a);
    expect(acked.length).toBeGreaterThanOrEqual(100);
    const pending = await pendingOf(env['WRITE_QUEUE_STREAM']!, a.nodeId);
    const restarted = await startGateway({ ...env, NODE_ID: a.nodeId });
    nodes.push(restarted);
    sharedWriters.push(restarted);
    await Promise.all([queueDrained(restarted), queueDrained(b)]);
    await expectStoredOnce(conv.id, acked);
    console.info(`crash mid-burst: ${acked.length} acknowledged before kill -9; the killed writer held ${pending} entries`);
  }, 120_000);

  it('a node restarted under the same NODE_ID finishes the entries it held when it was killed', async () => {
    // Claiming by other nodes is off here (long idle): only the restarted node can finish them.
    const ownEnv = { ...env, WRITE_QUEUE_STREAM: `${env['WRITE_QUEUE_STREAM']}:own`, WRITE_CLAIM_IDLE_MS: '600000' };
    // A cannot reach MongoDB, so its writer holds the batch it took (and retries it) until killed.
    const a = await startGateway({ ...ownEnv, MONGO_URL: `mongodb://127.0.0.1:${await freePort()}/` });
    // The conversation is created where MongoDB is reachable (creation looks for an existing one).
    const aliceId = uid('alice');
    const helper = await startGateway(ownEnv);
    nodes.push(helper);
    const conv = await call<{ id: string }>(await connectUser(helper, aliceId), 'conversation:create', { type: 'private', userId: uid('bob') });
    const alice = await connectUser(a, aliceId);
    const acked: string[] = [];
    for (let k = 0; k < 100; k++)
      acked.push((await call<Ack>(alice, 'message:send', { conversationId: conv.id, clientId: `o${k}`, type: 'text', text: `own ${k}` })).id);
    await waitUntil('A holding a batch', async () => ((await metric(a, 'livegate_write_retries_total')) ?? 0) > 0 || undefined);
    await a.kill();
    const held = await pendingOf(ownEnv.WRITE_QUEUE_STREAM, a.nodeId);
    expect(held).toBeGreaterThan(0);
    const restarted = await startGateway({ ...ownEnv, NODE_ID: a.nodeId });
    nodes.push(restarted);
    await restarted.waitForLog((l) => l.msg === 'write queue: reclaimed pending entries');
    await Promise.all([queueDrained(restarted), queueDrained(helper)]);
    expect(await pendingOf(ownEnv.WRITE_QUEUE_STREAM, a.nodeId)).toBe(0);
    await expectStoredOnce(conv.id, acked);
    expect(await db.collection('messages').countDocuments({ conversationId: conv.id })).toBe(100);
  }, 120_000);

  it('another node claims the entries a crashed writer was holding', async () => {
    const b = sharedWriters[0]!;
    // C cannot reach MongoDB: its writer takes entries and keeps retrying them until it dies.
    const c = await startGateway({ ...env, MONGO_URL: `mongodb://127.0.0.1:${await freePort()}/` });
    nodes.push(c);
    const alice = await connectUser(b, uid('alice'));
    const conv = await call<{ id: string }>(alice, 'conversation:create', { type: 'private', userId: uid('bob') });
    const viaC = await connectUser(c, (await call<{ participants: string[] }>(alice, 'conversation:get', { conversationId: conv.id })).participants[0]!);
    const acked: string[] = [];
    for (let k = 0; k < 200; k++)
      acked.push((await call<Ack>(viaC, 'message:send', { conversationId: conv.id, clientId: `c${k}`, type: 'text', text: `via C ${k}` })).id);
    await waitUntil('C holding a batch', async () => ((await metric(c, 'livegate_write_retries_total')) ?? 0) > 0 || undefined);
    await c.kill();
    const stream = env['WRITE_QUEUE_STREAM']!;
    // Whichever live writer on the stream gets there first (the suite has two) takes C's entries over.
    await waitUntil("C's pending entries to be claimed", async () => (await pendingOf(stream, c.nodeId)) === 0 || undefined, 60_000);
    await Promise.all(sharedWriters.map((n) => queueDrained(n)));
    await expectStoredOnce(conv.id, acked);
    expect(await db.collection('messages').countDocuments({ conversationId: conv.id })).toBe(200);
  }, 120_000);
});
