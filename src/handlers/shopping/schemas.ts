/** The live-shopping domain's wire schemas (socket events and HTTP bodies share the fields). */
import { Type } from '@sinclair/typebox';
import type { EmittedEvents } from '../../gateway/handler.js';
import { DateTime, IdempotencyKey, Nullable } from '../../kernel/schemas.js';
import { MAX_TRANSFER } from '../wallets/service.js';

const ProductId = Type.String({ minLength: 1, maxLength: 128 });

/** What the host fixes when pinning a product: its price is the server's, orders cannot change it. */
export const PinFields = {
  productId: ProductId,
  price: Type.Integer({ minimum: 1, maximum: MAX_TRANSFER, description: 'whole coins per unit: what an order of this product costs' }),
  displayOrder: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
};

/** An order names a pinned product and a quantity; the server prices it. No total is accepted. */
export const OrderFields = {
  productId: ProductId,
  quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1 })),
  idempotencyKey: IdempotencyKey,
};

/** A pinned product as the stream room and the host see it. */
export const PinnedProduct = Type.Object(
  {
    productId: Type.String(),
    displayOrder: Type.Integer({ minimum: 0 }),
    featuredAt: DateTime,
    price: Type.Integer({ minimum: 0, description: 'whole coins per unit (0: pinned before prices existed; pin it again to sell it)' }),
    name: Nullable(Type.String()),
  },
  { $id: 'PinnedProduct', additionalProperties: false },
);

const strict = { additionalProperties: false } as const;

export const ShoppingStatsSchema = Type.Object(
  {
    livestreamId: Type.String(),
    totalOrders: Type.Integer({ minimum: 0 }),
    totalRevenue: Type.Integer({ minimum: 0, description: 'coins paid by the counted orders' }),
    uniqueBuyers: Type.Integer({ minimum: 0 }),
    uniqueViewers: Type.Integer({ minimum: 0 }),
    conversionRate: Type.Number({ minimum: 0, maximum: 1, description: 'uniqueBuyers / uniqueViewers, four decimals' }),
  },
  { $id: 'ShoppingStats', ...strict },
);

// Acks of the socket events.
export const ShoppingStartAck = Type.Object({ livestreamId: Type.String(), hostId: Type.String(), startedAt: DateTime }, strict);
export const ShoppingPinsAck = Type.Object({ products: Type.Array(PinnedProduct, { description: 'every pinned product, by displayOrder' }) }, strict);
export const ShoppingViewAck = Type.Object({ ok: Type.Literal(true) }, strict);
export const ShoppingOrderAck = Type.Object(
  {
    livestreamId: Type.String(),
    orderId: Type.String({ description: 'derived from (buyer, idempotencyKey)' }),
    buyerId: Type.String(),
    productId: Type.String(),
    quantity: Type.Integer({ minimum: 1 }),
    unitPrice: Type.Integer({ minimum: 1 }),
    total: Type.Integer({ minimum: 1, description: "coins taken from the buyer's wallet and given to the host" }),
    transferId: Type.String(),
    balance: Type.Integer({ minimum: 0, description: "the buyer's balance right after paying" }),
    counted: Type.Boolean({ description: 'false on a retry with the same idempotencyKey (nothing moved again)' }),
    stats: ShoppingStatsSchema,
  },
  strict,
);

export const SHOPPING_EVENTS: EmittedEvents = {
  'shopping:pinned': {
    schema: Type.Object(
      { livestreamId: Type.String(), version: Type.Integer({ description: 'grows with every pin change' }), products: Type.Array(PinnedProduct) },
      strict,
    ),
    to: 'room',
    description: "The stream's pinned products changed: the whole list (stream room live:<livestreamId>).",
  },
  'shopping:order': {
    schema: Type.Object(
      {
        livestreamId: Type.String(),
        orderId: Type.String(),
        buyerId: Type.String(),
        productId: Type.String(),
        quantity: Type.Integer({ minimum: 1 }),
        total: Type.Integer({ minimum: 1 }),
        stats: ShoppingStatsSchema,
      },
      strict,
    ),
    to: 'user',
    description: 'To the host: an order was paid (or confirmed by the backend) and counted.',
  },
  'shopping:stats': { schema: ShoppingStatsSchema, to: 'room', description: "The session's counters after a counted order (stream room)." },
};
