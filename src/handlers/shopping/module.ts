/** The live shopping domain: a session per stream, pinned products with prices, paid orders, counters; HTTP: /api/live-shopping (routes.ts). */
import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { requireMoney, type MoneyServices } from '../wallets/services.js';
import { shoppingRoutes } from './routes.js';
import {
  OrderFields,
  PinFields,
  SHOPPING_EVENTS,
  ShoppingOrderAck,
  ShoppingPinsAck,
  ShoppingStartAck,
  ShoppingStatsSchema,
  ShoppingViewAck,
} from './schemas.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });
const Stream = Type.Object({ livestreamId: Id }, { additionalProperties: false });

export const shoppingModule =
  (services: MoneyServices | undefined): ModuleFactory =>
  () => {
    const shopping = () => requireMoney(services).shopping;
    return {
      name: 'shopping',
      emits: SHOPPING_EVENTS,
      routes: shoppingRoutes(shopping),
      handlers: {
        'shopping:start': defineHandler(Stream, (ctx, data) => shopping().start(ctx.session.userId, data.livestreamId), ShoppingStartAck),
        'shopping:pin': defineHandler(
          Type.Object({ livestreamId: Id, ...PinFields }, { additionalProperties: false }),
          async (ctx, data) => {
            const { livestreamId, ...pin } = data;
            return { products: await shopping().pin(ctx.session.userId, livestreamId, pin) };
          },
          ShoppingPinsAck,
        ),
        'shopping:unpin': defineHandler(
          Type.Object({ livestreamId: Id, productId: Id }, { additionalProperties: false }),
          async (ctx, data) => ({ products: await shopping().unpin(ctx.session.userId, data.livestreamId, data.productId) }),
          ShoppingPinsAck,
        ),
        'shopping:view': defineHandler(
          Stream,
          async (ctx, data) => {
            await shopping().view(ctx.session.userId, data.livestreamId);
            return { ok: true as const };
          },
          ShoppingViewAck,
        ),
        'shopping:order': defineHandler(
          Type.Object({ livestreamId: Id, ...OrderFields }, { additionalProperties: false }),
          (ctx, data) => shopping().order(ctx.session.userId, { ...data, quantity: data.quantity ?? 1 }),
          ShoppingOrderAck,
        ),
        'shopping:stats': defineHandler(Stream, (_ctx, data) => shopping().stats(data.livestreamId), ShoppingStatsSchema),
      },
    };
  };
