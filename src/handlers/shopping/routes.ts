/**
 * Live shopping over REST (`/api/live-shopping/*`, seed 001) on the socket side's ShoppingService.
 * A session belongs to one stream and is run by its host, so the session id is the stream id.
 * Pins reach the stream room as `shopping:pinned`; an order reaches the host as `shopping:order`
 * and the room as `shopping:stats`, exactly as with the socket events.
 */
import { Type } from '@sinclair/typebox';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { AppError } from '../../kernel/errors.js';
import { DateTime, Id, UserId, assertOwner } from '../../kernel/schemas.js';
import { StreamId } from '../livestream/schemas.js';
import { OrderFields, PinFields, PinnedProduct } from './schemas.js';
import type { ShoppingService } from './service.js';

const tags = ['live-shopping'];
const SessionParams = Type.Object({ sessionId: StreamId });

const ShoppingSession = Type.Object(
  {
    sessionId: Type.String({ description: 'the stream id (one session per stream)' }),
    livestreamId: Type.String(),
    hostId: Type.String(),
    startedAt: DateTime,
  },
  { $id: 'ShoppingSession', additionalProperties: false },
);
const ShoppingSessionCreate = Type.Object({ livestreamId: StreamId }, { $id: 'ShoppingSessionCreate', additionalProperties: false });
const ShoppingPins = Type.Object(
  { sessionId: Type.String(), products: Type.Array(PinnedProduct, { description: 'every pinned product, by displayOrder' }) },
  { $id: 'ShoppingPins', additionalProperties: false },
);
const PinProduct = Type.Object({ ...PinFields, productId: Id }, { $id: 'ShoppingPinProduct', additionalProperties: false });
const OrderInput = Type.Object(OrderFields, { $id: 'ShoppingOrderInput', additionalProperties: false });
const OrderReceipt = Type.Object(
  {
    sessionId: Type.String(),
    orderId: Type.String({ description: 'derived from (buyer, idempotencyKey)' }),
    buyerId: Type.String(),
    productId: Type.String(),
    quantity: Type.Integer({ minimum: 1 }),
    unitPrice: Type.Integer({ minimum: 1, description: 'coins per unit, the pinned price when the order was paid' }),
    total: Type.Integer({ minimum: 1, description: "coins taken from the buyer's wallet and given to the host" }),
    transferId: Type.String({ description: 'the wallet transfer that paid the order' }),
    balance: Type.Integer({ minimum: 0, description: "the buyer's balance right after paying" }),
    counted: Type.Boolean({ description: 'false on a retry with the same idempotencyKey (nothing moved again)' }),
  },
  { $id: 'ShoppingOrderReceipt', additionalProperties: false },
);
const ConfirmInput = Type.Object(
  {
    buyerId: UserId,
    productId: Id,
    quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1 })),
    externalOrderId: { ...Id, description: "the backend's order id: confirming it again counts nothing" },
  },
  { $id: 'ShoppingOrderConfirmInput', additionalProperties: false },
);
const ConfirmReceipt = Type.Object(
  {
    sessionId: Type.String(),
    orderId: Type.String({ description: 'derived from (session, externalOrderId)' }),
    buyerId: Type.String(),
    productId: Type.String(),
    quantity: Type.Integer({ minimum: 1 }),
    unitPrice: Type.Integer({ minimum: 1, description: 'the pinned price, whole coins' }),
    total: Type.Integer({ minimum: 1 }),
    status: Type.Literal('confirmed'),
    counted: Type.Boolean({ description: 'false when this externalOrderId was confirmed before (nothing changed)' }),
  },
  { $id: 'ShoppingOrderConfirmation', additionalProperties: false },
);
const Analytics = Type.Object(
  {
    sessionId: Type.String(),
    livestreamId: Type.String(),
    totalOrders: Type.Integer({ minimum: 0 }),
    totalRevenue: Type.Integer({ minimum: 0, description: 'coins paid by the counted (paid) orders' }),
    uniqueBuyers: Type.Integer({ minimum: 0 }),
    uniqueViewers: Type.Integer({ minimum: 0, description: 'distinct users who opened the product panel (shopping:view) or bought' }),
    conversionRate: Type.Number({ minimum: 0, maximum: 1, description: 'uniqueBuyers / uniqueViewers, four decimals' }),
  },
  { $id: 'ShoppingAnalytics', additionalProperties: false },
);

const sessionLinks = {
  PinProduct: { operationId: 'pinShoppingProduct', parameters: { sessionId: '$response.body#/sessionId' } },
  GetAnalytics: { operationId: 'getShoppingAnalytics', parameters: { sessionId: '$response.body#/sessionId' } },
};

export function shoppingRoutes(shopping: () => ShoppingService): RouteDef[] {
  return [
    defineRoute(
      {
        method: 'post',
        path: '/api/live-shopping/session',
        operationId: 'createShoppingSession',
        tags,
        auth: 'user',
        body: ShoppingSessionCreate,
        response: ShoppingSession,
        status: 201,
        summary: 'Open the shopping session of your live stream (again: the same session); same as shopping:start',
        description: 'Stream not live: 404; not your stream: 403. The session id is the stream id.',
        errors: ['not_found', 'unavailable'],
        links: sessionLinks,
      },
      async ({ principal, body }) => {
        const session = await shopping().start(principal.userId, body.livestreamId);
        return { sessionId: session.livestreamId, ...session };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/live-shopping/:sessionId/pin-product',
        operationId: 'pinShoppingProduct',
        tags,
        auth: 'user',
        params: SessionParams,
        body: PinProduct,
        response: ShoppingPins,
        summary: 'Pin a product (session owner only); the stream room gets shopping:pinned with the whole list',
        description: 'Same as shopping:pin. Pinning a pinned product again updates its displayOrder. No session: 404; not the owner: 403.',
        errors: ['not_found', 'unavailable'],
      },
      async ({ principal, params, body }) => ({
        sessionId: params.sessionId,
        products: await shopping().pin(principal.userId, params.sessionId, body),
      }),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/live-shopping/:sessionId/orders',
        operationId: 'createShoppingOrder',
        tags,
        auth: 'user',
        params: SessionParams,
        body: OrderInput,
        response: OrderReceipt,
        status: 201,
        summary: "Buy a pinned product with coins from the caller's wallet; the host gets shopping:order, the room shopping:stats",
        description:
          "Same as shopping:order. The server prices the order (pinned price x quantity, whole coins) and pays the host from the caller's wallet (one exact debit per idempotencyKey; balance too low: 422 `insufficient_funds`, nothing counted). Only paid orders count in the analytics. A retry with the key answers 201 with the same receipt and `counted: false`; the same key for another product or quantity: 409. Product not pinned / no session: 404; own session: 422; more than SHOPPING_ORDERS_PER_MINUTE new orders a minute in one stream: 429.",
        errors: ['not_found', 'unavailable', 'insufficient_funds', 'conflict', 'rate_limited'],
      },
      async ({ principal, params, body }) => {
        const {
          stats: _stats,
          livestreamId,
          ...receipt
        } = await shopping().order(principal.userId, {
          livestreamId: params.sessionId,
          productId: body.productId,
          quantity: body.quantity ?? 1,
          idempotencyKey: body.idempotencyKey,
        });
        return { sessionId: livestreamId, ...receipt };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/server/live-shopping/:sessionId/orders',
        operationId: 'serverConfirmShoppingOrder',
        tags: ['server'],
        auth: 'service',
        rateLimit: false,
        params: SessionParams,
        body: ConfirmInput,
        response: ConfirmReceipt,
        status: 201,
        summary: 'Backend: confirm an order paid outside the wallet; it counts like a paid one',
        description:
          'For orders the backend was paid for itself (card, store). Priced by the server from the pinned product (pinned price x quantity, whole coins), counted once per externalOrderId (a repeat answers 201 with `counted: false`), then pushed to the host (`shopping:order`) and the room (`shopping:stats`). Product not pinned / no session: 404.',
        errors: ['not_found', 'unavailable', 'conflict'],
      },
      async ({ params, body }) => {
        const {
          stats: _stats,
          livestreamId,
          ...receipt
        } = await shopping().confirm({
          livestreamId: params.sessionId,
          buyerId: body.buyerId,
          productId: body.productId,
          quantity: body.quantity ?? 1,
          externalOrderId: body.externalOrderId,
        });
        return { sessionId: livestreamId, ...receipt };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/live-shopping/:sessionId/analytics',
        operationId: 'getShoppingAnalytics',
        tags,
        auth: 'user',
        params: SessionParams,
        response: Analytics,
        summary: "The session's counters (session owner or admin)",
        description: 'Orders, revenue, distinct buyers and product-panel viewers, conversion. No session: 404; not the owner: 403.',
        errors: ['not_found', 'unavailable'],
      },
      async ({ principal, params }) => {
        const host = await shopping().hostOf(params.sessionId);
        if (!host) throw new AppError('not_found', `no shopping session on livestream ${params.sessionId}`);
        assertOwner(host, principal, 'this shopping session');
        return { sessionId: params.sessionId, ...(await shopping().stats(params.sessionId)) };
      },
    ),
  ];
}
