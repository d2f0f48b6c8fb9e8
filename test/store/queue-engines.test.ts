import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RedisDocumentLocks } from '../../src/store/document-locks.js';
import { MemoryStreamQueue } from '../../src/store/stream-queue-memory.js';
import { RedisStreamQueue } from '../../src/store/stream-queue-redis.js';
import { writeOpsCodec, type StreamQueue, type StreamQueueOptions } from '../../src/store/stream-queue.js';
import type { WriteOp } from '../../src/store/write-queue.js';
import { uid } from '../support/chat.js';

const redisConns: Redis[] = [];
afterAll(() => redisConns.forEach((r) => r.disconnect()));

function redisEngine(stream: string, consumer: string, claimIdleMs = 60_000, bounds: Partial<StreamQueueOptions> = {}): RedisStreamQueue<WriteOp[]> {
  const url = inject('redisUrl');
  const [cmd, reader] = [new Redis(url), new Redis(url)];
  redisConns.push(cmd, reader);
  return new RedisStreamQueue(cmd, reader, writeOpsCodec, { stream, group: 'writers', consumer, claimIdleMs, ...bounds });
}

const n = (ops: WriteOp[]): unknown => (ops[0]?.kind === 'insert' ? ops[0].doc['n'] : undefined);

const op = (n: number): WriteOp => ({ kind: 'insert', collection: 'm', doc: { _id: `d${n}`, n, at: new Date(1_700_000_000_000 + n) } });

/**
 * The contract every engine of the one stream-queue primitive keeps, run against each. `make`
 * gives one consumer of a fresh queue; `second` another consumer of the same queue (the memory
 * engine has one consumer, itself).
 */
type Make = (opts?: Partial<StreamQueueOptions>) => { first: StreamQueue<WriteOp[]>; second: StreamQueue<WriteOp[]> };
const ENGINES: Array<[string, Make]> = [
  [
    'memory',
    (opts = {}) => {
      const q = new MemoryStreamQueue<WriteOp[]>(opts);
      return { first: q, second: q };
    },
  ],
  [
    'redis',
    (opts = {}) => {
      const stream = `lg-test:${uid('q')}`;
      return { first: redisEngine(stream, 'w1', opts.claimIdleMs, opts), second: redisEngine(stream, 'w2', opts.claimIdleMs, opts) };
    },
  ],
];

describe.each(ENGINES)('queue engine contract: %s', (_name, make) => {
  it('hands out entries in order, keeps them until acknowledged, and reports length and age', async () => {
    const q = make().first;
    await q.append([op(1), op(2)]);
    await q.append([op(3)]);
    const batch = await q.next(10, 100);
    expect(batch.entries.map((e) => e.value.map((o) => (o.kind === 'insert' ? o.doc['n'] : 0)))).toEqual([[1, 2], [3]]);
    expect(batch.entries[0]!.value[0]).toEqual(op(1));
    expect((await q.stats()).length).toBe(2);
    expect((await q.stats()).oldestAgeMs).toBeGreaterThanOrEqual(0);
    expect((await q.next(10, 0)).entries).toEqual([]);
    await q.ack([batch.entries[0]!.id]);
    expect((await q.stats()).length).toBe(1);
    await q.deadLetter([{ id: batch.entries[1]!.id, raw: 'x', reason: 'test' }]);
    expect(await q.stats()).toEqual({ length: 0, oldestAgeMs: 0 });
    await q.close();
  });

  it('wakes a waiting reader when an entry arrives', async () => {
    const q = make().first;
    await q.next(1, 0); // creates the group where there is one
    const waiting = q.next(10, 5000);
    await q.append([op(9)]);
    const batch = await waiting;
    expect(batch.entries).toHaveLength(1);
    await q.ack(batch.entries.map((e) => e.id));
    await q.close();
  });

  it('refuses an append beyond maxLength, and takes again once entries are acknowledged', async () => {
    const q = make({ maxLength: 2 }).first;
    expect(await q.append([op(1)])).toBe(true);
    expect(await q.append([op(2)])).toBe(true);
    expect(await q.append([op(3)])).toBe(false);
    const batch = await q.next(10, 0);
    expect(batch.entries.map((e) => n(e.value))).toEqual([1, 2]);
    await q.ack([batch.entries[0]!.id]);
    expect(await q.append([op(4)])).toBe(true);
    expect((await q.stats()).length).toBe(2);
    await q.close();
  });

  it('hands an entry left unacknowledged for claimIdleMs to reclaim, once per idle spell, and not while kept claimed', async () => {
    const { first, second } = make({ claimIdleMs: 400 });
    await first.append([op(1)]);
    await first.append([op(2)]);
    const read = await first.next(10, 0);
    expect(read.entries).toHaveLength(2);
    await second.next(1, 0); // the second consumer exists (and sees nothing new)
    expect((await second.reclaim(10)).entries).toEqual([]); // not idle long enough yet
    await new Promise((r) => setTimeout(r, 250));
    expect(await first.keepClaimed([read.entries[0]!.id])).toEqual([read.entries[0]!.id]); // still being worked on, and still held
    await new Promise((r) => setTimeout(r, 250)); // the claim timeout under test: entry 2 is idle now, entry 1 is not
    const claimed = await second.reclaim(10);
    expect(claimed.entries.map((e) => n(e.value))).toEqual([2]);
    expect((await second.reclaim(10)).entries).toEqual([]); // just claimed: not idle again yet
    await second.ack(claimed.entries.map((e) => e.id));
    await first.ack([read.entries[0]!.id]);
    expect((await first.stats()).length).toBe(0);
  });
});

describe('Redis Stream engine', () => {
  it('appends a guarded entry only while every guard member is in its set, removing them with it', async () => {
    const stream = `lg-test:${uid('guard')}`;
    const set = `${stream}:outbox`;
    const q = redisEngine(stream, 'w1');
    const probe = new Redis(inject('redisUrl'));
    redisConns.push(probe);
    await probe.zadd(set, 1, 'a', 2, 'b');
    expect(await q.appendGuarded([op(1)], { set, members: ['a', 'missing'] })).toBe(false);
    expect(await probe.zcard(set)).toBe(2); // nothing removed
    expect(await q.appendGuarded([op(2)], { set, members: ['a', 'b'] })).toBe(true);
    expect(await probe.zcard(set)).toBe(0);
    // Queued once: the same members no longer vouch for a second append.
    expect(await q.appendGuarded([op(2)], { set, members: ['a', 'b'] })).toBe(false);
    const batch = await q.next(10, 0);
    expect(batch.entries.map((e) => e.value)).toEqual([[op(2)]]);
    await q.close();
  });

  it('tells a writer which entries it still holds: none once Redis lost the stream', async () => {
    const stream = `lg-test:${uid('held')}`;
    const q = redisEngine(stream, 'w1');
    const probe = new Redis(inject('redisUrl'));
    redisConns.push(probe);
    await q.append([op(1)]);
    await q.append([op(2)]);
    const ids = (await q.next(10, 0)).entries.map((e) => e.id);
    expect(await q.keepClaimed(ids)).toEqual(ids);
    await q.ack([ids[0]!]);
    expect(await q.keepClaimed(ids)).toEqual([ids[1]]);
    await probe.del(stream); // what a restart without persistence leaves: no stream, no group
    expect(await q.keepClaimed(ids)).toEqual([]);
    await q.close();
  });

  it('gives a restarted writer its own pending entries, and idle ones of a crashed writer to another', async () => {
    const stream = `lg-test:${uid('claim')}`;
    const crashed = redisEngine(stream, 'crashed', 200);
    await crashed.append([op(1)]);
    await crashed.append([op(2)]);
    expect((await crashed.next(10, 0)).entries).toHaveLength(2); // read, never acknowledged

    const restarted = redisEngine(stream, 'crashed', 200);
    const own = await restarted.reclaim(1);
    expect(own.entries.map((e) => n(e.value))).toEqual([1]);
    expect(own.more).toBe(true);

    const other = redisEngine(stream, 'other', 200);
    expect((await other.reclaim(10)).entries).toEqual([]); // not idle long enough yet
    await new Promise((r) => setTimeout(r, 250)); // let the entries become idle (the claim timeout under test)
    const claimed = await other.reclaim(10);
    expect(claimed.entries.map((e) => n(e.value))).toEqual([1, 2]);
    await other.ack(claimed.entries.map((e) => e.id));
    expect((await other.stats()).length).toBe(0);
  });

  it('sets undecodable entries aside instead of failing the batch', async () => {
    const stream = `lg-test:${uid('bad')}`;
    const q = redisEngine(stream, 'w');
    await q.next(1, 0);
    await redisConns[redisConns.length - 2]!.xadd(stream, '*', 'd', '{not json');
    const batch = await q.next(10, 0);
    expect(batch.entries).toEqual([]);
    expect(batch.bad).toHaveLength(1);
    await q.deadLetter(batch.bad);
    expect((await q.stats()).length).toBe(0);
    expect(await redisConns[redisConns.length - 2]!.xlen(`${stream}:dead`)).toBe(1);
  });

  it('document locks: all free ones in one go, a contended one waited for, extended while held, lost ones reported', async () => {
    const stream = `lg-test:${uid('locks')}`;
    const redis = new Redis(inject('redisUrl'));
    redisConns.push(redis);
    const a = new RedisDocumentLocks(redis, stream, 'a');
    const b = new RedisDocumentLocks(redis, stream, 'b');
    const held = await a.lock(['c:1', 'c:2', 'c:3'], 5000);
    expect(await redis.exists(`${stream}:lock:c:1`, `${stream}:lock:c:2`, `${stream}:lock:c:3`)).toBe(3);

    // b needs c:0 (free) and c:2 (a's): it takes c:0 and waits for c:2 until a releases.
    let bHas = false;
    const waiting = b.lock(['c:0', 'c:2'], 5000).then((l) => {
      bHas = true;
      return l;
    });
    await expect(b.lock(['c:3'], 50)).rejects.toThrow(/stayed locked/);
    expect(bHas).toBe(false);
    await held.extend();
    await held.release();
    const bLocks = await waiting;
    expect(await redis.exists(`${stream}:lock:c:0`, `${stream}:lock:c:2`)).toBe(2);
    await bLocks.release();
    expect(await redis.exists(`${stream}:lock:c:0`, `${stream}:lock:c:2`)).toBe(0);

    // A lock that ran out while its writer still worked is reported by extend.
    const short = await a.lock(['c:9'], 30);
    while ((await redis.exists(`${stream}:lock:c:9`)) === 1) await new Promise((r) => setTimeout(r, 10)); // wait for the expiry under test
    await expect(short.extend()).rejects.toThrow(/expired/);
  });
});
