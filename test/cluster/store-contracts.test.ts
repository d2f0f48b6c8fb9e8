/**
 * The StreamStore and PresenceStore contracts, run against both engines through a factory:
 * memory (single node) and Redis (real server; ids unique per run).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MemoryStreamStore } from '../../src/handlers/livestream/streams-memory.js';
import { RedisStreamStore } from '../../src/handlers/livestream/streams-redis.js';
import type { StreamStore } from '../../src/handlers/livestream/streams.js';
import { MemoryContactDirectory, RedisContactDirectory, type ContactDirectory } from '../../src/handlers/presence/contacts.js';
import { MemoryPresenceStore } from '../../src/rooms/presence-memory.js';
import { RedisPresenceStore } from '../../src/rooms/presence-redis.js';
import type { PresenceStore } from '../../src/rooms/presence.js';

const redisClients: Redis[] = [];
// The stream store's "live now" list is one global key: its tests use a database of their own
// (no other suite uses db 1), so gateways of other suites cannot change the totals they check.
const redis = (db = 0): Redis => {
  const client = new Redis(inject('redisUrl'), { db });
  redisClients.push(client);
  return client;
};
afterAll(() => redisClients.forEach((c) => c.disconnect()));

const engines: Record<string, { streams: () => StreamStore; presence: () => PresenceStore; contacts: () => ContactDirectory }> = {
  memory: { streams: () => new MemoryStreamStore(), presence: () => new MemoryPresenceStore(), contacts: () => new MemoryContactDirectory() },
  redis: { streams: () => new RedisStreamStore(redis(1)), presence: () => new RedisPresenceStore(redis()), contacts: () => new RedisContactDirectory(redis()) },
};
const uid = (p: string): string => `${p}-${randomUUID().slice(0, 8)}`;

for (const [name, make] of Object.entries(engines)) {
  describe(`StreamStore contract: ${name}`, () => {
    it('start is idempotent for the host, conflicts for others, and ended ids are not reused', async () => {
      const store = make.streams();
      const id = uid('s');
      const info = await store.start(id, 'host', 'Title', 1000);
      expect(info).toMatchObject({ streamId: id, hostId: 'host', title: 'Title', status: 'live', createdAt: 1000, startedAt: 1000, cohosts: [] });
      await expect(store.start(id, 'host', 'Title', 2000)).resolves.toMatchObject({ startedAt: 1000 });
      await expect(store.start(id, 'other', 'x', 2000)).rejects.toMatchObject({ code: 'conflict' });
      await expect(store.end(id, 'other', 3000)).rejects.toMatchObject({ code: 'forbidden' });
      await store.end(id, 'host', 3000);
      expect(await store.get(id)).toMatchObject({ status: 'ended', endedAt: 3000 });
      await expect(store.end(id, 'host', 4000)).rejects.toMatchObject({ code: 'not_found' });
      await expect(store.start(id, 'host', 'again', 5000)).rejects.toMatchObject({ code: 'conflict' });
      expect(await store.get(uid('none'))).toBeUndefined();
    });

    it('create makes a draft only its host can start; ending a draft conflicts; start keeps the draft title', async () => {
      const store = make.streams();
      const id = uid('s');
      expect(await store.create(id, 'host', 'Draft', 1000)).toMatchObject({
        streamId: id,
        hostId: 'host',
        title: 'Draft',
        status: 'created',
        createdAt: 1000,
        startedAt: undefined,
        endedAt: undefined,
      });
      await expect(store.create(id, 'host', 'Again', 1100)).rejects.toMatchObject({ code: 'conflict' });
      await expect(store.start(id, 'other', 'x', 1200)).rejects.toMatchObject({ code: 'conflict' });
      await expect(store.end(id, 'other', 1200)).rejects.toMatchObject({ code: 'forbidden' });
      await expect(store.end(id, 'host', 1200)).rejects.toMatchObject({ code: 'conflict' });
      expect(await store.setNodeViewers(id, 'n1', 1)).toBeUndefined(); // not live: no viewers
      await expect(store.cohost('invite', id, 'host', 'guest')).rejects.toMatchObject({ code: 'not_found' });
      expect(await store.start(id, 'host', 'New title', 2000)).toMatchObject({ status: 'live', title: 'Draft', createdAt: 1000, startedAt: 2000 });
      expect(await store.start(id, 'host', 'x', 3000)).toMatchObject({ status: 'live', startedAt: 2000 });
      expect(await store.setNodeViewers(id, 'n1', 2)).toBe(2);
      expect(await store.viewerCount(id)).toBe(2);
      await store.end(id, 'host', 4000);
      expect(await store.viewerCount(id)).toBe(0);
      expect(await store.viewerCount(uid('none'))).toBe(0);
    });

    it('lists the live streams newest first, with their total, and drops ended ones', async () => {
      const store = make.streams();
      const base = 9_000_000_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
      const [a, b, c, draft] = [uid('a'), uid('b'), uid('c'), uid('d')];
      await store.start(a, 'h1', 'A', base + 1);
      await store.start(b, 'h2', 'B', base + 3);
      await store.start(c, 'h3', 'C', base + 2);
      await store.create(draft, 'h4', 'D', base + 4);
      const before = (await store.listLive(0, 1000)).total;
      const first = await store.listLive(0, 2);
      expect(first.streams.map((s) => s.streamId)).toEqual([b, c]);
      expect(first.total).toBe(before);
      expect((await store.listLive(2, 1)).streams.map((s) => s.streamId)).toEqual([a]);
      await store.end(c, 'h3', base + 5);
      const after = await store.listLive(0, 2);
      expect(after.streams.map((s) => s.streamId)).toEqual([b, a]);
      expect(after.total).toBe(before - 1);
      for (const [id, host] of [
        [a, 'h1'],
        [b, 'h2'],
      ] as const)
        await store.end(id, host, base + 6);
    });

    it('sums per-node viewer counts exactly, drops a node, and refuses counts for streams not live', async () => {
      const store = make.streams();
      const id = uid('s');
      await store.start(id, 'host', 'T', 1);
      expect(await store.setNodeViewers(id, 'n1', 3)).toBe(3);
      expect(await store.setNodeViewers(id, 'n2', 4)).toBe(7);
      expect(await store.setNodeViewers(id, 'n1', 3)).toBe(7); // absolute: a retry changes nothing
      expect(await store.removeNode('n2')).toContain(id);
      expect(await store.setNodeViewers(id, 'n1', 2)).toBe(2);
      const first = await store.liveViewerCount(id);
      expect(first?.viewers).toBe(2);
      expect(await store.setNodeViewers(id, 'n1', 5)).toBe(5);
      const second = await store.liveViewerCount(id);
      expect(second?.viewers).toBe(5);
      expect(second!.version).toBeGreaterThan(first!.version); // read later, a later version
      await store.end(id, 'host', 2);
      expect(await store.setNodeViewers(id, 'n1', 1)).toBeUndefined();
      expect(await store.liveViewerCount(id)).toBeUndefined();
      expect(await store.viewerCount(id)).toBe(0);
      expect(await store.setNodeViewers(uid('none'), 'n1', 1)).toBeUndefined();
    });

    it('co-hosts: only the host invites and kicks; only invitees accept', async () => {
      const store = make.streams();
      const id = uid('s');
      await store.start(id, 'host', 'T', 1);
      await expect(store.cohost('invite', id, 'guest', 'x')).rejects.toMatchObject({ code: 'forbidden' });
      await expect(store.cohost('invite', id, 'host', 'host')).rejects.toMatchObject({ code: 'conflict' });
      await expect(store.cohost('accept', id, 'guest', 'guest')).rejects.toMatchObject({ code: 'not_found' });
      await store.cohost('invite', id, 'host', 'guest');
      await store.cohost('accept', id, 'guest', 'guest');
      expect((await store.get(id))?.cohosts).toEqual(['guest']);
      await expect(store.cohost('kick', id, 'guest', 'guest')).rejects.toMatchObject({ code: 'forbidden' });
      await store.cohost('kick', id, 'host', 'guest');
      await expect(store.cohost('kick', id, 'host', 'guest')).rejects.toMatchObject({ code: 'not_found' });
      await expect(store.cohost('invite', uid('none'), 'host', 'guest')).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  describe(`PresenceStore contract: ${name}`, () => {
    it('announces only changes of what others see, over devices on several nodes', async () => {
      const store = make.presence();
      const u = uid('u');
      expect(await store.setNodeDevices(u, 'n1', 1, 10)).toEqual({ userId: u, status: 'online', lastSeen: null });
      expect(await store.setNodeDevices(u, 'n2', 2, 11)).toBeUndefined();
      expect(await store.setNodeDevices(u, 'n1', 0, 12)).toBeUndefined();
      expect(await store.setStatus(u, 'away', 13)).toEqual({ userId: u, status: 'away', lastSeen: null });
      expect(await store.setStatus(u, 'invisible', 14)).toEqual({ userId: u, status: 'offline', lastSeen: 14 });
      expect(await store.removeNode('n2', 15)).toEqual([]); // invisible: going away changes nothing visible
      expect(await store.get([u])).toEqual([{ userId: u, chosen: 'invisible', devices: 0, lastSeen: 14 }]);
      expect(await store.setNodeDevices(u, 'n1', 1, 16)).toBeUndefined();
      expect(await store.setStatus(u, 'busy', 17)).toEqual({ userId: u, status: 'busy', lastSeen: 14 });
      expect(await store.removeNode('n1', 18)).toEqual([{ userId: u, status: 'offline', lastSeen: 18 }]);
      expect(await store.get([uid('never')])).toEqual([expect.objectContaining({ chosen: 'online', devices: 0, lastSeen: null })]);
    });
  });

  describe(`ContactDirectory contract: ${name}`, () => {
    it('lets you see yourself, whom you follow, and your conversation contacts', async () => {
      const dir = make.contacts();
      const [me, star, friend, other] = [uid('me'), uid('star'), uid('friend'), uid('other')];
      expect(await dir.canSee(me, [me, star, friend, other])).toEqual([true, false, false, false]);
      await dir.follow(me, star);
      await dir.addContacts([me, friend, friend]);
      expect(await dir.canSee(me, [me, star, friend, other])).toEqual([true, true, true, false]);
      expect(await dir.canSee(star, [me])).toEqual([false]); // following is one-way
      expect(await dir.canSee(friend, [me])).toEqual([true]); // contacts are mutual
      expect([await dir.follows(me, star), await dir.follows(star, me)]).toEqual([true, false]);
      await dir.unfollow(me, star);
      expect(await dir.canSee(me, [star])).toEqual([false]);
      expect(await dir.follows(me, star)).toBe(false);
    });
  });
}
