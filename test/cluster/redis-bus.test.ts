/** The Redis engine as several nodes see it: exactly-once ordered delivery, shards, shard restart. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUS_BATCH_MAX, RedisBus } from '../../src/rooms/bus-redis.js';
import type { RoomMessage } from '../../src/rooms/bus.js';
import { RoomMetrics } from '../../src/rooms/metrics.js';
import { removeDir, startRedis, type Service } from '../support/services.js';
import { waitUntil } from './helpers.js';

const log = pino({ level: 'silent' });

function node(urls: string[], nodeId: string): { bus: RedisBus; got: RoomMessage[] } {
  const bus = new RedisBus({ urls, nodeId, log, metrics: new RoomMetrics(new Registry()), historySize: 200, historyTtlSec: 60 });
  const got: RoomMessage[] = [];
  bus.onMessage((m) => got.push(m));
  return { bus, got };
}

describe('redis bus across nodes', () => {
  it('two nodes publishing concurrently: each receives every message once, in seq order', async () => {
    const url = inject('redisUrl');
    const a = node([url], 'a');
    const b = node([url], 'b');
    const room = `r:${randomUUID()}`;
    await Promise.all([a.bus.subscribe(room), b.bus.subscribe(room)]);
    const sends: Array<Promise<RoomMessage>> = [];
    for (let i = 0; i < 100; i++) sends.push((i % 2 ? a : b).bus.publish(room, 'e', { i }));
    await Promise.all(sends);
    await waitUntil(() => a.got.length >= 100 && b.got.length >= 100);
    const first = a.got[0]!.seq;
    const expected = Array.from({ length: 100 }, (_, i) => first + i);
    expect(a.got.map((m) => m.seq)).toEqual(expected);
    expect(b.got.map((m) => m.seq)).toEqual(expected);
    expect(new Set(a.got.map((m) => m.origin))).toEqual(new Set(['a', 'b']));
    await Promise.all([a.bus.close(), b.bus.close()]);
    expect(a.got.length).toBe(100);
  });
});

describe('redis bus batches', () => {
  it('sends the publishes of one iteration as batches of at most BUS_BATCH_MAX, numbering each room in publish order', async () => {
    const registry = new Registry();
    const bus = new RedisBus({ urls: [inject('redisUrl')], nodeId: 'a', log, metrics: new RoomMetrics(registry), historySize: 500, historyTtlSec: 60 });
    const got: RoomMessage[] = [];
    bus.onMessage((m) => got.push(m));
    const rooms = Array.from({ length: 7 }, () => `r:${randomUUID()}`);
    await Promise.all(rooms.map((r) => bus.subscribe(r)));
    const total = 2 * BUS_BATCH_MAX + 30;
    const published = await Promise.all(Array.from({ length: total }, (_, i) => bus.publish(rooms[i % rooms.length]!, 'e', { i })));
    for (const room of rooms) {
      const seqs = published.filter((p) => p.room === room).map((p) => p.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => seqs[0]! + k));
    }
    expect(published.every((p, i) => (p.data as { i: number }).i === i && p.nodes === 1)).toBe(true);
    const exposition = await registry.metrics();
    expect(exposition).toContain('livegate_bus_publish_batch_size_count 3\n');
    expect(exposition).toContain(`livegate_bus_publish_batch_size_sum ${total}\n`);
    await waitUntil(() => got.length === total);
    expect(got.map((m) => `${m.room}/${m.seq}`)).toEqual(published.map((p) => `${p.room}/${p.seq}`));
    // History holds each room's messages in the same order.
    const history = await bus.history(rooms[0]!, published[0]!.seq - 1);
    expect(history.kind === 'messages' && history.messages.map((m) => m.seq)).toEqual(published.filter((p) => p.room === rooms[0]).map((p) => p.seq));
    await bus.close();
  });

  it('fails every publish of a batch with a typed error when the shard is unreachable', async () => {
    const dead = await startRedis();
    const bus = new RedisBus({ urls: [dead.url], nodeId: 'a', log, metrics: new RoomMetrics(new Registry()), historySize: 10, historyTtlSec: 60 });
    await bus.publish('r:warm', 'e', 1);
    await dead.kill();
    removeDir(dead.dir);
    const results = await Promise.allSettled([bus.publish('r:1', 'e', 1), bus.publish('r:2', 'e', 2), bus.publish('r:1', 'e', 3)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'unavailable' });
    await bus.close();
  });
});

describe('redis bus over two shards', () => {
  let shards: Array<Service & { port: number; dir: string }>;
  beforeAll(async () => {
    shards = [await startRedis(), await startRedis()];
  });
  afterAll(async () => {
    for (const s of shards) {
      await s.stop();
      removeDir(s.dir);
    }
  });

  it('spreads rooms over both shards, delivers, and restores subscriptions after a shard restart', async () => {
    const urls = shards.map((s) => s.url);
    const a = node(urls, 'a');
    const b = node(urls, 'b');
    const rooms = Array.from({ length: 20 }, () => `r:${randomUUID()}`);
    await Promise.all(rooms.map((r) => b.bus.subscribe(r)));
    for (const r of rooms) await a.bus.publish(r, 'e', r);
    await waitUntil(() => b.got.length === rooms.length);
    expect(b.got.map((m) => m.data).sort()).toEqual([...rooms].sort());

    // Each shard holds the counters of its rooms and the subscriptions of its channels.
    const admins = shards.map((s) => new Redis(s.url));
    const onShard = rooms.map((r) => a.bus.shardIndex(r));
    expect(new Set(onShard)).toEqual(new Set([0, 1]));
    for (const [i, r] of rooms.entries()) {
      expect(await admins[onShard[i]!]!.exists(`lg:room:{${r}}:seq`)).toBe(1);
      expect(await admins[1 - onShard[i]!]!.exists(`lg:room:{${r}}:seq`)).toBe(0);
    }
    const roomOn1 = rooms[onShard.indexOf(1)]!;
    const numsub = async (admin: Redis, room: string): Promise<number> => Number(((await admin.pubsub('NUMSUB', `lg:room:${room}`)) as [string, number])[1]);
    expect(await numsub(admins[1]!, roomOn1)).toBe(1);
    admins.forEach((c) => c.disconnect());

    // Restart shard 1 on the same port: node b gets its subscriptions back by itself.
    const old = shards[1]!;
    await old.kill();
    shards[1] = await startRedis({ port: old.port, dir: old.dir });
    const admin = new Redis(shards[1].url);
    await waitUntil(async () => (await numsub(admin, roomOn1)) === 1, 15_000);
    admin.disconnect();
    const before = b.got.length;
    const seqBefore = b.got.find((x) => x.room === roomOn1)!.seq;
    const m = await a.bus.publish(roomOn1, 'after-restart', 'hello');
    // The restarted shard kept no data (no persistence in tests): a new counter, yet seqs still grow.
    expect(m.seq).toBeGreaterThan(seqBefore);
    expect(await a.bus.history(roomOn1, seqBefore)).toEqual({ kind: 'gap', oldestSeq: m.seq, latestSeq: m.seq });
    await waitUntil(() => b.got.length === before + 1);
    expect(b.got.at(-1)).toMatchObject({ room: roomOn1, event: 'after-restart', data: 'hello' });
    await Promise.all([a.bus.close(), b.bus.close()]);
  });
});
