/**
 * Live shopping: one session per stream (started by its host), pinned products broadcast to the
 * stream room, orders counted once each, and the session's counters (orders, revenue, conversion =
 * distinct buyers / distinct product-panel viewers). Redis holds the live state (shopping-*.lua);
 * MongoDB gets the session document and one document per order through the WriteQueue.
 */
import type { Redis } from 'ioredis';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import type { RoomSend } from '../../rooms/hub.js';
import { COLLECTIONS } from '../../store/collections.js';
import type { WriteQueue } from '../../store/write-queue.js';
import { livestreamRoom, moneyKeys } from '../wallets/keys.js';
import { shoppingOrderScript, shoppingPinScript } from '../wallets/lua/shopping.js';
import type { MoneyMetrics } from '../wallets/metrics.js';
import type { StreamDirectory } from '../wallets/stream-directory.js';

export interface PinnedProduct {
  productId: string;
  displayOrder: number;
  featuredAt: string;
}

export interface ShoppingStats {
  livestreamId: string;
  totalOrders: number;
  totalRevenue: number;
  uniqueBuyers: number;
  uniqueViewers: number;
  /** uniqueBuyers / uniqueViewers, 0..1, four decimals. */
  conversionRate: number;
}

export class ShoppingService {
  constructor(
    private readonly redis: Redis,
    private readonly streams: StreamDirectory,
    private readonly queue: WriteQueue,
    private readonly publish: RoomSend,
    private readonly metrics: MoneyMetrics,
  ) {}

  async start(userId: string, livestreamId: string): Promise<{ livestreamId: string; hostId: string; startedAt: string }> {
    const host = await this.streams.hostOf(livestreamId);
    if (!host) throw new AppError('not_found', `livestream "${livestreamId}" does not exist or has ended`);
    if (host !== userId) throw new AppError('forbidden', 'only the stream host can start a shopping session');
    const key = moneyKeys.shopping(livestreamId);
    const startedAt = new Date().toISOString();
    await this.redis.hsetnx(key, 'hostId', userId);
    await this.redis.hsetnx(key, 'startedAt', startedAt);
    const stored = await this.redis.hmget(key, 'hostId', 'startedAt');
    await this.queue.enqueue([
      {
        kind: 'upsert',
        collection: COLLECTIONS.shoppingSessions,
        id: livestreamId,
        set: { updatedAt: new Date() },
        setOnInsert: { livestreamId, hostId: userId, featuredProducts: [], totalRevenue: 0, totalOrders: 0, conversionRate: 0, createdAt: new Date() },
      },
    ]);
    return { livestreamId, hostId: stored[0] ?? userId, startedAt: stored[1] ?? startedAt };
  }

  async pin(userId: string, livestreamId: string, productId: string, displayOrder: number | undefined): Promise<PinnedProduct[]> {
    const entry = JSON.stringify({ displayOrder: displayOrder ?? 0, featuredAt: new Date().toISOString() });
    return this.changePins(userId, livestreamId, 'pin', productId, entry);
  }

  async unpin(userId: string, livestreamId: string, productId: string): Promise<PinnedProduct[]> {
    return this.changePins(userId, livestreamId, 'unpin', productId, '');
  }

  private async changePins(userId: string, livestreamId: string, op: 'pin' | 'unpin', productId: string, entry: string): Promise<PinnedProduct[]> {
    const reply = (await shoppingPinScript.run(this.redis, [moneyKeys.shopping(livestreamId)], [userId, op, productId, entry])) as string[];
    if (reply[0] === 'no_session') throw new AppError('not_found', 'no shopping session on this stream (shopping:start first)');
    if (reply[0] === 'forbidden') throw new AppError('forbidden', 'only the stream host can pin products');
    const version = Number(reply[1]);
    const products: PinnedProduct[] = [];
    for (let i = 2; i < reply.length; i += 2) {
      const e = JSON.parse(reply[i + 1]!) as { displayOrder: number; featuredAt: string };
      products.push({ productId: reply[i]!, displayOrder: e.displayOrder, featuredAt: e.featuredAt });
    }
    products.sort((a, b) => a.displayOrder - b.displayOrder || a.productId.localeCompare(b.productId));
    this.publish(livestreamRoom(livestreamId), 'shopping:pinned', { livestreamId, version, products });
    await this.queue.enqueue([
      {
        kind: 'upsert',
        collection: COLLECTIONS.shoppingSessions,
        id: livestreamId,
        set: { featuredProducts: products.map((p) => ({ ...p, featuredAt: new Date(p.featuredAt) })), updatedAt: new Date() },
      },
    ]);
    return products;
  }

  async view(userId: string, livestreamId: string): Promise<void> {
    await this.redis.pfadd(moneyKeys.shoppingViewers(livestreamId), userId);
  }

  async order(buyerId: string, livestreamId: string, orderId: string, total: number): Promise<ShoppingStats> {
    return (await this.recordOrder(buyerId, livestreamId, orderId, total)).stats;
  }

  /** Counts an order once per session (`counted` is false for an orderId already counted) and returns the counters. */
  async recordOrder(buyerId: string, livestreamId: string, orderId: string, total: number): Promise<{ counted: boolean; stats: ShoppingStats }> {
    const cents = Math.round(total * 100);
    const reply = (await shoppingOrderScript.run(
      this.redis,
      [
        moneyKeys.shopping(livestreamId),
        moneyKeys.shoppingOrders(livestreamId),
        moneyKeys.shoppingBuyers(livestreamId),
        moneyKeys.shoppingViewers(livestreamId),
      ],
      [orderId, cents, buyerId],
    )) as [string, number, number, number, number, number];
    if (reply[0] === 'no_session') throw new AppError('not_found', 'no shopping session on this stream');
    const stats = toStats(livestreamId, reply[1], reply[2], reply[3], reply[4]);
    if (reply[0] === 'ok') {
      this.metrics.shoppingOrders.inc();
      const host = (await this.redis.hget(moneyKeys.shopping(livestreamId), 'hostId')) ?? '';
      await this.queue.enqueue([
        {
          kind: 'insert',
          collection: COLLECTIONS.shoppingOrders,
          doc: { _id: `${livestreamId}:${orderId}`, livestreamId, orderId, buyerId, total: cents / 100, placedAt: new Date() },
        },
        {
          kind: 'upsert',
          collection: COLLECTIONS.shoppingSessions,
          id: livestreamId,
          set: { totalOrders: stats.totalOrders, totalRevenue: stats.totalRevenue, conversionRate: stats.conversionRate, updatedAt: new Date() },
        },
      ]);
      if (host) this.publish(userRoom(host), 'shopping:order', { livestreamId, orderId, buyerId, total: cents / 100, stats });
      this.publish(livestreamRoom(livestreamId), 'shopping:stats', stats);
    }
    return { counted: reply[0] === 'ok', stats };
  }

  /** The host who runs the stream's shopping session, or undefined when it has none. */
  async hostOf(livestreamId: string): Promise<string | undefined> {
    return (await this.redis.hget(moneyKeys.shopping(livestreamId), 'hostId')) ?? undefined;
  }

  async stats(livestreamId: string): Promise<ShoppingStats> {
    const [counters, buyers, viewers] = await Promise.all([
      this.redis.hmget(moneyKeys.shopping(livestreamId), 'orders', 'revenueCents', 'hostId'),
      this.redis.pfcount(moneyKeys.shoppingBuyers(livestreamId)),
      this.redis.pfcount(moneyKeys.shoppingViewers(livestreamId)),
    ]);
    if (!counters[2]) throw new AppError('not_found', 'no shopping session on this stream');
    return toStats(livestreamId, Number(counters[0] ?? 0), Number(counters[1] ?? 0), buyers, viewers);
  }
}

function toStats(livestreamId: string, orders: number, revenueCents: number, buyers: number, viewers: number): ShoppingStats {
  return {
    livestreamId,
    totalOrders: orders,
    totalRevenue: revenueCents / 100,
    uniqueBuyers: buyers,
    uniqueViewers: viewers,
    conversionRate: viewers > 0 ? Math.round((buyers / viewers) * 10_000) / 10_000 : 0,
  };
}
