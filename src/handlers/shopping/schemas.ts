/** The live-shopping domain's wire schemas (socket events and HTTP bodies share the fields). */
import { Type } from '@sinclair/typebox';
import { IdempotencyKey } from '../../kernel/schemas.js';
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
