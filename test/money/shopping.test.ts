/**
 * Live shopping (issue 21): a session per stream, pinned products with server-known prices, and
 * orders that count only once paid from the buyer's wallet (to the host's), once per key, on two
 * nodes, over the socket and HTTP. A viewer without coins cannot move the analytics.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COLLECTIONS } from '../../src/store/collections.js';
import type { NativeClient } from '../support/clients.js';
import { makeToken } from '../support/gateway.js';
import { errorCode as httpErrorCode, http } from '../support/http.js';
import { connect, createLivestream, errorCode, eventually, fund, joinStream, ledgerOf, ok, startMoneyEnv, uid, type MoneyEnv } from './support.js';

interface Stats {
  livestreamId: string;
  totalOrders: number;
  totalRevenue: number;
  uniqueBuyers: number;
  uniqueViewers: number;
  conversionRate: number;
}

interface Receipt {
  orderId: string;
  total: number;
  unitPrice: number;
  quantity: number;
  transferId: string;
  balance: number;
  counted: boolean;
  stats: Stats;
}

const ORDERS_PER_MINUTE = 4;

describe('live shopping', () => {
  let env: MoneyEnv;
  const clients: NativeClient[] = [];
  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2, { SHOPPING_ORDERS_PER_MINUTE: String(ORDERS_PER_MINUTE) });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await env.close();
  });

  const on = async (node: 0 | 1, userId: string): Promise<NativeClient> => {
    const c = await connect(env.gateways[node]!, userId);
    clients.push(c);
    return c;
  };

  /** A live stream with a shopping session and one pinned product at `price` coins. */
  async function shop(price: number): Promise<{ streamId: string; hostId: string; host: NativeClient }> {
    const hostId = uid('host');
    const streamId = uid('stream');
    await createLivestream(env, streamId, hostId);
    const host = await on(0, hostId);
    await ok(host, 'shopping:start', { livestreamId: streamId });
    await ok(host, 'shopping:pin', { livestreamId: streamId, productId: 'mug', price, name: 'Mug' });
    return { streamId, hostId, host };
  }

  const balanceOf = async (c: NativeClient): Promise<number> => (await ok<{ balance: number }>(c, 'wallet:balance', {})).balance;
  const ledgerSum = async (userId: string): Promise<number> => (await ledgerOf(env.db, userId)).reduce((s, r) => s + Number(r['amount']), 0);

  it('pins carry server-known prices; orders are priced by the server and counted exactly', async () => {
    const hostId = uid('host');
    const streamId = uid('stream');
    await createLivestream(env, streamId, hostId);
    const host = await on(0, hostId);
    const buyer1Id = uid('buyer');
    const buyer2Id = uid('buyer');
    await fund(env.admin, buyer1Id, 1000);
    await fund(env.admin, buyer2Id, 1000);
    const buyer1 = await on(0, buyer1Id);
    const buyer2 = await on(1, buyer2Id);
    const browser = await on(1, uid('viewer'));
    await joinStream(browser, streamId);

    expect(errorCode(await buyer1.request('shopping:start', { livestreamId: streamId }))).toBe('forbidden');
    expect(errorCode(await host.request('shopping:pin', { livestreamId: streamId, productId: 'p1', price: 10 }))).toBe('not_found');
    await ok(host, 'shopping:start', { livestreamId: streamId });
    expect(errorCode(await buyer1.request('shopping:pin', { livestreamId: streamId, productId: 'p1', price: 10 }))).toBe('forbidden');
    // Prices are whole coins, and required.
    for (const bad of [{ price: 19.99 }, { price: 0 }, { price: '10' }, {}]) {
      expect(errorCode(await host.request('shopping:pin', { livestreamId: streamId, productId: 'p1', ...bad }))).toBe('validation_failed');
    }

    const pinned = await ok<{ products: Array<{ productId: string; price: number }> }>(host, 'shopping:pin', {
      livestreamId: streamId,
      productId: 'p2',
      price: 5,
      displayOrder: 2,
    });
    expect(pinned.products.map((p) => [p.productId, p.price])).toEqual([['p2', 5]]);
    await ok(host, 'shopping:pin', { livestreamId: streamId, productId: 'p1', price: 20, displayOrder: 1, name: 'T-shirt' });
    const left = await ok<{ products: Array<{ productId: string }> }>(host, 'shopping:unpin', { livestreamId: streamId, productId: 'p2' });
    expect(left.products.map((p) => p.productId)).toEqual(['p1']);
    const pinnedFrame = await browser.waitFor((f) => f.event === 'shopping:pinned' && (f.data as { version: number }).version === 3);
    expect(pinnedFrame.data).toMatchObject({ livestreamId: streamId, products: [{ productId: 'p1', displayOrder: 1, price: 20, name: 'T-shirt' }] });

    for (const c of [buyer1, buyer2, browser]) await ok(c, 'shopping:view', { livestreamId: streamId });
    // No total is accepted from the client; an unpinned product cannot be ordered.
    expect(errorCode(await buyer1.request('shopping:order', { livestreamId: streamId, productId: 'p1', total: 1, idempotencyKey: uid('o') }))).toBe(
      'validation_failed',
    );
    expect(errorCode(await buyer1.request('shopping:order', { livestreamId: streamId, productId: 'p2', idempotencyKey: uid('o') }))).toBe('not_found');
    expect(errorCode(await buyer1.request('shopping:order', { livestreamId: streamId, productId: 'p1', quantity: 1.5, idempotencyKey: uid('o') }))).toBe(
      'validation_failed',
    );
    expect(errorCode(await host.request('shopping:order', { livestreamId: streamId, productId: 'p1', idempotencyKey: uid('o') }))).toBe('validation_failed');

    const first = await ok<Receipt>(buyer1, 'shopping:order', { livestreamId: streamId, productId: 'p1', quantity: 2, idempotencyKey: uid('o') });
    expect(first).toMatchObject({ unitPrice: 20, quantity: 2, total: 40, balance: 960, counted: true });
    const second = await ok<Receipt>(buyer2, 'shopping:order', { livestreamId: streamId, productId: 'p1', idempotencyKey: uid('o') });
    expect(second.stats).toMatchObject({ totalOrders: 2, totalRevenue: 60, uniqueBuyers: 2, uniqueViewers: 3, conversionRate: 0.6667 });
    expect(await ok(host, 'shopping:stats', { livestreamId: streamId })).toEqual(second.stats);
    expect((await browser.waitFor((f) => f.event === 'shopping:stats' && (f.data as Stats).totalOrders === 2)).data).toEqual(second.stats);
    expect((await host.waitFor((f) => f.event === 'shopping:order' && (f.data as { orderId: string }).orderId === second.orderId)).data).toMatchObject({
      buyerId: buyer2Id,
      productId: 'p1',
      quantity: 1,
      total: 20,
    });
    // The coins moved: buyers paid, the host received 60.
    expect(await balanceOf(buyer2)).toBe(980);
    expect(await balanceOf(host)).toBe(60);

    const session = await eventually(
      () => env.db.collection(COLLECTIONS.shoppingSessions).findOne({ _id: streamId as unknown as never }),
      (d) => d?.['totalOrders'] === 2,
    );
    expect(session).toMatchObject({ hostId, totalOrders: 2, totalRevenue: 60, conversionRate: 0.6667 });
    const orders = await eventually(
      () => env.db.collection(COLLECTIONS.shoppingOrders).find({ livestreamId: streamId }).toArray(),
      (docs) => docs.length === 2,
    );
    expect(orders.map((o) => [o['buyerId'], o['total'], o['status']]).sort()).toEqual(
      [
        [buyer1Id, 40, 'paid'],
        [buyer2Id, 20, 'paid'],
      ].sort(),
    );
  });

  it('a viewer with no coins cannot move the analytics, over the socket or HTTP, on either node', async () => {
    const { streamId, host } = await shop(50);
    const broke = uid('broke');
    const onA = await on(0, broke);
    const onB = await on(1, broke);
    const token = await makeToken({ sub: broke });
    const before = await ok<Stats>(host, 'shopping:stats', { livestreamId: streamId });
    expect(before).toMatchObject({ totalOrders: 0, totalRevenue: 0, uniqueBuyers: 0 });
    const refusals: Array<string | undefined> = [];
    for (let i = 0; i < ORDERS_PER_MINUTE; i++) {
      const body = { productId: 'mug', quantity: 100, idempotencyKey: uid('fake') };
      if (i % 2 === 0) refusals.push(errorCode(await (i % 4 === 0 ? onA : onB).request('shopping:order', { livestreamId: streamId, ...body })));
      else refusals.push(httpErrorCode(await http(env.gateways[i % 4 === 1 ? 0 : 1]!, 'POST', `/api/live-shopping/${streamId}/orders`, { token, body })));
    }
    expect(refusals).toEqual(Array(ORDERS_PER_MINUTE).fill('insufficient_funds'));
    // The old attack: a client-sent total, with decimals, is refused outright.
    const fake = await http(env.gateways[0]!, 'POST', `/api/live-shopping/${streamId}/orders`, {
      token,
      body: { orderId: 'o-1', total: 1_000_000.123 },
    });
    expect([fake.status, httpErrorCode(fake)]).toEqual([422, 'validation_failed']);
    // Past the per-viewer limit (cluster-wide): 429, still nothing counted.
    const limited = await http(env.gateways[1]!, 'POST', `/api/live-shopping/${streamId}/orders`, {
      token,
      body: { productId: 'mug', idempotencyKey: uid('fake') },
    });
    expect([limited.status, httpErrorCode(limited)]).toEqual([429, 'rate_limited']);
    expect(await ok(host, 'shopping:stats', { livestreamId: streamId })).toEqual(before);
    expect(await balanceOf(onA)).toBe(0);
    expect(await env.db.collection(COLLECTIONS.shoppingOrders).countDocuments({ livestreamId: streamId })).toBe(0);
  });

  it('a paid order counts once under concurrent retries over two nodes, HTTP and socket; wallets equal their ledgers', async () => {
    const { streamId, hostId, host } = await shop(30);
    const buyerId = uid('buyer');
    await fund(env.admin, buyerId, 100);
    const onA = await on(0, buyerId);
    const onB = await on(1, buyerId);
    const token = await makeToken({ sub: buyerId });
    const body = { productId: 'mug', quantity: 3, idempotencyKey: uid('order') };
    const receipts = await Promise.all(
      Array.from({ length: 12 }, async (_, i): Promise<Receipt> => {
        if (i % 2 === 0) return ok<Receipt>(i % 4 === 0 ? onA : onB, 'shopping:order', { livestreamId: streamId, ...body });
        const res = await http<Receipt>(env.gateways[i % 4 === 1 ? 0 : 1]!, 'POST', `/api/live-shopping/${streamId}/orders`, { token, body });
        expect(res.status).toBe(201);
        return res.body;
      }),
    );
    expect(new Set(receipts.map((r) => r.orderId)).size).toBe(1);
    expect(new Set(receipts.map((r) => r.transferId)).size).toBe(1);
    expect(receipts.map((r) => [r.total, r.balance])).toEqual(Array(12).fill([90, 10]));
    expect(receipts.filter((r) => r.counted)).toHaveLength(1);
    // The same key for another purchase is refused, not replayed as if it were this one.
    expect(errorCode(await onA.request('shopping:order', { livestreamId: streamId, ...body, quantity: 1 }))).toBe('conflict');

    const stats = await ok<Stats>(host, 'shopping:stats', { livestreamId: streamId });
    expect(stats).toMatchObject({ totalOrders: 1, totalRevenue: 90, uniqueBuyers: 1 });
    expect(await balanceOf(onB)).toBe(10);
    expect(await balanceOf(host)).toBe(90);
    await eventually(
      () => env.db.collection(COLLECTIONS.shoppingOrders).countDocuments({ livestreamId: streamId }),
      (n) => n === 1,
    );
    await eventually(
      () => ledgerSum(buyerId),
      (sum) => sum === 10,
    );
    await eventually(
      () => ledgerSum(hostId),
      (sum) => sum === 90,
    );
    // The host was told once: a later order's frame comes after exactly one for this one.
    const other = uid('buyer');
    await fund(env.admin, other, 30);
    const otherClient = await on(1, other);
    const next = await ok<Receipt>(otherClient, 'shopping:order', { livestreamId: streamId, productId: 'mug', idempotencyKey: uid('order') });
    await host.waitFor((f) => f.event === 'shopping:order' && (f.data as { orderId: string }).orderId === next.orderId);
    expect(host.frames.filter((f) => f.event === 'shopping:order').map((f) => (f.data as { orderId: string }).orderId)).toEqual([
      receipts[0]!.orderId,
      next.orderId,
    ]);
  });
});
