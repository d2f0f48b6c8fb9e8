/**
 * Must-show 2: every replay of an idempotency key returns the original result and moves no coins,
 * on any node, concurrently; and the typed refusals of gift:send.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COLLECTIONS } from '../../src/store/collections.js';
import { connect, createLivestream, errorCode, eventually, fund, ledgerOf, metric, ok, startMoneyEnv, uid, type MoneyEnv } from './support.js';

describe('gift:send idempotency and refusals', () => {
  let env: MoneyEnv;
  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2);
  });
  afterAll(async () => {
    await env.close();
  });

  it('a replayed key returns the original ack and charges nothing, on every node', async () => {
    const [a, b] = env.gateways as [NonNullable<MoneyEnv['gateways'][0]>, NonNullable<MoneyEnv['gateways'][0]>];
    const sender = uid('fan');
    const creator = uid('creator');
    const stream = uid('stream');
    await createLivestream(env, stream, creator);
    expect(await fund(env.admin, sender, 100)).toBe(100);
    const onA = await connect(a, sender);
    const onB = await connect(b, sender);
    const request = { giftId: 'star', quantity: 1, livestreamId: stream, idempotencyKey: uid('key') };

    const first = await ok(onA, 'gift:send', request);
    // star: 33 coins, creatorEarningsPercent 60 -> floor(19.8) = 19 to the creator, 14 to the platform.
    expect(first).toMatchObject({ totalCost: 33, creatorEarnings: 19, platformFee: 14, balance: 67, quantity: 1, unitPrice: 33 });

    const replays = await Promise.all(Array.from({ length: 10 }, (_, i) => ok(i % 2 ? onA : onB, 'gift:send', request)));
    for (const replay of replays) expect(replay).toEqual(first);
    // The key names the request: a changed body under the same key still gets the first outcome.
    expect(await ok(onB, 'gift:send', { ...request, quantity: 3 })).toEqual(first);

    expect((await ok<{ balance: number }>(onB, 'wallet:balance', {})).balance).toBe(67);
    const creatorClient = await connect(a, creator);
    expect((await ok<{ balance: number }>(creatorClient, 'wallet:balance', {})).balance).toBe(19);

    const replayed = (await metric(a, 'livegate_gifts_total', 'outcome="replayed"')) + (await metric(b, 'livegate_gifts_total', 'outcome="replayed"'));
    expect(replayed).toBe(11);
    const accepted = (await metric(a, 'livegate_gifts_total', 'outcome="accepted"')) + (await metric(b, 'livegate_gifts_total', 'outcome="accepted"'));
    expect(accepted).toBe(1);

    const gifts = await eventually(
      () => env.db.collection(COLLECTIONS.giftTransactions).find({ senderId: sender }).toArray(),
      (docs) => docs.length >= 1,
    );
    expect(gifts).toHaveLength(1);
    expect(gifts[0]).toMatchObject({ _id: first['giftTransactionId'], totalCost: 33, creatorEarnings: 19, platformFee: 14, status: 'completed' });
    const senderLedger = await eventually(
      () => ledgerOf(env.db, sender),
      (rows) => rows.length >= 2,
    );
    expect(senderLedger.map((r) => r['amount']).sort()).toEqual([-33, 100].sort());
    const creatorLedger = await eventually(
      () => ledgerOf(env.db, creator),
      (rows) => rows.length >= 1,
    );
    expect(creatorLedger.map((r) => r['amount'])).toEqual([19]);
    for (const c of [onA, onB, creatorClient]) await c.close();
  });

  it('the funding credit is idempotent too', async () => {
    const user = uid('fan');
    const key = uid('credit');
    const first = await ok(env.admin, 'wallet:credit', { userId: user, amount: 50, reason: 'promo', idempotencyKey: key });
    const again = await ok(env.admin, 'wallet:credit', { userId: user, amount: 50, reason: 'promo', idempotencyKey: key });
    expect(again).toEqual(first);
    expect(first).toMatchObject({ amount: 50, balance: 50 });
  });

  it('refuses bad gifts with typed errors and charges nothing', async () => {
    const gw = env.gateways[0]!;
    const sender = uid('fan');
    const creator = uid('creator');
    const stream = uid('stream');
    await createLivestream(env, stream, creator);
    await fund(env.admin, sender, 40);
    const client = await connect(gw, sender);
    const send = (over: Record<string, unknown>) =>
      client.request('gift:send', { giftId: 'rose', quantity: 1, livestreamId: stream, idempotencyKey: uid('key'), ...over });

    expect(errorCode(await send({ giftId: 'no-such-gift' }))).toBe('not_found');
    expect(errorCode(await send({ giftId: 'retired-crown' }))).toBe('conflict'); // isActive: false
    expect(errorCode(await send({ giftId: 'pumpkin' }))).toBe('conflict'); // outside its availability window
    expect(errorCode(await send({ livestreamId: uid('nostream') }))).toBe('not_found');
    expect(errorCode(await send({ livestreamId: undefined, recipientId: uid('nobody') }))).toBe('not_found');
    expect(errorCode(await send({ quantity: 0 }))).toBe('validation_failed');
    expect(errorCode(await send({ quantity: -3 }))).toBe('validation_failed');
    expect(errorCode(await send({ quantity: 1.5 }))).toBe('validation_failed');
    expect(errorCode(await send({ idempotencyKey: 'short' }))).toBe('validation_failed');
    expect(errorCode(await send({ livestreamId: undefined, recipientId: sender }))).toBe('bad_request');
    expect(errorCode(await send({ giftId: 'fireworks' }))).toBe('insufficient_funds'); // 199 > 40
    expect(errorCode(await client.request('wallet:credit', { userId: sender, amount: 5, reason: 'x', idempotencyKey: uid('k') }))).toBe('forbidden');

    // A stream that ended takes no more gifts.
    const host = await connect(gw, creator);
    await ok(host, 'livestream:end', { livestreamId: stream });
    expect(errorCode(await send({}))).toBe('not_found');
    await host.close();

    expect((await ok<{ balance: number }>(client, 'wallet:balance', {})).balance).toBe(40);
    const refused = await metric(gw, 'livegate_gifts_total', 'outcome="insufficient_funds"');
    expect(refused).toBeGreaterThanOrEqual(1);
    await client.close();
  });
});
