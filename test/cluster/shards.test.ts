/**
 * Two gateway nodes over two Redis shards: rooms land on both shards, delivery works for native
 * and Socket.IO clients, and a restarted shard gets its subscriptions back without client action.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/rooms/sharding.js';
import { NativeClient, sioConnect, sioConnected } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { removeDir, startRedis, type Service } from '../support/services.js';

/** A stream id whose room lands on `shard` of 2. */
function streamOnShard(shard: number): string {
  for (;;) {
    const id = `s-${randomUUID()}`;
    if (shardOf(`live:${id}`, 2) === shard) return id;
  }
}

interface SioEvent {
  event: string;
  data: unknown;
  meta: { room: string; seq: number } | undefined;
}

describe('two gateway nodes over two redis shards', () => {
  let shards: Array<Service & { port: number; dir: string }>;
  let a: GatewayProcess;
  let b: GatewayProcess;
  const sockets: Socket[] = [];
  const natives: NativeClient[] = [];

  beforeAll(async () => {
    shards = [await startRedis(), await startRedis()];
    const env = { REDIS_URL: shards.map((s) => s.url).join(',') };
    [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
  });
  afterAll(async () => {
    sockets.forEach((s) => s.disconnect());
    natives.forEach((c) => c.socket.terminate());
    await Promise.all([a?.stop(), b?.stop()]);
    for (const s of shards ?? []) {
      await s.stop();
      removeDir(s.dir);
    }
  });

  it('delivers on both shards and survives a shard restart without client action', async () => {
    const streams = [streamOnShard(0), streamOnShard(1)];
    const host = await NativeClient.connect(a.ws, { token: await makeToken({ sub: 'shard-host' }) });
    natives.push(host);
    const viewer = sioConnect(b.http, { token: await makeToken({ sub: 'shard-viewer' }) });
    sockets.push(viewer);
    await sioConnected(viewer);
    const seen: SioEvent[] = [];
    const waiters: Array<() => void> = [];
    viewer.onAny((event: string, data: unknown, meta?: { room: string; seq: number }) => {
      seen.push({ event, data, meta });
      waiters.splice(0).forEach((wake) => wake());
    });
    const emit = (event: string, data: unknown): Promise<Record<string, unknown>> => viewer.timeout(5000).emitWithAck(event, data);
    /** Resolves with the chat event carrying `text`, as soon as it arrives. */
    const waitChat = async (text: string): Promise<SioEvent> => {
      for (;;) {
        const hit = seen.find((e) => e.event === 'livestream:chat' && (e.data as { text: string }).text === text);
        if (hit) return hit;
        await new Promise<void>((wake) => waiters.push(wake));
      }
    };

    for (const livestreamId of streams) {
      expect((await host.request('livestream:start', { title: 'sharded', livestreamId })).error).toBeUndefined();
      expect(await emit('livestream:join', { livestreamId })).toMatchObject({ livestreamId, viewers: 1 });
      await host.request('livestream:chat', { livestreamId, text: `hello ${livestreamId}` });
      const got = await waitChat(`hello ${livestreamId}`);
      expect(got.meta?.room).toBe(`live:${livestreamId}`);
    }

    // Each room's counter and channel are on its own shard.
    const admins = shards.map((s) => new Redis(s.url));
    for (const [shard, livestreamId] of streams.entries()) {
      expect(await admins[shard]!.exists(`lg:room:{live:${livestreamId}}:seq`)).toBe(1);
      expect(await admins[1 - shard]!.exists(`lg:room:{live:${livestreamId}}:seq`)).toBe(0);
      expect(await admins[shard]!.pubsub('NUMSUB', `lg:room:live:${livestreamId}`)).toEqual([`lg:room:live:${livestreamId}`, 2]);
    }
    admins.forEach((c) => c.disconnect());

    // Restart shard 1 on the same port. The clients do nothing; both nodes resubscribe by themselves.
    const old = shards[1]!;
    await old.kill();
    shards[1] = await startRedis({ port: old.port, dir: old.dir });
    await Promise.all([a, b].map((gw) => gw.waitForLog((l) => l.msg === 'bus shard reconnected; subscriptions restored' && l['shard'] === 1)));
    const admin = new Redis(shards[1].url);
    expect(await admin.pubsub('NUMSUB', `lg:room:live:${streams[1]}`)).toEqual([`lg:room:live:${streams[1]}`, 2]);
    admin.disconnect();
    const ack = await host.request('livestream:chat', { livestreamId: streams[1], text: 'after restart' });
    expect(ack.error).toBeUndefined();
    const after = await waitChat('after restart');
    expect(after.meta?.seq).toBe((ack.data as { seq: number }).seq);
    // The other shard was never affected.
    await host.request('livestream:chat', { livestreamId: streams[0], text: 'shard 0 still' });
    const lastSeen = (await waitChat('shard 0 still')).meta!.seq;

    // Socket.IO resume: the viewer drops, misses two chats, and resumes on the other node.
    viewer.disconnect();
    for (const text of ['missed a', 'missed b']) await host.request('livestream:chat', { livestreamId: streams[0], text });
    const again = sioConnect(a.http, { token: await makeToken({ sub: 'shard-viewer' }) });
    sockets.push(again);
    await sioConnected(again);
    const replayed: SioEvent[] = [];
    again.onAny((event: string, data: unknown, meta?: { room: string; seq: number }) => replayed.push({ event, data, meta }));
    const joined = (await again.timeout(5000).emitWithAck('livestream:join', { livestreamId: streams[0], lastSeq: lastSeen })) as { resume: { gap: boolean } };
    expect(joined.resume.gap).toBe(false);
    // Everything after lastSeen arrived before the ack, once, in order (viewer-count updates may be among them).
    const seqs = replayed.filter((e) => e.meta?.room === `live:${streams[0]}`).map((e) => e.meta!.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => lastSeen + 1 + i));
    expect(replayed.filter((e) => e.event === 'livestream:chat').map((e) => (e.data as { text: string }).text)).toEqual(['missed a', 'missed b']);
  });
});
