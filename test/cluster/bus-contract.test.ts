/**
 * One contract for every Bus engine, run through a factory: memory and Redis (real server,
 * rooms unique per run). Redis-only properties (several nodes, shards) are in redis-bus.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { MemoryBus } from '../../src/rooms/bus-memory.js';
import { RedisBus } from '../../src/rooms/bus-redis.js';
import type { Bus, RoomMessage } from '../../src/rooms/bus.js';
import { RoomMetrics } from '../../src/rooms/metrics.js';

type Factory = (historySize: number) => Bus;
const log = pino({ level: 'silent' });

const engines: Record<string, Factory> = {
  memory: (historySize) => new MemoryBus('node-a', historySize, new RoomMetrics(new Registry())),
  redis: (historySize) =>
    new RedisBus({ urls: [inject('redisUrl')], nodeId: 'node-a', log, metrics: new RoomMetrics(new Registry()), historySize, historyTtlSec: 60 }),
};

/** Collects delivered messages; `next(n)` resolves once n have arrived. */
function collector(bus: Bus): { got: RoomMessage[]; until(n: number): Promise<RoomMessage[]> } {
  const got: RoomMessage[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  bus.onMessage((m) => {
    got.push(m);
    for (const w of [...waiters]) if (got.length >= w.n) w.resolve();
  });
  return {
    got,
    until: (n) => (got.length >= n ? Promise.resolve(got) : new Promise<void>((resolve) => waiters.push({ n, resolve })).then(() => got)),
  };
}

for (const [name, make] of Object.entries(engines)) {
  describe(`bus contract: ${name}`, () => {
    const open: Bus[] = [];
    const bus = (historySize = 5): Bus => {
      const b = make(historySize);
      open.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });

    it('numbers messages consecutively per room (from the clock) and delivers them once, in order', async () => {
      const before = Date.now();
      const b = bus();
      const sink = collector(b);
      const room = `c:${randomUUID()}`;
      await b.subscribe(room);
      const sent = await Promise.all([1, 2, 3].map((i) => b.publish(room, 'test:event', { i, nested: { list: [1, 'x'] } })));
      const first = Math.min(...sent.map((m) => m.seq));
      expect(first).toBeGreaterThanOrEqual(before);
      expect(sent.map((m) => m.seq).sort()).toEqual([first, first + 1, first + 2]);
      const got = await sink.until(3);
      expect(got.map((m) => m.seq)).toEqual([first, first + 1, first + 2]);
      expect(got[0]).toMatchObject({ room, event: 'test:event', origin: 'node-a' });
      expect(got.find((m) => m.seq === sent[1]!.seq)?.data).toEqual(sent[1]!.data);
      const other = `c:${randomUUID()}`;
      expect((await b.publish(other, 'x', null)).seq).toBeGreaterThanOrEqual(before);
    });

    it('does not deliver rooms it is not subscribed to', async () => {
      const b = bus();
      const sink = collector(b);
      const quiet = `c:${randomUUID()}`;
      const loud = `c:${randomUUID()}`;
      await b.subscribe(loud);
      await b.publish(quiet, 'x', 1);
      await b.subscribe(quiet);
      await b.unsubscribe(quiet);
      await b.publish(quiet, 'x', 2);
      await b.publish(loud, 'x', 3);
      const got = await sink.until(1);
      expect(got.map((m) => m.room)).toEqual([loud]);
    });

    it('returns missed messages from history, nothing when up to date, a gap beyond the window', async () => {
      const b = bus(5);
      const room = `c:${randomUUID()}`;
      const base = (await b.publish(room, 'n', 1)).seq - 1;
      for (let i = 2; i <= 8; i++) expect((await b.publish(room, 'n', i)).seq).toBe(base + i);
      expect(await b.history(room, base + 8)).toEqual({ kind: 'messages', messages: [] });
      const recent = await b.history(room, base + 5);
      expect(recent.kind === 'messages' && recent.messages.map((m) => [m.seq - base, m.data])).toEqual([
        [6, 6],
        [7, 7],
        [8, 8],
      ]);
      const window = await b.history(room, base + 3);
      expect(window.kind === 'messages' && window.messages.map((m) => m.seq - base)).toEqual([4, 5, 6, 7, 8]);
      expect(await b.history(room, base + 2)).toEqual({ kind: 'gap', oldestSeq: base + 4, latestSeq: base + 8 });
      expect(await b.history(room, base + 50)).toEqual({ kind: 'gap', oldestSeq: base + 4, latestSeq: base + 8 });
      expect(await b.history(room, 0)).toEqual({ kind: 'gap', oldestSeq: base + 4, latestSeq: base + 8 });
      expect(await b.history(`c:${randomUUID()}`, 0)).toEqual({ kind: 'messages', messages: [] });
    });
  });
}
