/**
 * The compact per-connection structures behave like the Set/Map they replace: RoomSet (a
 * connection's rooms), MultiMap (connections per user), and the memory bus's per-room log with
 * its idle expiry.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MultiMap } from '../../src/gateway/multi-map.js';
import { MemoryBus } from '../../src/rooms/bus-memory.js';
import { RoomSet } from '../../src/rooms/room-set.js';

describe('RoomSet', () => {
  it('matches a Set through adds and deletes past its two inline slots', () => {
    const rooms = new RoomSet();
    const reference = new Set<string>();
    const ops: Array<['add' | 'delete', string]> = [
      ['add', 'user:a'],
      ['add', 'broadcast'],
      ['add', 'user:a'],
      ['add', 'live:1'],
      ['add', 'live:2'],
      ['delete', 'user:a'],
      ['add', 'live:3'],
      ['delete', 'live:1'],
      ['delete', 'nope'],
      ['delete', 'broadcast'],
      ['delete', 'live:2'],
      ['add', 'user:a'],
    ];
    for (const [op, room] of ops) {
      if (op === 'add') {
        rooms.add(room);
        reference.add(room);
      } else expect(rooms.delete(room)).toBe(reference.delete(room));
      expect(rooms.size).toBe(reference.size);
      expect([...rooms].sort()).toEqual([...reference].sort());
      for (const r of ['user:a', 'broadcast', 'live:1', 'live:2', 'live:3']) expect(rooms.has(r)).toBe(reference.has(r));
    }
    rooms.clear();
    expect(rooms.size).toBe(0);
    expect([...rooms]).toEqual([]);
  });

  it('iterates a snapshot, so rooms may be left while walking them', () => {
    const rooms = new RoomSet();
    for (const r of ['a', 'b', 'c', 'd']) rooms.add(r);
    const seen: string[] = [];
    for (const r of rooms) {
      seen.push(r);
      rooms.delete(r);
    }
    expect(seen.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(rooms.size).toBe(0);
  });
});

describe('MultiMap', () => {
  it('holds one value directly, several in a set, and forgets empty keys', () => {
    const map = new MultiMap<string, object>();
    const [x, y, z] = [{}, {}, {}];
    expect(map.add('u', x)).toBe(true);
    expect(map.add('u', x)).toBe(false);
    expect(map.get('u')).toEqual([x]);
    expect(map.add('u', y)).toBe(true);
    expect(map.add('u', z)).toBe(true);
    expect(map.count('u')).toBe(3);
    expect(map.delete('u', x)).toBe(true);
    expect(map.delete('u', x)).toBe(false);
    expect(map.delete('u', y)).toBe(true);
    expect(map.get('u')).toEqual([z]);
    expect(map.size).toBe(1);
    expect(map.delete('v', z)).toBe(false);
    expect(map.delete('u', z)).toBe(true);
    expect(map.has('u')).toBe(false);
    expect(map.size).toBe(0);
    expect(map.get('u')).toEqual([]);
  });
});

describe('MemoryBus room logs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the latest seq with the history, and drops a log idle for the history TTL (the counter restarts from the clock)', async () => {
    vi.useFakeTimers({ now: 1_000_000_000_000 });
    const bus = new MemoryBus('n', 3, undefined, 10);
    const first = await bus.publish('r:1', 'e', 1);
    for (let i = 2; i <= 5; i++) await bus.publish('r:1', 'e', i);
    expect(await bus.history('r:1', first.seq + 1)).toEqual({
      kind: 'messages',
      messages: [
        expect.objectContaining({ seq: first.seq + 2 }),
        expect.objectContaining({ seq: first.seq + 3 }),
        expect.objectContaining({ seq: first.seq + 4 }),
      ],
    });
    expect(await bus.history('r:1', first.seq)).toEqual({ kind: 'gap', oldestSeq: first.seq + 2, latestSeq: first.seq + 4 });
    await bus.publish('r:2', 'e', 0);
    vi.advanceTimersByTime(6_000);
    const busy = await bus.publish('r:2', 'e', 0); // r:2 stays busy
    vi.advanceTimersByTime(10_000); // the sweep (every 5 s) at 15 s drops r:1 (last publish at 0 s), keeps r:2 (6 s)
    expect(await bus.history('r:1', first.seq + 4)).toEqual({ kind: 'gap', oldestSeq: 1, latestSeq: 0 });
    expect(await bus.history('r:2', busy.seq - 1)).toEqual({ kind: 'messages', messages: [expect.objectContaining({ seq: busy.seq })] });
    const restarted = await bus.publish('r:1', 'e', 6);
    expect(restarted.seq).toBe(Date.now());
    await bus.close();
  });
});

describe('RedisBus message pairs', () => {
  it('are the five key/value pairs packed one by one, as the publish script expects', async () => {
    const { Packr } = await import('msgpackr');
    const { messagePairs } = await import('../../src/rooms/bus-redis.js');
    const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
    const oneByOne = (values: unknown[]): Buffer => Buffer.concat(values.map((v) => Buffer.from(packr.pack(v))));
    const cases: Array<[string, string, unknown, number, string]> = [
      ['live:1', 'chat:message', { text: 'hi', n: [1, 'x', null], nested: { ok: true } }, 1_763_789_123_456, 'node-a'],
      ['r', 'e', undefined, 1, 'n'],
      ['é😀'.repeat(20), 'x'.repeat(300), 's'.repeat(70_000), Date.now(), 'node'],
      ['r', 'e', { big: 2 ** 60, neg: -5, f: 0.1, list: new Array(40).fill('z') }, 2.5, 'o'],
    ];
    for (const [room, event, data, ts, origin] of cases) {
      expect(
        messagePairs(room, event, data, ts, origin).equals(oneByOne(['room', room, 'event', event, 'data', data ?? null, 'ts', ts, 'origin', origin])),
      ).toBe(true);
    }
  });
});
