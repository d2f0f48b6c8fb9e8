/**
 * Must-show 5: Redis restarted (its data lost) between two gifts. The hot wallets come back from
 * MongoDB (sum of the ledger), the idempotency records of the window come back with them, and
 * nothing is double-spent.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { moneyKeys } from '../../src/handlers/wallets/keys.js';
import { COLLECTIONS } from '../../src/store/collections.js';
import { startRedis } from '../support/services.js';
import { connect, createUser, errorCode, eventually, fund, ledgerOf, metric, ok, startMoneyEnv, uid, walletDoc, type MoneyEnv } from './support.js';

describe('Redis restart between two gifts', () => {
  let env: MoneyEnv;
  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2);
  });
  afterAll(async () => {
    await env.close();
  });

  it('reloads balances from MongoDB and double-spends nothing', async () => {
    const [a, b] = [env.gateways[0]!, env.gateways[1]!];
    const sender = uid('fan');
    const creator = uid('creator');
    await createUser(env.db, creator); // profile gifts: stream state lives in Redis and would go with it
    await fund(env.admin, sender, 66); // exactly two stars
    const onA = await connect(a, sender);
    const first = { giftId: 'star', quantity: 1, recipientId: creator, context: 'profile', idempotencyKey: uid('k1') };
    const ack1 = await ok(onA, 'gift:send', first);
    expect(ack1).toMatchObject({ balance: 33, creatorEarnings: 19 });

    // The first gift is in MongoDB (rows and the versioned wallet balance) before Redis goes away.
    await eventually(
      () => walletDoc(env.db, sender),
      (w) => w?.['balance'] === 33,
    );
    await eventually(
      () => walletDoc(env.db, creator),
      (w) => w?.['balance'] === 19,
    );
    await eventually(
      () => metric(a, 'livegate_money_outbox_pending'),
      (n) => n === 0,
    );

    // Restart without persistence: every key is gone.
    const port = env.redis.port;
    await env.redis.stop();
    env.redis = await startRedis({ port, dir: env.redis.dir });
    const probe = new Redis(env.redis.url);
    // The money state is gone (the nodes reconnect at once and rewrite their own liveness keys,
    // so the database as a whole need not be empty).
    const moneyState = [moneyKeys.wallet(sender), moneyKeys.wallet(creator), moneyKeys.idem('gift', sender, first.idempotencyKey)];
    expect(await probe.exists(...moneyState)).toBe(0);

    const onB = await connect(b, sender);
    // A replay of the first gift after the restart still charges nothing and returns the same ack.
    expect(await ok(onB, 'gift:send', first)).toEqual(ack1);
    const ack2 = await ok(onB, 'gift:send', { ...first, idempotencyKey: uid('k2') });
    expect(ack2).toMatchObject({ balance: 0, creatorEarnings: 19 });
    expect(errorCode(await onA.request('gift:send', { ...first, idempotencyKey: uid('k3') }))).toBe('insufficient_funds');
    expect((await ok<{ balance: number }>(onA, 'wallet:balance', {})).balance).toBe(0);
    const creatorClient = await connect(a, creator);
    expect((await ok<{ balance: number }>(creatorClient, 'wallet:balance', {})).balance).toBe(38);
    expect((await metric(a, 'livegate_wallet_loads_total')) + (await metric(b, 'livegate_wallet_loads_total'))).toBeGreaterThanOrEqual(2);

    // MongoDB agrees: two gifts, ledgers that sum to the balances, wallet docs at the new versions.
    await eventually(
      () => env.db.collection(COLLECTIONS.giftTransactions).countDocuments({ senderId: sender }),
      (n) => n >= 2,
    );
    await eventually(
      () => walletDoc(env.db, sender),
      (w) => w?.['balance'] === 0,
    );
    await eventually(
      () => walletDoc(env.db, creator),
      (w) => w?.['balance'] === 38,
    );
    expect(await env.db.collection(COLLECTIONS.giftTransactions).countDocuments({ senderId: sender })).toBe(2);
    const sum = (rows: Array<Record<string, unknown>>) => rows.reduce((s, r) => s + (r['amount'] as number), 0);
    expect(sum(await ledgerOf(env.db, sender))).toBe(0);
    expect(sum(await ledgerOf(env.db, creator))).toBe(38);

    probe.disconnect();
    for (const c of [onA, onB, creatorClient]) await c.close();
  });
});
