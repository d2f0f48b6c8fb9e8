/**
 * Must-show 1 of the client SDK: two gateway nodes over Redis with MongoDB. A client in two stream
 * rooms is on node A when A is killed with SIGKILL in the middle of a burst of room events and of its
 * own `message:send` and `gift:send`. It reconnects to node B; counted here: every room event arrives
 * once and in order, every send is stored once, and the wallet moved once per gift.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LivegateClient, type RoomMeta } from '../../clients/js/src/index.js';
import { COLLECTIONS } from '../../src/store/collections.js';
import { connect, eventually, fund, ok, startMoneyEnv, startStream, uid, type MoneyEnv } from '../money/support.js';
import { makeToken } from '../support/gateway.js';
import { until } from './support.js';

const CHATS_PER_ROOM = 150;
const MESSAGES = 30;
const GIFTS = 20;
const ROSE_PRICE = 1;
const FUNDS = 1000;

describe('@livegate/client across a node killed with -9', () => {
  let env: MoneyEnv;
  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2, { ROOM_HISTORY_SIZE: '1000' });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('delivers every room event once and in order, stores every send once, charges every gift once', async () => {
    const [a, b] = [env.gateways[0]!, env.gateways[1]!];
    const fanId = uid('fan');
    await fund(env.admin, fanId, FUNDS);
    const streams = [uid('s1'), uid('s2')];
    const hosts = await Promise.all(streams.map(() => connect(b, uid('host'))));
    for (const [i, host] of hosts.entries()) await startStream(host, streams[i]!);
    const hostIds = await Promise.all(hosts.map(async (h) => (await ok<{ userId: string }>(h, 'session:info', {})).userId));

    const fan = new LivegateClient({ urls: [a.ws, b.ws], token: await makeToken({ sub: fanId }), backoff: { baseMs: 100, maxMs: 1000 } });
    const chats = new Map<string, Array<{ text: string; seq: number }>>(streams.map((s) => [`live:${s}`, []]));
    const seqs = new Map<string, number[]>();
    const onRoomEvent = (data: unknown, meta: RoomMeta | undefined): void => {
      if (!meta) return;
      (seqs.get(meta.room) ?? seqs.set(meta.room, []).get(meta.room)!).push(meta.seq);
    };
    fan.on('livestream:chat', (data, meta) => {
      onRoomEvent(data, meta);
      if (meta) chats.get(meta.room)?.push({ text: (data as { text: string }).text, seq: meta.seq });
    });
    fan.on('livestream:viewers', onRoomEvent);
    fan.on('gift:sent', onRoomEvent);
    const gaps: unknown[] = [];
    fan.on('gap', (g) => gaps.push(g));
    const nodes: string[] = [];
    fan.on('connected', (s) => nodes.push(s.nodeId));
    const drops: number[] = [];
    fan.on('disconnected', (d) => drops.push(d.code));

    await fan.connect();
    for (const s of streams) await fan.request('livestream:join', { streamId: s });
    expect(nodes).toEqual([a.nodeId]);

    // The burst: both hosts (on B) chat into their rooms; the fan (on A) sends messages and gifts.
    const roomBursts = hosts.map(async (host, i) => {
      for (let n = 0; n < CHATS_PER_ROOM; n++) await ok(host, 'livestream:chat', { streamId: streams[i], text: `${i}:${n}` });
    });
    const messageAcks: Array<{ messageId?: string; id?: string }> = [];
    const messages = (async () => {
      for (let n = 0; n < MESSAGES; n++) {
        messageAcks.push((await fan.request('message:send', { to: hostIds[0]!, type: 'text', text: `dm ${n}` }, { timeout: 30_000 })) as { id?: string });
      }
    })();
    const giftAcks: Array<{ giftTransactionId: string; balance: number }> = [];
    const gifts = (async () => {
      for (let n = 0; n < GIFTS; n++) {
        giftAcks.push(
          (await fan.request('gift:send', { giftId: 'rose', quantity: 1, livestreamId: streams[0]!, recipientId: hostIds[0]! }, { timeout: 30_000 })) as {
            giftTransactionId: string;
            balance: number;
          },
        );
      }
    })();

    // Kill A once a third of the room events reached the fan: everything is still in flight.
    await until(fan, ['livestream:chat'], () => (chats.get(`live:${streams[0]}`)?.length ?? 0) >= CHATS_PER_ROOM / 3);
    const atKill = { messages: messageAcks.length, gifts: giftAcks.length, chats: chats.get(`live:${streams[0]}`)!.length };
    await a.kill();
    expect(atKill.messages).toBeLessThan(MESSAGES);
    expect(atKill.gifts).toBeLessThan(GIFTS);

    await Promise.all([...roomBursts, messages, gifts]);
    for (const [i, s] of streams.entries()) {
      const room = `live:${s}`;
      await until(fan, ['livestream:chat'], () => chats.get(room)!.length >= CHATS_PER_ROOM, 30_000);
      expect(chats.get(room)!.map((c) => c.text)).toEqual(Array.from({ length: CHATS_PER_ROOM }, (_, n) => `${i}:${n}`));
      const roomSeqs = seqs.get(room)!;
      expect(new Set(roomSeqs).size, `${room}: no seq twice`).toBe(roomSeqs.length);
      expect(
        [...roomSeqs].sort((x, y) => x - y),
        `${room}: in seq order`,
      ).toEqual(roomSeqs);
    }
    expect(gaps).toEqual([]);
    expect(nodes).toEqual([a.nodeId, b.nodeId]);
    expect(drops).toHaveLength(1);
    expect(atKill.chats).toBeLessThan(CHATS_PER_ROOM);

    // Every send acked once, stored once.
    expect(messageAcks).toHaveLength(MESSAGES);
    expect(giftAcks).toHaveLength(GIFTS);
    expect(new Set(giftAcks.map((g) => g.giftTransactionId)).size).toBe(GIFTS);
    await eventually(
      () => env.db.collection('messages').countDocuments({ senderId: fanId }),
      (n) => n === MESSAGES,
      30_000,
    );
    const texts = (await env.db.collection<{ text: string }>('messages').find({ senderId: fanId }).toArray()).map((m) => m.text).sort();
    expect(texts).toEqual(Array.from({ length: MESSAGES }, (_, n) => `dm ${n}`).sort());
    await eventually(
      () => env.db.collection(COLLECTIONS.giftTransactions).countDocuments({ senderId: fanId }),
      (n) => n === GIFTS,
      30_000,
    );

    // The wallet moved exactly once per gift.
    const wallet = await fan.request('wallet:balance', {});
    expect(wallet).toMatchObject({ balance: FUNDS - GIFTS * ROSE_PRICE });
    expect(giftAcks.at(-1)!.balance).toBe(FUNDS - GIFTS * ROSE_PRICE);
    fan.close();
    for (const host of hosts) await host.close();
  }, 120_000);
});
