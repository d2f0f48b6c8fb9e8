/** Live shopping: a session per stream, pins broadcast to the room, orders counted once, counters. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COLLECTIONS } from '../../src/store/collections.js';
import { connect, createLivestream, errorCode, eventually, joinStream, ok, startMoneyEnv, uid, type MoneyEnv } from './support.js';

describe('live shopping', () => {
  let env: MoneyEnv;
  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 1);
  });
  afterAll(async () => {
    await env.close();
  });

  it('pins products, counts orders once and keeps exact counters', async () => {
    const gw = env.gateways[0]!;
    const hostId = uid('host');
    const livestreamId = uid('stream');
    await createLivestream(env, livestreamId, hostId);
    const host = await connect(gw, hostId);
    const buyer1 = await connect(gw, uid('buyer'));
    const buyer2 = await connect(gw, uid('buyer'));
    const browser = await connect(gw, uid('viewer'));
    await joinStream(browser, livestreamId);

    expect(errorCode(await buyer1.request('shopping:start', { livestreamId: livestreamId }))).toBe('forbidden');
    expect(errorCode(await host.request('shopping:pin', { livestreamId: livestreamId, productId: 'p1' }))).toBe('not_found');
    await ok(host, 'shopping:start', { livestreamId: livestreamId });
    expect(errorCode(await buyer1.request('shopping:pin', { livestreamId: livestreamId, productId: 'p1' }))).toBe('forbidden');

    const pinned = await ok<{ products: Array<{ productId: string }> }>(host, 'shopping:pin', { livestreamId: livestreamId, productId: 'p2', displayOrder: 2 });
    expect(pinned.products.map((p) => p.productId)).toEqual(['p2']);
    const both = await ok<{ products: Array<{ productId: string }> }>(host, 'shopping:pin', { livestreamId: livestreamId, productId: 'p1', displayOrder: 1 });
    expect(both.products.map((p) => p.productId)).toEqual(['p1', 'p2']);
    const left = await ok<{ products: Array<{ productId: string }> }>(host, 'shopping:unpin', { livestreamId: livestreamId, productId: 'p2' });
    expect(left.products.map((p) => p.productId)).toEqual(['p1']);
    // The room saw every change, each with the whole list and a growing version.
    const pinnedFrame = await browser.waitFor((f) => f.event === 'shopping:pinned' && (f.data as { version: number }).version === 3);
    expect(pinnedFrame.data).toMatchObject({ livestreamId: livestreamId, products: [{ productId: 'p1', displayOrder: 1 }] });
    expect(browser.frames.filter((f) => f.event === 'shopping:pinned').map((f) => (f.data as { version: number }).version)).toEqual([1, 2, 3]);

    for (const c of [buyer1, buyer2, browser]) await ok(c, 'shopping:view', { livestreamId: livestreamId });
    await ok(buyer1, 'shopping:order', { livestreamId: livestreamId, orderId: 'o-1', total: 19.99 });
    const replay = await ok(buyer1, 'shopping:order', { livestreamId: livestreamId, orderId: 'o-1', total: 19.99 });
    const stats = await ok(buyer2, 'shopping:order', { livestreamId: livestreamId, orderId: 'o-2', total: 5.01 });
    expect(replay).toMatchObject({ totalOrders: 1, totalRevenue: 19.99 });
    expect(stats).toMatchObject({ totalOrders: 2, totalRevenue: 25, uniqueBuyers: 2, uniqueViewers: 3, conversionRate: 0.6667 });
    expect(await ok(host, 'shopping:stats', { livestreamId: livestreamId })).toEqual(stats);
    expect((await browser.waitFor((f) => f.event === 'shopping:stats' && (f.data as { totalOrders: number }).totalOrders === 2)).data).toEqual(stats);
    expect((await host.waitFor((f) => f.event === 'shopping:order' && (f.data as { orderId: string }).orderId === 'o-2')).data).toMatchObject({ total: 5.01 });

    const session = await eventually(
      () => env.db.collection(COLLECTIONS.shoppingSessions).findOne({ _id: livestreamId as unknown as never }),
      (d) => d?.['totalOrders'] === 2,
    );
    expect(session).toMatchObject({ hostId, totalOrders: 2, totalRevenue: 25, conversionRate: 0.6667 });
    expect((session?.['featuredProducts'] as Array<{ productId: string }>).map((p) => p.productId)).toEqual(['p1']);
    await eventually(
      () => env.db.collection(COLLECTIONS.shoppingOrders).countDocuments({ livestreamId: livestreamId }),
      (n) => n === 2,
    );
    for (const c of [host, buyer1, buyer2, browser]) await c.close();
  });
});
