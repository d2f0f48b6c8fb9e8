/**
 * Issue 21, must-show 1: money that comes in by purchase or admin credit moves exactly once per
 * idempotency key. Twenty concurrent requests with one key, spread over two gateway nodes and over
 * HTTP and the socket, make exactly one payment (one `_id`, derived from buyer and key) and one
 * ledger credit; every caller gets the same payment; the wallet equals the sum of its ledger rows.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COLLECTIONS } from '../../src/store/collections.js';
import type { NativeClient } from '../support/clients.js';
import { makeToken, type GatewayProcess } from '../support/gateway.js';
import { errorCode, http } from '../support/http.js';
import { connect, eventually, ledgerOf, ok, startMoneyEnv, uid, type MoneyEnv } from './support.js';

const CONCURRENCY = 20;

interface Payment {
  id: string;
  userId: string;
  coins: number;
  status: string;
  creditStatus: string;
  transactionId: string | null;
  balanceAfter: number | null;
}

interface Adjustment {
  id: string;
  userId: string;
  coins: number;
  creditStatus: string;
  transactionId: string | null;
}

describe('purchases, top-ups, checkouts and admin credits: one key, one payment, one credit (two nodes)', () => {
  let env: MoneyEnv;
  let nodes: GatewayProcess[];
  const sockets: NativeClient[] = [];
  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2, { DEV_PAYMENTS: 'true', HTTP_RATE_LIMIT_PER_SEC: '1000', HTTP_RATE_LIMIT_BURST: '1000' });
    nodes = env.gateways;
  });
  afterAll(async () => {
    for (const s of sockets) await s.close();
    await env.close();
  });

  const socketsOf = async (userId: string): Promise<NativeClient[]> => {
    const pair = [await connect(nodes[0]!, userId), await connect(nodes[1]!, userId)];
    sockets.push(...pair);
    return pair;
  };

  /** Waits until the wallet's ledger rows in MongoDB add up to its hot balance, then returns both. */
  async function settled(userId: string, socket: NativeClient): Promise<{ balance: number; rows: Array<Record<string, unknown>> }> {
    const balance = (await ok<{ balance: number }>(socket, 'wallet:balance', {})).balance;
    const rows = await eventually(
      () => ledgerOf(env.db, userId),
      (r) => r.reduce((sum, row) => sum + Number(row['amount']), 0) === balance,
    );
    return { balance, rows };
  }

  /** Twenty requests at once: i % 4 picks node 0/1 over HTTP or the socket (when `socket` is given). */
  async function burst(
    userId: string,
    path: string,
    body: Record<string, unknown>,
    socket?: { event: string; data: Record<string, unknown> },
  ): Promise<Array<{ via: string; status: number; paymentId: string; transactionId: string | null }>> {
    const token = await makeToken({ sub: userId });
    const [onA, onB] = socket ? await socketsOf(userId) : [];
    return Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, i) => {
        const node = nodes[i % 2]!;
        if (socket && i % 4 >= 2) {
          const client = i % 2 === 0 ? onA! : onB!;
          const reply = await client.request(socket.event, socket.data);
          if (reply.error) return { via: 'socket', status: 0, paymentId: reply.error.code, transactionId: null };
          const data = reply.data as { paymentId: string; transactionId: string | null };
          return { via: 'socket', status: 201, paymentId: data.paymentId, transactionId: data.transactionId };
        }
        const res = await http<Payment>(node, 'POST', path, { token, body });
        return { via: 'http', status: res.status, paymentId: res.body.id ?? String(errorCode(res)), transactionId: res.body.transactionId };
      }),
    );
  }

  async function expectOnePurchase(userId: string, results: Awaited<ReturnType<typeof burst>>, packageCoins: number): Promise<void> {
    expect(results.map((r) => r.status)).toEqual(Array(CONCURRENCY).fill(201));
    const ids = new Set(results.map((r) => r.paymentId));
    expect(ids.size).toBe(1);
    expect(new Set(results.map((r) => r.transactionId)).size).toBe(1);
    const payments = await env.db.collection('payments').find({ userId }).toArray();
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ _id: [...ids][0], status: 'succeeded', creditStatus: 'credited', coins: packageCoins });
    const [socket] = await socketsOf(userId);
    const { balance, rows } = await settled(userId, socket!);
    expect(balance).toBe(packageCoins);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: 'purchase', amount: packageCoins, referenceId: [...ids][0], referenceType: 'payment' });
    // The ledger row's _id is the credit's transaction id: the same one every caller was given.
    expect(rows[0]!['_id']).toBe(results[0]!.transactionId);
  }

  it('POST /api/coins/purchase and coins:purchase: 20 at once with one key', async () => {
    const buyer = uid('buyer');
    const idempotencyKey = uid('buy-key');
    const results = await burst(
      buyer,
      '/api/coins/purchase',
      { packageId: 'coins-100', idempotencyKey },
      { event: 'coins:purchase', data: { packageId: 'coins-100', idempotencyKey } },
    );
    expect(results.filter((r) => r.via === 'socket')).toHaveLength(10);
    await expectOnePurchase(buyer, results, 100);
    // A retry after the first finished: the same payment, nothing more credited.
    const later = await http<Payment>(nodes[1]!, 'POST', '/api/coins/purchase', {
      token: await makeToken({ sub: buyer }),
      body: { packageId: 'coins-100', idempotencyKey },
    });
    expect([later.status, later.body.id]).toEqual([201, results[0]!.paymentId]);
    expect(await env.db.collection('payments').countDocuments({ userId: buyer })).toBe(1);
  });

  it('POST /api/wallets/top-up (with coins:purchase): 20 at once with one key', async () => {
    const buyer = uid('buyer');
    const idempotencyKey = uid('topup-key');
    const results = await burst(
      buyer,
      '/api/wallets/top-up',
      { packageId: 'coins-550', idempotencyKey },
      { event: 'coins:purchase', data: { packageId: 'coins-550', idempotencyKey } },
    );
    const pkg = await env.db.collection(COLLECTIONS.coinPackages).findOne({ _id: 'coins-550' as unknown as never });
    await expectOnePurchase(buyer, results, Number(pkg?.['coins']) + Number(pkg?.['bonusCoins'] ?? 0));
  });

  it('POST /api/payments/checkout (with coins:purchase): 20 at once with one key', async () => {
    const buyer = uid('buyer');
    const idempotencyKey = uid('checkout-key');
    const results = await burst(
      buyer,
      '/api/payments/checkout',
      { provider: 'dev', packageId: 'coins-100', idempotencyKey },
      { event: 'coins:purchase', data: { packageId: 'coins-100', provider: 'dev', idempotencyKey } },
    );
    await expectOnePurchase(buyer, results, 100);
  });

  it('POST /api/payments/admin/credit: 20 at once with one key, over both nodes', async () => {
    const user = uid('user');
    const adminToken = await makeToken({ sub: uid('admin'), role: 'admin' });
    const body = { userId: user, coins: 250, reason: 'goodwill credit', idempotencyKey: uid('adm-key') };
    const results = await Promise.all(
      Array.from({ length: CONCURRENCY }, (_, i) => http<Adjustment>(nodes[i % 2]!, 'POST', '/api/payments/admin/credit', { token: adminToken, body })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(CONCURRENCY).fill(201));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(new Set(results.map((r) => r.body.transactionId)).size).toBe(1);
    expect(results.every((r) => r.body.creditStatus === 'credited')).toBe(true);
    expect(await env.db.collection('wallet_adjustments').countDocuments({ userId: user })).toBe(1);
    const [socket] = await socketsOf(user);
    const { balance, rows } = await settled(user, socket!);
    expect(balance).toBe(250);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ _id: results[0]!.body.transactionId, amount: 250, referenceId: results[0]!.body.id, referenceType: 'wallet_adjustment' });
  });

  it('every money-in request requires an idempotencyKey of the one documented pattern', async () => {
    const token = await makeToken({ sub: uid('buyer') });
    const adminToken = await makeToken({ sub: uid('admin'), role: 'admin' });
    const node = nodes[0]!;
    const missing = [
      http(node, 'POST', '/api/coins/purchase', { token, body: { packageId: 'coins-100' } }),
      http(node, 'POST', '/api/wallets/top-up', { token, body: { packageId: 'coins-100' } }),
      http(node, 'POST', '/api/payments/checkout', { token, body: { provider: 'dev', packageId: 'coins-100' } }),
      http(node, 'POST', '/api/payments/admin/credit', { token: adminToken, body: { userId: 'u', coins: 5, reason: 'no key' } }),
    ];
    for (const res of await Promise.all(missing)) expect([res.status, errorCode(res)]).toEqual([422, 'validation_failed']);
    // One pattern everywhere: 8-128 of A-Za-z0-9_.:- (the checkout used to accept only 8-64 without '.' and ':').
    const dotted = `key.with:colons-${'x'.repeat(100)}`;
    const ok201 = await http<Payment>(node, 'POST', '/api/payments/checkout', {
      token,
      body: { provider: 'dev', packageId: 'coins-100', idempotencyKey: dotted },
    });
    expect(ok201.status).toBe(201);
    for (const bad of ['short', 'has space!', 'x'.repeat(129)]) {
      const res = await http(node, 'POST', '/api/payments/admin/credit', {
        token: adminToken,
        body: { userId: 'u', coins: 5, reason: 'bad key', idempotencyKey: bad },
      });
      expect([res.status, errorCode(res)]).toEqual([422, 'validation_failed']);
    }
  });
});
