/**
 * Live shopping: one session per stream (started by its host), pinned products with server-known
 * prices (whole coins, set by the host when pinning) broadcast to the stream room, paid orders, and
 * the session's counters (orders, revenue in coins, conversion = distinct buyers / distinct
 * product-panel viewers). An order names a pinned product and a quantity; the server prices it,
 * and it counts only once its coins have moved from the buyer's wallet to the host's (one exact
 * debit per (buyer, idempotencyKey): WalletService.pay, the transfer script). Nothing a client
 * sends as a total is trusted. Redis holds the live state (lua.ts); MongoDB gets the session
 * document and one document per paid order through the WriteQueue.
 */
import type { Redis } from 'ioredis';
import { RateLimitError } from '../../gateway/http/guard.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { idempotentId } from '../../kernel/schemas.js';
import type { RoomSend } from '../../rooms/hub.js';
import { COLLECTIONS } from '../../store/collections.js';
import type { WriteQueue } from '../../store/write-queue.js';
import { livestreamRoom, moneyKeys } from '../wallets/keys.js';
import type { TransferRecord } from '../wallets/ledger.js';
import type { MoneyMetrics } from '../wallets/metrics.js';
import { MAX_TRANSFER, type WalletService } from '../wallets/service.js';
import type { StreamDirectory } from '../wallets/stream-directory.js';
import { shoppingOrderScript, shoppingPinScript, shoppingQuoteScript } from './lua.js';

export interface PinnedProduct {
  productId: string;
  displayOrder: number;
  featuredAt: string;
  /** Whole coins per unit, set by the host; what an order of it costs. */
  price: number;
  name: string | null;
}

/** A new pin: what the host fixes about a product. */
export interface PinInput {
  productId: string;
  price: number;
  displayOrder?: number | undefined;
  name?: string | undefined;
}

export interface OrderInput {
  livestreamId: string;
  productId: string;
  quantity: number;
  idempotencyKey: string;
}

/** The answer to an order, first time and on every retry with its key. */
export interface OrderReceipt {
  livestreamId: string;
  orderId: string;
  buyerId: string;
  productId: string;
  quantity: number;
  unitPrice: number;
  /** Coins taken from the buyer's wallet (= unitPrice * quantity at the time of the order). */
  total: number;
  /** The wallet transfer that paid it (ledger rows `<transferId>:sent` / `:received`). */
  transferId: string;
  /** The buyer's balance right after paying. */
  balance: number;
  /** false on a retry: the order was counted by the first request. */
  counted: boolean;
  stats: ShoppingStats;
}

const RATE_WINDOW_MS = 60_000;
const MAX_QUANTITY = 100;

export interface ShoppingStats {
  livestreamId: string;
  totalOrders: number;
  /** Coins paid by the counted orders. */
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
    private readonly wallets: WalletService,
    private readonly ordersPerMinute: number,
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

  async pin(userId: string, livestreamId: string, input: PinInput): Promise<PinnedProduct[]> {
    if (!Number.isSafeInteger(input.price) || input.price < 1 || input.price > MAX_TRANSFER)
      throw new AppError('validation_failed', `price must be a whole number of coins from 1 to ${MAX_TRANSFER}`);
    const entry = JSON.stringify({ displayOrder: input.displayOrder ?? 0, featuredAt: new Date().toISOString(), price: input.price, name: input.name ?? null });
    return this.changePins(userId, livestreamId, 'pin', input.productId, entry);
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
      const e = JSON.parse(reply[i + 1]!) as { displayOrder: number; featuredAt: string; price?: number; name?: string | null };
      // A pin made before prices existed cannot be ordered (price 0) until the host pins it again.
      products.push({ productId: reply[i]!, displayOrder: e.displayOrder, featuredAt: e.featuredAt, price: e.price ?? 0, name: e.name ?? null });
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

  /**
   * Places a paid order: prices the pinned product (server-side), pays the host from the buyer's
   * wallet (exact debit, once per (buyer, idempotencyKey)), then counts the order once and tells
   * the host and the room. A retry with the key answers the same receipt (`counted: false`) and
   * moves nothing; one that names another stream, product or quantity is a 409 `conflict`.
   */
  async order(buyerId: string, input: OrderInput): Promise<OrderReceipt> {
    const { livestreamId, productId, quantity } = input;
    if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY)
      throw new AppError('validation_failed', `quantity must be a whole number from 1 to ${MAX_QUANTITY}`);
    const orderId = idempotentId('order', buyerId, 'shop_order', input.idempotencyKey);
    const note = `shopping order ${orderId}: ${quantity} x ${productId} on ${livestreamId}`;
    let hostId = '';
    const { record } = await this.wallets.pay(buyerId, `shop_order:${orderId}`, async () => {
      const reply = (await shoppingQuoteScript.run(
        this.redis,
        [moneyKeys.shopping(livestreamId), moneyKeys.shoppingRate(livestreamId, buyerId)],
        [productId, this.ordersPerMinute, RATE_WINDOW_MS, orderId],
      )) as string[];
      if (reply[0] === 'no_session') throw new AppError('not_found', 'no shopping session on this stream');
      if (reply[0] === 'not_pinned') throw new AppError('not_found', `product "${productId}" is not pinned in this shopping session`);
      if (reply[0] === 'rate_limited') throw new RateLimitError(Number(reply[1]));
      hostId = reply[1]!;
      const price = Number((JSON.parse(reply[2]!) as { price?: number }).price ?? 0);
      if (!Number.isSafeInteger(price) || price < 1) throw new AppError('conflict', `product "${productId}" has no price; the host must pin it again`);
      if (hostId === buyerId) throw new AppError('validation_failed', 'you cannot order from your own shopping session');
      const amount = price * quantity;
      if (amount > MAX_TRANSFER) throw new AppError('validation_failed', `an order costs at most ${MAX_TRANSFER} coins`);
      return { payeeId: hostId, amount, note };
    });
    // A replay: the first payment must be this order (same stream, product, quantity), paid to the session's host.
    const host = hostId || ((await this.hostOf(livestreamId)) ?? '');
    if (record.note !== note || record.recipientId !== host) throw new AppError('conflict', 'this idempotencyKey already names a different payment');
    const counted = await this.count(livestreamId, orderId, buyerId, productId, quantity, record);
    return {
      livestreamId,
      orderId,
      buyerId,
      productId,
      quantity,
      unitPrice: record.amount / quantity,
      total: record.amount,
      transferId: record.transferId,
      balance: record.senderBalanceAfter,
      counted: counted.counted,
      stats: counted.stats,
    };
  }

  /** Counts a paid order once per session (`counted` false when it already was) and, the first time, records and announces it. */
  private async count(
    livestreamId: string,
    orderId: string,
    buyerId: string,
    productId: string,
    quantity: number,
    paid: TransferRecord,
  ): Promise<{ counted: boolean; stats: ShoppingStats }> {
    const reply = (await shoppingOrderScript.run(
      this.redis,
      [
        moneyKeys.shopping(livestreamId),
        moneyKeys.shoppingOrders(livestreamId),
        moneyKeys.shoppingBuyers(livestreamId),
        moneyKeys.shoppingViewers(livestreamId),
      ],
      [orderId, paid.amount, buyerId],
    )) as [string, number, number, number, number, number];
    if (reply[0] === 'no_session') throw new AppError('not_found', 'no shopping session on this stream');
    const stats = toStats(livestreamId, reply[1], reply[2], reply[3], reply[4]);
    if (reply[0] === 'ok') {
      this.metrics.shoppingOrders.inc();
      const total = paid.amount;
      await this.queue.enqueue([
        {
          kind: 'insert',
          collection: COLLECTIONS.shoppingOrders,
          doc: {
            _id: `${livestreamId}:${orderId}`,
            livestreamId,
            orderId,
            buyerId,
            productId,
            quantity,
            unitPrice: total / quantity,
            total,
            currency: 'coins',
            status: 'paid',
            transferId: paid.transferId,
            placedAt: new Date(paid.ts),
          },
        },
        {
          kind: 'upsert',
          collection: COLLECTIONS.shoppingSessions,
          id: livestreamId,
          set: { totalOrders: stats.totalOrders, totalRevenue: stats.totalRevenue, conversionRate: stats.conversionRate, updatedAt: new Date() },
        },
      ]);
      this.publish(userRoom(paid.recipientId), 'shopping:order', { livestreamId, orderId, buyerId, productId, quantity, total, stats });
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
      this.redis.hmget(moneyKeys.shopping(livestreamId), 'orders', 'revenueCoins', 'hostId'),
      this.redis.pfcount(moneyKeys.shoppingBuyers(livestreamId)),
      this.redis.pfcount(moneyKeys.shoppingViewers(livestreamId)),
    ]);
    if (!counters[2]) throw new AppError('not_found', 'no shopping session on this stream');
    return toStats(livestreamId, Number(counters[0] ?? 0), Number(counters[1] ?? 0), buyers, viewers);
  }
}

function toStats(livestreamId: string, orders: number, revenueCoins: number, buyers: number, viewers: number): ShoppingStats {
  return {
    livestreamId,
    totalOrders: orders,
    totalRevenue: revenueCoins,
    uniqueBuyers: buyers,
    uniqueViewers: viewers,
    conversionRate: viewers > 0 ? Math.round((buyers / viewers) * 10_000) / 10_000 : 0,
  };
}
