/**
 * Must-show 1 of the client SDK: two gateway nodes over Redis with MongoDB. A client in two stream
 * rooms is on node A when A is killed with SIGKILL in the middle of a burst of room events and of its
 * own `message:send` and `gift:send`. It reconnects to node B; counted here: every room event arrives
 * once and in order, every send is stored once, and the wallet moved once per gift.
 */
import { Value } from '@sinclair/typebox/value';
// The server's string formats (date-time, uuid, ...), so Value checks them as the server does.
import '../../src/gateway/http/formats.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LivegateClient, type RoomMeta } from '../../clients/js/src/index.js';
import { SendAckSchema } from '../../src/handlers/chat/schemas.js';
import { GiftSendResult } from '../../src/handlers/gifts/schemas.js';
import { COLLECTIONS } from '../../src/store/collections.js';
import { connect, eventually, fund, gatewayEnv, ok, startMoneyEnv, startStream, uid, type MoneyEnv } from '../money/support.js';
import { makeToken, startGateway } from '../support/gateway.js';
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
    for (const s of streams) await fan.request('livestream:join', { livestreamId: s });
    expect(nodes).toEqual([a.nodeId]);

    // The burst, first part: both hosts (on B) chat into their rooms, the fan (on A) sends messages and
    // gifts one after the other; each stops at its first third / half.
    const THIRD = CHATS_PER_ROOM / 3;
    const say = (from: number, to: number) =>
      hosts.map(async (host, i) => {
        for (let n = from; n < to; n++) await ok(host, 'livestream:chat', { livestreamId: streams[i], text: `${i}:${n}` });
      });
    const sendMessage = (n: number) =>
      fan.request('message:send', { to: hostIds[0]!, type: 'text', text: `dm ${n}` }, { timeout: 30_000 }) as Promise<{ id?: string }>;
    const sendGift = () =>
      fan.request('gift:send', { giftId: 'rose', quantity: 1, livestreamId: streams[0]!, recipientId: hostIds[0]! }, { timeout: 30_000 }) as Promise<{
        giftTransactionId: string;
        balance: number;
      }>;
    const messageAcks: Array<{ id?: string }> = [];
    const giftAcks: Array<{ giftTransactionId: string; balance: number }> = [];
    await Promise.all([
      ...say(0, THIRD),
      (async () => {
        for (let n = 0; n < MESSAGES / 2; n++) messageAcks.push(await sendMessage(n));
      })(),
      (async () => {
        for (let n = 0; n < GIFTS / 2; n++) giftAcks.push(await sendGift());
      })(),
    ]);
    for (const s of streams) await until(fan, ['livestream:chat'], () => chats.get(`live:${s}`)!.length === THIRD);

    // Second part, all in one tick: the rest of the sends leave the fan at once, the hosts go on chatting,
    // and node A is killed -9 before any of these got an answer.
    const rest = [
      ...say(THIRD, CHATS_PER_ROOM),
      ...Array.from({ length: MESSAGES / 2 }, (_, k) => sendMessage(MESSAGES / 2 + k).then((ack) => void messageAcks.push(ack))),
      ...Array.from({ length: GIFTS / 2 }, () => sendGift().then((ack) => void giftAcks.push(ack))),
    ];
    a.process.kill('SIGKILL');
    const atKill = { messages: messageAcks.length, gifts: giftAcks.length, chats: chats.get(`live:${streams[0]}`)!.length };
    await a.kill();
    expect(atKill).toEqual({ messages: MESSAGES / 2, gifts: GIFTS / 2, chats: THIRD });

    await Promise.all(rest);
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

    // Every send acked once, stored once.
    expect(messageAcks).toHaveLength(MESSAGES);
    expect(giftAcks).toHaveLength(GIFTS);
    expect(new Set(giftAcks.map((g) => g.giftTransactionId)).size).toBe(GIFTS);
    for (const ack of giftAcks) expect(Value.Check(GiftSendResult, ack), JSON.stringify(ack)).toBe(true);
    for (const ack of messageAcks) expect(Value.Check(SendAckSchema, ack), JSON.stringify(ack)).toBe(true);
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

  it("rejoins a host's stream room (livestream:start) on another node: the chats of the outage once and in order, then live ones", async () => {
    const node = () => startGateway(gatewayEnv(env.redis.url, env.mongoUrl, env.dbName, { ROOM_HISTORY_SIZE: '1000' }));
    const [c, d] = await Promise.all([node(), node()]);
    const hostId = uid('host');
    const livestreamId = uid('s');
    const room = `live:${livestreamId}`;
    const host = new LivegateClient({ urls: [c.ws, d.ws], token: await makeToken({ sub: hostId }), backoff: { baseMs: 100, maxMs: 1000 } });
    const heard: Array<{ text: string; seq: number }> = [];
    host.on('livestream:chat', (data, meta) => meta && heard.push({ text: data.text, seq: meta.seq }));
    const gaps: unknown[] = [];
    host.on('gap', (g) => gaps.push(g));
    const nodes: string[] = [];
    host.on('connected', (s) => nodes.push(s.nodeId));
    await host.connect();
    const started = await host.request('livestream:start', { title: 'rejoin', livestreamId });
    expect(started.room).toBe(room);
    expect(host.rooms()).toContain(room);

    const viewer = await connect(d, uid('viewer'));
    await ok(viewer, 'livestream:join', { livestreamId });
    await ok(viewer, 'livestream:chat', { livestreamId, text: 'before' });
    await until(host, ['livestream:chat'], () => heard.length === 1);

    // The host's node dies; the viewer chats on while the host is away, then once it is back.
    await c.kill();
    for (let n = 0; n < 5; n++) await ok(viewer, 'livestream:chat', { livestreamId, text: `during ${n}` });
    await until(host, ['connected'], () => nodes.length === 2);
    await until(host, ['livestream:chat'], () => heard.length === 6, 20_000);
    await ok(viewer, 'livestream:chat', { livestreamId, text: 'after' });
    await until(host, ['livestream:chat'], () => heard.length === 7);

    expect(heard.map((h) => h.text)).toEqual(['before', ...Array.from({ length: 5 }, (_, n) => `during ${n}`), 'after']);
    expect(new Set(heard.map((h) => h.seq)).size).toBe(7);
    expect(heard.map((h) => h.seq)).toEqual([...heard.map((h) => h.seq)].sort((x, y) => x - y));
    expect(gaps).toEqual([]);
    expect(nodes).toEqual([c.nodeId, d.nodeId]);
    // Ending the stream forgets the room: nothing left to rejoin.
    await host.request('livestream:end', { livestreamId });
    expect(host.rooms()).not.toContain(room);
    host.close();
    await viewer.close();
    await d.stop();
  }, 60_000);
});
