/**
 * The hot-room state contracts, run against both engines: keyed room state (RoomStateStore), the
 * chat rules (RoomRules: settings, slow mode, budget with fair shares) and the join tally.
 * Memory (single node) and Redis (real server; rooms unique per run).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MemoryJoinTally } from '../../src/handlers/livestream/join-tally-memory.js';
import { RedisJoinTally } from '../../src/handlers/livestream/join-tally-redis.js';
import type { JoinTally } from '../../src/handlers/livestream/join-tally.js';
import { MemoryRoomRules } from '../../src/handlers/livestream/room-rules-memory.js';
import { RedisRoomRules } from '../../src/handlers/livestream/room-rules-redis.js';
import type { RoomRules } from '../../src/handlers/livestream/room-rules.js';
import { MemoryRoomStateStore } from '../../src/rooms/room-state-memory.js';
import { RedisRoomStateStore } from '../../src/rooms/room-state-redis.js';
import type { RoomStateStore } from '../../src/rooms/room-state.js';

const clients: Redis[] = [];
const redis = (): Redis => {
  const client = new Redis(inject('redisUrl'));
  clients.push(client);
  return client;
};
afterAll(() => clients.forEach((c) => c.disconnect()));

const engines: Record<string, { state: () => RoomStateStore; rules: () => RoomRules; tally: () => JoinTally }> = {
  memory: { state: () => new MemoryRoomStateStore(), rules: () => new MemoryRoomRules(), tally: () => new MemoryJoinTally() },
  redis: { state: () => new RedisRoomStateStore(redis()), rules: () => new RedisRoomRules(redis()), tally: () => new RedisJoinTally(redis()) },
};
const room = (): string => `live:contract-${randomUUID().slice(0, 8)}`;
/** A viewer-count frame read at `version` (its read time). */
const frame = (viewers: number, version = viewers) => ({ event: 'livestream:viewers', data: { viewers }, version });
const totals = (coins: number, version: number) => ({ event: 'livestream:gift_totals', data: { coins }, version });
/** One window for the whole test: the budget arithmetic is exact. */
const HOUR = { windowMs: 3_600_000 };

for (const [name, make] of Object.entries(engines)) {
  describe(`RoomStateStore contract: ${name}`, () => {
    it('grants one publish per key per interval, keeps the latest read for the snapshot, refuses older reads, and says when the value was already sent', async () => {
      const store = make.state();
      const r = room();
      expect(await store.offer(r, 'viewers', frame(1), 60_000)).toEqual({ kind: 'publish' });
      expect(await store.offer(r, 'viewers', frame(1), 60_000)).toEqual({ kind: 'same' });
      const later = await store.offer(r, 'viewers', frame(2), 60_000);
      expect(later.kind).toBe('later');
      expect(later.kind === 'later' && later.waitMs > 0 && later.waitMs <= 60_000).toBe(true);
      // Keys are independent; the snapshot holds each key's latest value, published or not.
      expect(await store.offer(r, 'gift_totals', totals(5, 1), 60_000)).toEqual({ kind: 'publish' });
      expect(await store.snapshot(r)).toEqual([
        { key: 'gift_totals', event: 'livestream:gift_totals', data: { coins: 5 } },
        { key: 'viewers', event: 'livestream:viewers', data: { viewers: 2 } },
      ]);
      // A value read before the recorded one (its offer arrived late) changes nothing.
      expect(await store.offer(r, 'viewers', frame(7, 1), 60_000)).toEqual({ kind: 'stale' });
      expect((await store.snapshot(r)).find((e) => e.key === 'viewers')?.data).toEqual({ viewers: 2 });
      // A publish that failed is forgotten: the same value is granted again (after the interval).
      await store.unpublished(r, 'gift_totals');
      const again = await store.offer(r, 'gift_totals', totals(5, 2), 60_000);
      expect(again.kind).toBe('later');
      await store.drop(r, 'gift_totals');
      expect((await store.snapshot(r)).map((e) => e.key)).toEqual(['viewers']);
      expect(await store.snapshot(room())).toEqual([]);
    });

    it('grants the next publish once the interval has passed', async () => {
      const store = make.state();
      const r = room();
      expect(await store.offer(r, 'k', frame(1), 30)).toEqual({ kind: 'publish' });
      const later = await store.offer(r, 'k', frame(2), 30);
      if (later.kind !== 'later') throw new Error(`expected later, got ${later.kind}`);
      await new Promise((resolve) => setTimeout(resolve, later.waitMs + 5)); // the lease the mechanism waits for
      expect(await store.offer(r, 'k', frame(2), 30)).toEqual({ kind: 'publish' });
    });
  });

  describe(`RoomRules contract: ${name}`, () => {
    it('keeps settings, with defaults', async () => {
      const rules = make.rules();
      const r = room();
      expect(await rules.settings(r)).toEqual({ slowModeMs: 0, notableJoins: 'followers' });
      expect(await rules.configure(r, { slowModeMs: 5000 })).toEqual({ slowModeMs: 5000, notableJoins: 'followers' });
      expect(await rules.configure(r, { notableJoins: 'top_supporters' })).toEqual({ slowModeMs: 5000, notableJoins: 'top_supporters' });
      expect(await rules.settings(r)).toEqual({ slowModeMs: 5000, notableJoins: 'top_supporters' });
    });

    it('slow mode refuses a second line within the cooldown, per user; exempt senders skip it', async () => {
      const rules = make.rules();
      const r = room();
      await rules.configure(r, { slowModeMs: 60_000 });
      const budget = { lines: 100, ...HOUR };
      expect(await rules.admitChat(r, 'u1', budget, false)).toEqual({ kind: 'broadcast' });
      const slow = await rules.admitChat(r, 'u1', budget, false);
      expect(slow.kind === 'slow' && slow.retryAfterMs > 0 && slow.retryAfterMs <= 60_000).toBe(true);
      expect(await rules.admitChat(r, 'u2', budget, false)).toEqual({ kind: 'broadcast' });
      expect(await rules.admitChat(r, 'mod', budget, true)).toEqual({ kind: 'broadcast' });
      expect(await rules.admitChat(r, 'mod', budget, true)).toEqual({ kind: 'broadcast' });
    });

    it('the budget: nobody takes more than half, more senders share equally, exempt lines always go out', async () => {
      const rules = make.rules();
      const r = room();
      const budget = { lines: 8, ...HOUR };
      const admit = async (user: string, n: number, exempt = false): Promise<string[]> => {
        const out: string[] = [];
        for (let i = 0; i < n; i++) out.push((await rules.admitChat(r, user, budget, exempt)).kind);
        return out;
      };
      expect(await admit('flood', 6)).toEqual(['broadcast', 'broadcast', 'broadcast', 'broadcast', 'sampled', 'sampled']);
      // Senders: flood, a, b, c -> a share of 2 each; the window has 4 lines left.
      expect(await admit('a', 1)).toEqual(['broadcast']);
      expect(await admit('b', 1)).toEqual(['broadcast']);
      expect(await admit('c', 3)).toEqual(['broadcast', 'broadcast', 'sampled']);
      expect(await admit('a', 1)).toEqual(['sampled']); // the window's 8 are spent
      expect(await admit('host', 2, true)).toEqual(['broadcast', 'broadcast']);
    });
  });

  describe(`JoinTally contract: ${name}`, () => {
    it('sums joins and leaves from several adders, caps the notable list, and is taken once per interval', async () => {
      const tally = make.tally();
      const r = room();
      expect(await tally.take(r, 60_000)).toEqual({ kind: 'empty' });
      await tally.add(r, { joined: 1, left: 0, notable: { userId: 'f1', reason: 'follower' } }, 2);
      await tally.add(r, { joined: 1, left: 0, notable: { userId: 'f2', reason: 'top_supporter' } }, 2);
      await tally.add(r, { joined: 1, left: 0, notable: { userId: 'f3', reason: 'follower' } }, 2);
      await tally.add(r, { joined: 0, left: 1 }, 2);
      expect(await tally.take(r, 60_000)).toEqual({
        kind: 'summary',
        summary: {
          joined: 3,
          left: 1,
          notable: [
            { userId: 'f1', reason: 'follower' },
            { userId: 'f2', reason: 'top_supporter' },
          ],
        },
      });
      expect(await tally.take(r, 60_000)).toEqual({ kind: 'empty' });
      await tally.add(r, { joined: 2, left: 0 }, 2);
      const later = await tally.take(r, 60_000);
      expect(later.kind === 'later' && later.waitMs > 0 && later.waitMs <= 60_000).toBe(true);
    });
  });
}
