/** The payments domain's HTTP models (TypeBox, named components in /openapi.json) and their views. */
import { Type, type Static } from '@sinclair/typebox';
import type { EmittedEvents } from '../../gateway/handler.js';
import { DateTime, IdempotencyKey, Nullable, iso } from '../../kernel/schemas.js';
import { WITHDRAWAL, type CoinPackageDoc, type PaymentDoc, type PayoutDoc } from './service.js';

export const CreditStatusSchema = Type.Union([Type.Literal('credited'), Type.Literal('awaiting_wallet_service'), Type.Literal('not_applicable')], {
  description: 'awaiting_wallet_service: no wallet ledger on this node yet; nothing was credited',
});

const Coins = Type.Integer({ minimum: 0 });

export const Payment = Type.Object(
  {
    id: Type.String(),
    userId: Type.String(),
    provider: Type.String(),
    packageId: Type.String(),
    coins: Coins,
    amountMinor: Type.Integer({ minimum: 0, description: 'price in minor units (cents)' }),
    currency: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    providerRef: Nullable(Type.String()),
    failureReason: Nullable(Type.String()),
    creditStatus: CreditStatusSchema,
    transactionId: Nullable(Type.String()),
    balanceAfter: Nullable(Type.Integer({ description: 'the wallet balance right after this payment was credited; null when it was not credited' })),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Payment', additionalProperties: false },
);

export const paymentView = (d: PaymentDoc): Static<typeof Payment> => ({
  id: d._id,
  userId: d.userId,
  provider: d.provider,
  packageId: d.packageId,
  coins: d.coins,
  amountMinor: d.amountMinor,
  currency: d.currency,
  status: d.status,
  providerRef: d.providerRef,
  failureReason: d.failureReason,
  creditStatus: d.creditStatus,
  transactionId: d.transactionId,
  balanceAfter: d.balanceAfter ?? null,
  createdAt: iso(d.createdAt),
  updatedAt: iso(d.updatedAt),
});

export const CoinPackage = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    coins: Coins,
    bonusCoins: Coins,
    totalCoins: Type.Integer({ minimum: 0, description: 'coins + bonusCoins: what a purchase credits' }),
    price: Type.Number({ minimum: 0 }),
    currency: Type.String(),
    isPopular: Type.Boolean(),
    isBestValue: Type.Boolean(),
    sortOrder: Type.Integer(),
  },
  { $id: 'CoinPackage', additionalProperties: false },
);

const int = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : fallback);

export const coinPackageView = (d: CoinPackageDoc): Static<typeof CoinPackage> => {
  const coins = Math.max(0, int(d.coins));
  const bonusCoins = Math.max(0, int(d.bonusCoins));
  return {
    id: d._id,
    name: String(d.name ?? d._id),
    coins,
    bonusCoins,
    totalCoins: coins + bonusCoins,
    price: typeof d.price === 'number' && d.price >= 0 ? d.price : 0,
    currency: d.currency ?? 'USD',
    isPopular: d.isPopular === true,
    isBestValue: d.isBestValue === true,
    sortOrder: int(d.sortOrder),
  };
};

export const PurchaseInput = Type.Object(
  {
    packageId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' }),
    provider: Type.Optional(
      Type.String({ pattern: '^[a-z0-9_-]{1,32}$', default: 'dev', description: 'payment provider id (GET /api/payments/providers); default dev' }),
    ),
    idempotencyKey: IdempotencyKey,
  },
  { $id: 'CoinPurchaseInput', additionalProperties: false },
);

export const WithdrawInput = Type.Object(
  {
    amount: Type.Integer({
      minimum: WITHDRAWAL.minCoins,
      maximum: WITHDRAWAL.maxCoins,
      description: `coins to pay out (${WITHDRAWAL.minCoins}-${WITHDRAWAL.maxCoins}); only earned coins not yet withdrawn`,
    }),
    provider: Type.Optional(Type.String({ pattern: '^[a-z0-9_-]{1,32}$', default: 'dev', description: 'payout provider id; default dev' })),
    idempotencyKey: IdempotencyKey,
  },
  { $id: 'WithdrawInput', additionalProperties: false },
);

export const Payout = Type.Object(
  {
    id: Type.String(),
    userId: Type.String(),
    provider: Type.String(),
    amount: Type.Integer({ minimum: 1, description: 'coins taken from the wallet' }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')], {
      description: 'failed: the provider refused; the coins are back in the wallet',
    }),
    providerRef: Nullable(Type.String()),
    failureReason: Nullable(Type.String()),
    transactionId: Nullable(Type.String({ description: 'the ledger row of the debit' })),
    reversalTransactionId: Nullable(Type.String({ description: 'the ledger row that returned the coins of a failed payout' })),
    balance: Nullable(Type.Integer({ description: 'the wallet balance after the payout (or after the coins came back)' })),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Payout', additionalProperties: false },
);

export const payoutView = (d: PayoutDoc): Static<typeof Payout> => ({
  id: d._id,
  userId: d.userId,
  provider: d.provider,
  amount: d.coins,
  status: d.status,
  providerRef: d.providerRef,
  failureReason: d.failureReason,
  transactionId: d.transactionId,
  reversalTransactionId: d.reversalTransactionId,
  balance: d.balanceAfter,
  createdAt: iso(d.createdAt),
  updatedAt: iso(d.updatedAt),
});

/** The ack of `coins:purchase` (the socket twin of POST /api/coins/purchase). */
export const CoinPurchaseAck = Type.Object(
  {
    transactionId: Nullable(Type.String({ description: 'the wallet credit; null while the credit awaits the wallet service' })),
    userId: Type.String(),
    amount: Type.Integer({ description: 'coins credited' }),
    balance: Nullable(Type.Integer({ description: 'the wallet balance right after the credit' })),
    createdAt: DateTime,
    packageId: Type.String(),
    price: Type.Number({ description: 'in the currency, e.g. 4.99' }),
    currency: Type.String(),
    paymentId: Type.String(),
  },
  { $id: 'CoinPurchaseAck', additionalProperties: false },
);

export const PAYMENT_EVENTS: EmittedEvents = {
  'payment:completed': {
    schema: Type.Object({ paymentId: Type.String(), coins: Type.Integer(), creditStatus: CreditStatusSchema }, { additionalProperties: false }),
    to: 'user',
    description: 'A coin purchase went through (e.g. a provider webhook completed it): the coins and whether they are credited.',
  },
  'payout:completed': {
    schema: Type.Object(
      {
        payoutId: Type.String(),
        coins: Type.Integer(),
        status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
        balance: Nullable(Type.Integer()),
      },
      { additionalProperties: false },
    ),
    to: 'user',
    description: 'A payout was settled (succeeded, or failed and its coins given back).',
  },
};
