/**
 * The gift batcher against a real Redis: gifts submitted together run as one gift-send.lua call,
 * and every gift's outcome is what it would be had the gifts run one by one in arrival order
 * (balances chain, duplicates replay, refusals change nothing, cold wallets load and retry).
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GiftBatcher, type GiftJob, type GiftOutcome } from '../../src/handlers/gifts/gift-batch.js';
import { moneyKeys } from '../../src/handlers/wallets/keys.js';
import { moneyEpochScript, walletLoadScript } from '../../src/handlers/wallets/lua/wallet-load.js';
import { MoneyMetrics } from '../../src/handlers/wallets/metrics.js';
import { Outbox } from '../../src/handlers/wallets/outbox.js';
import { AppError } from '../../src/kernel/errors.js';
import type { QueueGuard, WriteOp, WriteQueue } from '../../src/store/write-queue.js';
import { startRedis } from '../support/services.js';
import { uid, type RedisServer } from './support.js';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** A write queue that records what it is given. */
class RecordingQueue implements WriteQueue {
  readonly appends: WriteOp[][] = [];
  async enqueue(ops: WriteOp[]): Promise<void> {
    this.appends.push(ops);
  }
  async enqueueGuarded(ops: WriteOp[], guard: QueueGuard): Promise<boolean> {
    this.appends.push(ops);
    await redis.zrem(guard.set, ...guard.members);
    return true;
  }
}

/** Installs a wallet as a load from MongoDB would (wallet-load.lua, under this Redis' epoch). */
async function install(userId: string, balance: number): Promise<void> {
  const epoch = String(await moneyEpochScript.run(redis, [moneyKeys.epoch], ['gift-batch-test']));
  await walletLoadScript.run(redis, [moneyKeys.wallet(userId), moneyKeys.epoch], [balance, 0, 1, 0, epoch]);
}

function setup(hosts: Record<string, string>, cold: Record<string, number> = {}) {
  const log = pino({ level: 'silent' });
  const registry = new Registry();
  const metrics = new MoneyMetrics(registry, { outboxPending: async () => 0, pkActive: async () => 0 });
  const queue = new RecordingQueue();
  const outbox = new Outbox(redis, queue, log, { sweepMs: 60_000, leaseMs: 60_000 });
  const loads: string[] = [];
  const wallets = {
    async ensureLoaded(userId: string): Promise<void> {
      loads.push(userId);
      await install(userId, cold[userId] ?? 0);
    },
    assertServing(): void {},
  };
  const streams = { hostOf: async (id: string) => hosts[id] };
  const batcher = new GiftBatcher(redis, streams, wallets, outbox, metrics, log, { maxBatch: 256, idempotencyTtlSec: 600, outboxGraceMs: 60_000 });
  const batches = async (): Promise<number> =>
    (await registry.getSingleMetric('livegate_gift_batch_size')!.get()).values.find(
      (v) => (v as { metricName?: string }).metricName === 'livegate_gift_batch_size_count',
    )!.value;
  return { batcher, queue, loads, batches };
}

async function hot(userId: string, balance: number): Promise<void> {
  await install(userId, balance);
}

function job(senderId: string, key: string, to: GiftJob['to'], quantity = 1): GiftJob {
  const livestreamId = 'stream' in to ? to.stream : null;
  return {
    senderId,
    to,
    idempotencyKey: key,
    giftId: 'heart',
    quantity,
    unitPrice: 5,
    creatorEarningsPercent: 50,
    meta: {
      giftTransactionId: `gt-${senderId}-${key}`,
      idempotencyKey: key,
      giftName: 'Heart',
      giftIcon: 'x',
      context: livestreamId ? 'livestream' : 'profile',
      livestreamId,
      contentId: null,
      message: null,
      isAnonymous: false,
    },
  };
}

/** Settles every submission: the outcome, or the refusal's code. */
const settle = (p: Promise<GiftOutcome>): Promise<GiftOutcome | string> => p.catch((err: unknown) => (err instanceof AppError ? err.code : String(err)));

describe('gift batcher', () => {
  it('applies a batch as the gifts would run one by one, in one script call', async () => {
    const [a, b, host, other, stream] = [uid('a'), uid('b'), uid('host'), uid('other'), uid('s')];
    await hot(a, 20);
    await hot(b, 100);
    await hot(host, 0);
    const battleId = uid('battle');
    await redis.set(moneyKeys.pkActive(host), battleId);
    await redis.hset(moneyKeys.pkBattle(battleId), { status: 'active', host1: other, host2: host, endsAt: String(Date.now() + 600_000), s1: '7', s2: '0' });
    const { batcher, queue, batches } = setup({ [stream]: host });
    const toStream = { stream, named: undefined };

    // Submitted in one tick: one batch.
    const results = await Promise.all(
      [
        job(a, 'key-a-0001', toStream),
        job(a, 'key-a-0002', toStream),
        job(a, 'key-a-0001', toStream), // a retry of the first: replays it
        job(b, 'key-b-0001', toStream, 3),
        job(a, 'key-a-0003', toStream),
        job(a, 'key-a-0004', toStream),
        job(a, 'key-a-0005', toStream), // 25 coins > 20: refused, nothing moves
        job(b, 'key-b-0002', { stream: uid('gone'), named: undefined }),
        job(b, 'key-b-0003', { stream, named: other }),
        job(host, 'key-h-0001', toStream),
        job(b, 'key-b-0004', { user: a }),
      ].map((j) => settle(batcher.submit(j))),
    );
    await batcher.idle();
    expect(await batches()).toBe(1);

    const ok = (r: GiftOutcome | string | undefined): GiftOutcome => {
      if (r === undefined || typeof r === 'string') throw new Error(`refused: ${String(r)}`);
      return r;
    };
    const [a1, a2, a1again, b1, a3, a4, a5, gone, wrongHost, self, bToA] = results;
    expect([a5, gone, wrongHost, self]).toEqual(['insufficient_funds', 'not_found', 'bad_request', 'bad_request']);
    expect(ok(a1again).status).toBe('replay');
    expect(ok(a1again).record).toEqual(ok(a1).record);

    // The sender's balance chains through its gifts, versions grow per gift.
    const aGifts = [a1, a2, a3, a4].map((r) => ok(r).record);
    expect(aGifts.map((r) => [r.senderBalanceBefore, r.senderBalanceAfter])).toEqual([
      [20, 15],
      [15, 10],
      [10, 5],
      [5, 0],
    ]);
    const versions = aGifts.map((r) => r.senderVersion);
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);
    expect(new Set(versions).size).toBe(4);
    // The host's credit, the stream totals and the PK score run through the batch in order.
    const toHost = [a1, a2, b1, a3, a4].map((r) => ok(r).record);
    expect(toHost.map((r) => r.recipientBalanceAfter)).toEqual([2, 4, 11, 13, 15]);
    expect(toHost.map((r) => r.streamGifts)).toEqual([1, 2, 5, 6, 7]);
    expect(toHost.map((r) => r.streamCoins)).toEqual([5, 10, 25, 30, 35]);
    expect(toHost.map((r) => r.pk)).toEqual([5, 10, 25, 30, 35].map((s) => ({ battleId, host1Score: 7, host2Score: s, endsAt: expect.any(Number) })));
    expect(ok(bToA).record.recipientBalanceAfter).toBe(2); // a's wallet: 0 after its gifts, + 2

    // Redis holds the end state once.
    expect(await redis.hget(moneyKeys.wallet(a), 'b')).toBe('2');
    expect(await redis.hget(moneyKeys.wallet(b), 'b')).toBe(String(100 - 15 - 5));
    expect(await redis.hmget(moneyKeys.wallet(host), 'b', 'e')).toEqual(['15', '15']);
    expect(await redis.hgetall(moneyKeys.streamTotals(stream))).toEqual({ 'heart:n': '7', 'heart:c': '35', coins: '35', gifts: '7' });
    expect(await redis.zscore(moneyKeys.streamBoard(stream), b)).toBe('15');
    expect(await redis.zscore(moneyKeys.creatorBoard(host), a)).toBe('20');
    expect(await redis.hmget(moneyKeys.pkBattle(battleId), 's1', 's2')).toEqual(['7', '35']);
    expect(await redis.hget(moneyKeys.wallet(a), 'v')).toBe(String(Math.max(...versions, ok(bToA).record.recipientVersion)));

    // One append of every accepted gift's writes; the host's wallet row once, at its newest version.
    expect(queue.appends).toHaveLength(1);
    const ops = queue.appends[0]!;
    expect(ops.filter((o) => o.kind === 'insert' && o.collection === 'gifttransactions')).toHaveLength(6);
    const hostRows = ops.filter((o) => o.kind === 'setIfNewer' && o.id === host);
    expect(hostRows).toHaveLength(1);
    expect(hostRows[0]).toMatchObject({ version: Math.max(...toHost.map((r) => r.recipientVersion)), set: { balance: 15 } });
    expect(await redis.zcard(moneyKeys.outbox)).toBe(0);
  });

  it('loads cold wallets and runs their gifts first in the next batch', async () => {
    const [cold, host] = [uid('cold'), uid('host')];
    await hot(host, 0);
    const { batcher, loads, batches } = setup({}, { [cold]: 12 });
    const results = await Promise.all(
      [job(cold, 'key-c-0001', { user: host }), job(cold, 'key-c-0002', { user: host }), job(cold, 'key-c-0003', { user: host })].map((j) =>
        settle(batcher.submit(j)),
      ),
    );
    await batcher.idle();
    expect(loads).toEqual([cold]);
    expect(await batches()).toBe(2);
    expect(results.map((r) => (typeof r === 'string' ? r : r.record.senderBalanceAfter))).toEqual([7, 2, 'insufficient_funds']);
  });

  it('answers gifts submitted while a batch is in Redis in the next batch', async () => {
    const [sender, host] = [uid('s'), uid('host')];
    await hot(sender, 1000);
    await hot(host, 0);
    const { batcher, batches } = setup({});
    const first = batcher.submit(job(sender, 'key-s-0001', { user: host }));
    await new Promise((r) => setImmediate(r)); // the first batch is on its way
    const later = [2, 3, 4].map((i) => batcher.submit(job(sender, `key-s-000${i}`, { user: host })));
    const all = await Promise.all([first, ...later]);
    expect(all.map((r) => r.record.senderBalanceAfter)).toEqual([995, 990, 985, 980]);
    expect(await batches()).toBe(2);
  });
});
