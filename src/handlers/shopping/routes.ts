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
import { DateTime, Id, assertOwner } from '../../kernel/schemas.js';
import { StreamId } from '../livestream/schemas.js';
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
const PinnedProduct = Type.Object(
  { productId: Type.String(), displayOrder: Type.Integer({ minimum: 0 }), featuredAt: DateTime },
  { $id: 'PinnedProduct', additionalProperties: false },
);
const ShoppingPins = Type.Object(
  { sessionId: Type.String(), products: Type.Array(PinnedProduct, { description: 'every pinned product, by displayOrder' }) },
  { $id: 'ShoppingPins', additionalProperties: false },
);
const PinProduct = Type.Object(
  { productId: Id, displayOrder: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })) },
  { $id: 'ShoppingPinProduct', additionalProperties: false },
);
const OrderInput = Type.Object(
  {
    orderId: { ...Id, description: "the shop's order id: counted once per session" },
    total: Type.Number({ minimum: 0, maximum: 1_000_000, description: 'in the shop currency, two decimals' }),
  },
  { $id: 'ShoppingOrderInput', additionalProperties: false },
);
const OrderReceipt = Type.Object(
  {
    sessionId: Type.String(),
    orderId: Type.String(),
    buyerId: Type.String(),
    total: Type.Number({ minimum: 0 }),
    counted: Type.Boolean({ description: 'false when this orderId was already counted (then nothing changed)' }),
  },
  { $id: 'ShoppingOrderReceipt', additionalProperties: false },
);
const Analytics = Type.Object(
  {
    sessionId: Type.String(),
    livestreamId: Type.String(),
    totalOrders: Type.Integer({ minimum: 0 }),
    totalRevenue: Type.Number({ minimum: 0 }),
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
        products: await shopping().pin(principal.userId, params.sessionId, body.productId, body.displayOrder),
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
        summary: 'Record a live order by the caller; the host gets shopping:order, the room shopping:stats',
        description: 'Same as shopping:order: an orderId counts once per session (a repeat answers counted: false). No session: 404.',
        errors: ['not_found', 'unavailable'],
      },
      async ({ principal, params, body }) => {
        const { counted } = await shopping().recordOrder(principal.userId, params.sessionId, body.orderId, body.total);
        return { sessionId: params.sessionId, orderId: body.orderId, buyerId: principal.userId, total: Math.round(body.total * 100) / 100, counted };
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
