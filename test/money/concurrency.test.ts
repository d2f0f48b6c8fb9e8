/**
 * Must-show 1: 50 clients on two nodes spend concurrently from one wallet funded for exactly N gifts.
 * Exactly N succeed, the rest get insufficient_funds, the balance ends at 0; after the queue drains
 * MongoDB holds exactly N GiftTransactions and matching ledger rows, and the creator holds the split.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COLLECTIONS } from '../../src/store/collections.js';
import type { NativeClient } from '../support/clients.js';
import { connect, createLivestream, eventually, fund, ledgerOf, metric, ok, startMoneyEnv, uid, walletDoc, type MoneyEnv } from './support.js';

const CLIENTS = 50;
const ATTEMPTS_PER_CLIENT = 3;
const N = 61; // gifts the wallet can pay for; 150 attempts in all
const GIFT = { id: 'star', price: 33, creatorPercent: 60 };

describe('one wallet spent from 50 sockets on two nodes', () => {
  let env: MoneyEnv;
  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2);
  });
  afterAll(async () => {
    await env.close();
  });

  it('lets exactly N gifts through, never below zero, and persists exactly N', async () => {
    const sender = uid('whale');
    const creator = uid('creator');
    const stream = uid('stream');
    await createLivestream(env, stream, creator);
    expect(await fund(env.admin, sender, N * GIFT.price)).toBe(N * GIFT.price);

    // Warm both nodes (catalogue, stream host lookup) so the burst races on Redis, not on caches.
    const warm = uid('warm');
    await fund(env.admin, warm, 2);
    for (const gw of env.gateways) {
      const c = await connect(gw, warm);
      await ok(c, 'gift:send', { giftId: 'rose', quantity: 1, livestreamId: stream, idempotencyKey: uid('warm') });
      await c.close();
    }

    const clients: NativeClient[] = [];
    for (let i = 0; i < CLIENTS; i++) clients.push(await connect(env.gateways[i % 2]!, sender));
    // Every socket is open and answers before the burst (a socket the gateway dropped fails here, by name).
    for (const [i, client] of clients.entries()) {
      const reply = await Promise.race([client.request('session:info'), client.closed.then((c) => ({ closed: c }))]);
      expect(reply, `socket ${i}`).toMatchObject({ data: { userId: sender } });
    }

    const outcomes = await Promise.all(
      clients.flatMap((client) =>
        Array.from({ length: ATTEMPTS_PER_CLIENT }, () =>
          client.request('gift:send', { giftId: GIFT.id, quantity: 1, livestreamId: stream, idempotencyKey: uid('k') }),
        ),
      ),
    );
    const accepted = outcomes.filter((o) => !o.error);
    const refused = outcomes.filter((o) => o.error);
    expect(accepted).toHaveLength(N);
    expect(refused).toHaveLength(CLIENTS * ATTEMPTS_PER_CLIENT - N);
    for (const r of refused) expect(r.error?.code).toBe('insufficient_funds');
    // Every accepted ack shows a distinct balance on the way down to zero: no two debits saw the same balance.
    const balances = accepted.map((o) => (o.data as { balance: number }).balance).sort((x, y) => x - y);
    expect(balances).toEqual(Array.from({ length: N }, (_, i) => i * GIFT.price));
    expect((await ok<{ balance: number }>(clients[0]!, 'wallet:balance', {})).balance).toBe(0);

    const share = Math.floor((GIFT.price * GIFT.creatorPercent) / 100);
    const creatorClient = await connect(env.gateways[1]!, creator);
    expect((await ok<{ balance: number }>(creatorClient, 'wallet:balance', {})).balance).toBe(N * share);

    // Both nodes took part in the race (the split of the N accepted ones between them varies).
    const split: number[] = [];
    for (const gw of env.gateways) {
      const acceptedHere = (await metric(gw, 'livegate_gifts_total', 'outcome="accepted"')) - 1; // minus the warm-up gift
      const refusedHere = await metric(gw, 'livegate_gifts_total', 'outcome="insufficient_funds"');
      expect(acceptedHere + refusedHere).toBe((CLIENTS / 2) * ATTEMPTS_PER_CLIENT);
      split.push(acceptedHere);
    }
    expect(split[0]! + split[1]!).toBe(N);
    console.log(`accepted per node: ${split.join(' / ')}`);

    // After the queue drains: exactly N GiftTransactions and the matching ledger rows.
    await eventually(
      () => env.db.collection(COLLECTIONS.giftTransactions).countDocuments({ senderId: sender }),
      (n) => n >= N,
    );
    await eventually(
      () => metric(env.gateways[0]!, 'livegate_money_outbox_pending'),
      (n) => n === 0,
    );
    await eventually(
      async () => (await ledgerOf(env.db, creator)).length,
      (n) => n >= N + 2,
    );
    await eventually(
      async () => (await walletDoc(env.db, sender))?.['balance'],
      (b) => b === 0,
    );
    expect(await env.db.collection(COLLECTIONS.giftTransactions).countDocuments({ senderId: sender })).toBe(N);
    const senderRows = await ledgerOf(env.db, sender);
    expect(senderRows.filter((r) => r['type'] === 'gift_sent')).toHaveLength(N);
    expect(senderRows.reduce((s, r) => s + (r['amount'] as number), 0)).toBe(0);
    const creatorRows = await ledgerOf(env.db, creator);
    const warmShare = 0; // rose: 1 coin at 50% -> floor(0.5) = 0 for the creator
    expect(creatorRows).toHaveLength(N + 2);
    expect(creatorRows.filter((r) => r['amount'] === share)).toHaveLength(N);
    expect(creatorRows.filter((r) => r['amount'] === warmShare)).toHaveLength(2);
    expect(await walletDoc(env.db, sender)).toMatchObject({ balance: 0 });
    await eventually(
      async () => (await walletDoc(env.db, creator))?.['balance'],
      (b) => b === N * share,
    );
    expect(await walletDoc(env.db, creator)).toMatchObject({ balance: N * share, totalEarnings: N * share });

    for (const c of [...clients, creatorClient]) await c.close();
  });
});
