import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { call, chatEnv, connectUser, metric, openDb, queueDrained, uid, waitUntil } from '../support/chat.js';
import type { NativeClient } from '../support/clients.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';
import { removeDir, startFerretDb, type Service } from '../support/services.js';

interface Ack {
  id: string;
}

/** MongoDB goes away for 30 s while messages keep flowing; nothing acknowledged is lost or doubled. */
describe('write pipeline during a MongoDB outage', () => {
  const dbName = uid('outage');
  let ferret: Service & { dir: string };
  let gw: GatewayProcess;
  const clients: NativeClient[] = [];

  beforeAll(async () => {
    ferret = await startFerretDb();
    gw = await startGateway(chatEnv(inject('redisUrl'), ferret.url, dbName, { WRITE_MAX_BACKOFF_MS: '1000' }));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gw.stop();
    await ferret.stop();
    removeDir(ferret.dir);
  });

  it('keeps live delivery going, shows the lag, and stores every acknowledged message exactly once', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const a = await connectUser(gw, alice);
    const b = await connectUser(gw, bob);
    clients.push(a, b);
    const conv = await call<{ id: string }>(a, 'conversation:create', { type: 'private', userId: bob });
    const acked: string[] = [];
    let n = 0;
    const send = async (): Promise<void> => {
      const ack = await call<Ack>(a, 'message:send', { conversationId: conv.id, clientId: `c${n}`, type: 'text', text: `m${n++}` });
      acked.push(ack.id);
      // Live delivery does not depend on the database.
      await b.waitFor((f) => f.event === 'message:new' && (f.data as Ack).id === ack.id, 5000);
    };
    for (let i = 0; i < 10; i++) await send();
    await queueDrained(gw);
    expect(await metric(gw, 'livegate_write_queue_lag_seconds')).toBe(0);

    // MongoDB down for 30 s; messages keep coming, each one acknowledged and delivered.
    const listen = new URL(ferret.url).host;
    await ferret.stop();
    const downSince = Date.now();
    while (Date.now() - downSince < 30_000) {
      await send();
      // Paced like a busy chat (about 20 messages a second), not as fast as the machine allows.
      await new Promise((r) => setTimeout(r, 50));
    }
    const sentDuringOutage = acked.length - 10;
    expect(sentDuringOutage).toBeGreaterThan(50);
    const lagWhileDown = (await metric(gw, 'livegate_write_queue_lag_seconds'))!;
    expect(lagWhileDown).toBeGreaterThan(25);
    expect(await metric(gw, 'livegate_write_queue_length')).toBeGreaterThan(0);
    expect((await metric(gw, 'livegate_write_retries_total'))!).toBeGreaterThan(0);
    await gw.waitForLog((l) => l.msg === 'mongodb write failed; batch kept and retried');

    const restartedAt = Date.now();
    // Same address, same data: the writer finds it again and catches up; the lag falls to zero.
    ferret = { ...(await startFerretDb({ listen, dir: ferret.dir })), dir: ferret.dir };
    await queueDrained(gw, 90_000);
    await waitUntil('lag back to zero', async () => (await metric(gw, 'livegate_write_queue_lag_seconds')) === 0 || undefined);
    console.info(
      `outage: ${sentDuringOutage} messages acknowledged while MongoDB was down; lag reached ${lagWhileDown.toFixed(1)} s; drained ${Date.now() - restartedAt} ms after restart`,
    );

    const { db, close } = await openDb(ferret.url, dbName);
    try {
      const stored = await db
        .collection<{ _id: string }>('messages')
        .find({ conversationId: conv.id }, { projection: { _id: 1 } })
        .toArray();
      expect(stored).toHaveLength(acked.length);
      expect(new Set(stored.map((m) => m._id))).toEqual(new Set(acked));
      const conversation = await db.collection<{ _id: string; messagesCount: number }>('conversations').findOne({ _id: conv.id });
      expect(conversation?.messagesCount).toBe(acked.length);
    } finally {
      await close();
    }
  }, 180_000);
});
