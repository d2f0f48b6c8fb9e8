/**
 * Gifts over HTTP (seed 001: /api/gifts*). The catalogue comes from the node's CatalogService cache
 * (the one gift:send validates against), and `POST /api/gifts/send` is GiftService.send, the
 * `gift:send` socket handler's call: same debit/credit script, same idempotency keys (a key used
 * over the socket is a replay over HTTP and the other way round), same coalesced `gift:sent`
 * frames to the stream room or the recipient's user room.
 */
import { Type } from '@sinclair/typebox';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { AppError } from '../../kernel/errors.js';
import { IdParams } from '../../kernel/schemas.js';
import type { MoneyStore } from '../wallets/money-store.js';
import { requireMoney, type MoneyServices } from '../wallets/services.js';
import { isGiftAvailable } from './model.js';
import { GiftSchema, GiftSend, GiftSendResult, PopularGift, giftBody, giftSendResult } from './schemas.js';

const tags = ['gifts'];
const POPULAR_WINDOW_MS = 7 * 86_400_000;
/** Popularity is an aggregate over a week of gift transactions: each node recomputes it at most this often. */
export const POPULAR_CACHE_MS = 30_000;

/** Units sent per gift over the last week, cached per node. */
class PopularCounts {
  private cached: { at: number; counts: Map<string, number> } | undefined;
  private pending: Promise<Map<string, number>> | undefined;

  constructor(private readonly store: () => MoneyStore) {}

  async get(): Promise<Map<string, number>> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < POPULAR_CACHE_MS) return this.cached.counts;
    this.pending ??= this.store()
      .giftSendCounts(now - POPULAR_WINDOW_MS)
      .then((rows) => {
        const counts = new Map(rows.map((r) => [r.giftId, r.quantity]));
        this.cached = { at: now, counts };
        return counts;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }
}

export function giftRoutes(services: MoneyServices | undefined): RouteDef[] {
  const money = (): MoneyServices => requireMoney(services);
  const popular = new PopularCounts(() => money().store);
  return [
    defineRoute(
      {
        method: 'get',
        path: '/api/gifts',
        operationId: 'listGifts',
        summary: 'The gift catalogue: active gifts in shop order',
        tags,
        auth: 'user',
        description:
          'Same list as the socket event `gift:catalog`; `available` says whether a gift can be sent now (limited editions outside their window cannot).',
        query: Type.Object({ ...PageQuery, category: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'only gifts of this category' })) }),
        response: Paginated(GiftSchema, 'GiftPage'),
      },
      ({ query }) => {
        const w = pageWindow(query);
        const now = new Date();
        const all = money()
          .catalog.list('gifts')
          .filter((g) => g.isActive && (query.category === undefined || g.category === query.category));
        return pageOf(
          all.slice(w.skip, w.skip + w.limit).map((g) => giftBody(g, now)),
          all.length,
          w,
        );
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/gifts/popular',
        operationId: 'listPopularGifts',
        summary: 'Gifts that can be sent now, most sent in the last 7 days first',
        tags,
        auth: 'user',
        description: `Ranked by units sent over the last 7 days (all senders; recomputed at most every ${POPULAR_CACHE_MS / 1000} s per node), then by the catalogue's \`popularity\`, then shop order.`,
        query: Type.Object(PageQuery),
        response: Paginated(PopularGift, 'PopularGiftPage'),
      },
      async ({ query }) => {
        const w = pageWindow(query);
        const now = new Date();
        const counts = await popular.get();
        const ranked = money()
          .catalog.list('gifts')
          .filter((g) => isGiftAvailable(g, now))
          .map((g) => ({ ...giftBody(g, now), sentLastWeek: Math.max(0, Math.trunc(counts.get(g._id) ?? 0)) }))
          .sort((a, b) => b.sentLastWeek - a.sentLastWeek || b.popularity - a.popularity || a.sortOrder - b.sortOrder);
        return pageOf(ranked.slice(w.skip, w.skip + w.limit), ranked.length, w);
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/gifts/:id',
        operationId: 'getGift',
        summary: 'One gift of the catalogue (also inactive ones, with available: false)',
        tags,
        auth: 'user',
        params: IdParams,
        response: GiftSchema,
        errors: ['not_found'],
      },
      ({ params }) => {
        const gift = money().catalog.gift(params.id);
        if (!gift) throw new AppError('not_found', `gift "${params.id}" does not exist`);
        return giftBody(gift, new Date());
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/gifts/send',
        operationId: 'sendGift',
        summary: 'Send a gift into a live stream (to its host) or to a user',
        tags,
        auth: 'user',
        description:
          "Same call as the socket event `gift:send`: debits quantity x price from the caller, credits the recipient's share, and the stream room (or the recipient's user room) receives the coalesced `gift:sent` frame. A retry with the same idempotencyKey (over HTTP or the socket) returns the first result and charges nothing. 404: unknown gift, stream or recipient; 409: gift inactive or outside its window; 400: a gift to yourself or a recipientId that is not the stream host (the socket's answer); 422 `insufficient_funds`: balance too low, nothing charged.",
        body: GiftSend,
        response: GiftSendResult,
        status: 201,
        errors: ['not_found', 'conflict', 'insufficient_funds'],
        links: { GetGift: { operationId: 'getGift', parameters: { id: '$response.body#/giftId' } } },
      },
      async ({ principal, body }) => giftSendResult(await money().gifts.send(principal.userId, body)),
    ),
  ];
}
