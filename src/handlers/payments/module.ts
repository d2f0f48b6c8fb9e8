/**
 * Payments: buying a coin package through a PaymentProvider (checkout, the coin shop, wallet
 * top-ups and the `coins:purchase` socket event all run PaymentService.checkout), withdrawals
 * (payouts) and admin credits. Which providers exist is decided at start (the development provider
 * only with DEV_PAYMENTS=true); coins are credited and debited through the WalletCreditor seam
 * (providers.ts), which the money module provides. Records live in MongoDB (`payments`,
 * `payouts`, `wallet_adjustments`); an idempotencyKey makes a retry return the first payment or
 * payout instead of charging or paying twice. A credited purchase is pushed to the buyer's devices
 * as `payment:completed`, a finished payout as `payout:completed`.
 */
import { Type } from '@sinclair/typebox';
import type { Core, ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { DateTime, Id, IdParams, IdempotencyKey, Nullable, UserId, assertOwner, iso, notFound } from '../../kernel/schemas.js';
import { coinRoutes } from './coin-routes.js';
import { DevPaymentProvider, type PaymentProvider, type WalletCreditor } from './providers.js';
import { CoinPurchaseAck, CreditStatusSchema, PAYMENT_EVENTS, Payment, paymentView } from './schemas.js';
import { PaymentService } from './service.js';

export { PAYMENTS, COIN_PACKAGES, PAYOUTS, ADJUSTMENTS, type PaymentDoc } from './service.js';

const Provider = Type.Object(
  { id: Type.String(), displayName: Type.String(), development: Type.Boolean() },
  { $id: 'PaymentProvider', additionalProperties: false },
);

const CheckoutInput = Type.Object(
  {
    provider: Type.String({ pattern: '^[a-z0-9_-]{1,32}$' }),
    packageId: Id,
    idempotencyKey: IdempotencyKey,
  },
  { $id: 'CheckoutInput', additionalProperties: false },
);

const CreditInput = Type.Object(
  {
    userId: UserId,
    coins: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
    reason: Type.String({ minLength: 3, maxLength: 200 }),
    idempotencyKey: IdempotencyKey,
  },
  { $id: 'AdminCreditInput', additionalProperties: false },
);
const Adjustment = Type.Object(
  {
    id: Type.String(),
    userId: Type.String(),
    coins: Type.Integer(),
    reason: Type.String(),
    actorId: Type.String(),
    creditStatus: CreditStatusSchema,
    transactionId: Nullable(Type.String()),
    createdAt: DateTime,
  },
  { $id: 'WalletAdjustment', additionalProperties: false },
);

export interface PaymentsOptions {
  /** The wallet ledger; undefined until the wallet module provides one. */
  creditor?: WalletCreditor | undefined;
  /** Extra (real) providers. */
  providers?: (core: Core) => PaymentProvider[];
}

export function paymentsModule(options: PaymentsOptions = {}): ModuleFactory {
  return (core: Core) => {
    const providers = new Map<string, PaymentProvider>();
    if (core.config.devPayments) providers.set('dev', new DevPaymentProvider());
    for (const p of options.providers?.(core) ?? []) providers.set(p.id, p);
    const creditor = options.creditor;
    const service = new PaymentService(
      () => core.documents.db(),
      providers,
      creditor,
      async (userId, event, data) => {
        await core.hub.publish(userRoom(userId), event, data);
      },
    );
    const payments = (): ReturnType<PaymentService['payments']> => service.payments();
    const tags = ['payments'];

    return {
      name: 'payments',
      emits: PAYMENT_EVENTS,
      handlers: {
        // The socket twin of POST /api/coins/purchase: the same checkout, the same idempotency space.
        'coins:purchase': defineHandler(
          Type.Object(
            {
              packageId: Type.String({ minLength: 1, maxLength: 64 }),
              idempotencyKey: IdempotencyKey,
              provider: Type.Optional(Type.String({ pattern: '^[a-z0-9_-]{1,32}$' })),
            },
            { additionalProperties: false },
          ),
          async (ctx, data) => {
            if (!data.provider && !providers.has('dev')) throw new AppError('forbidden', 'no payment provider is configured (DEV_PAYMENTS is off)');
            service.requireLedger();
            const doc = await service.checkout(ctx.session.userId, {
              provider: data.provider ?? 'dev',
              packageId: data.packageId,
              idempotencyKey: data.idempotencyKey,
            });
            if (doc.status !== 'succeeded')
              throw new AppError('conflict', `payment ${doc._id} is ${doc.status}${doc.failureReason ? `: ${doc.failureReason}` : ''}`);
            return {
              transactionId: doc.transactionId,
              userId: doc.userId,
              amount: doc.coins,
              balance: doc.balanceAfter ?? null,
              createdAt: iso(doc.createdAt),
              packageId: doc.packageId,
              price: doc.amountMinor / 100,
              currency: doc.currency,
              paymentId: doc._id,
            };
          },
          CoinPurchaseAck,
        ),
      },
      async start() {
        if (core.config.devPayments) core.log.warn('DEV_PAYMENTS is on: the development payment provider credits coins without charging anyone');
        if (!creditor) core.log.info('no wallet ledger plugged into payments: credits are recorded as awaiting_wallet_service');
      },
      routes: [
        defineRoute(
          {
            method: 'get',
            path: '/api/payments/providers',
            operationId: 'listPaymentProviders',
            summary: 'Payment providers enabled on this deployment',
            tags,
            auth: 'user',
            query: Type.Object(PageQuery),
            response: Paginated(Provider, 'PaymentProviderPage'),
          },
          async ({ query }) => {
            const w = pageWindow(query);
            const all = [...providers.values()].map((p) => ({ id: p.id, displayName: p.displayName, development: p.development }));
            return pageOf(all.slice(w.skip, w.skip + w.limit), all.length, w);
          },
        ),
        defineRoute(
          {
            method: 'post',
            path: '/api/payments/checkout',
            operationId: 'checkout',
            summary: 'Buy a coin package with a payment provider',
            description:
              'Same operation and key space as `POST /api/coins/purchase`: the payment id is derived from (caller, idempotencyKey), so duplicates, concurrent or later, answer 201 with the same payment (409 `conflict` if the first is still running after 10 s). With the development provider the charge succeeds at once and no money moves.',
            tags,
            auth: 'user',
            body: CheckoutInput,
            response: Payment,
            status: 201,
            errors: ['not_found', 'conflict'],
            links: { GetPayment: { operationId: 'getPayment', parameters: { id: '$response.body#/id' } } },
          },
          async ({ body, principal }) => paymentView(await service.checkout(principal.userId, body)),
        ),
        defineRoute(
          {
            method: 'get',
            path: '/api/payments/my',
            operationId: 'listMyPayments',
            summary: "The caller's payments, newest first",
            tags,
            auth: 'user',
            query: Type.Object(PageQuery),
            response: Paginated(Payment, 'PaymentPage'),
          },
          async ({ principal, query }) => {
            const w = pageWindow(query);
            const filter = { userId: principal.userId };
            const [items, total] = await Promise.all([
              payments().find(filter).sort({ createdAt: -1, _id: 1 }).skip(w.skip).limit(w.limit).toArray(),
              payments().countDocuments(filter),
            ]);
            return pageOf(items.map(paymentView), total, w);
          },
        ),
        defineRoute(
          {
            method: 'get',
            path: '/api/payments/:id',
            operationId: 'getPayment',
            summary: 'One payment (owner or admin)',
            tags,
            auth: 'user',
            params: IdParams,
            response: Payment,
            errors: ['not_found'],
          },
          async ({ params, principal }) => {
            const doc = await payments().findOne({ _id: params.id });
            if (!doc) throw notFound('payment');
            assertOwner(doc.userId, principal, 'this payment');
            return paymentView(doc);
          },
        ),
        defineRoute(
          {
            method: 'post',
            path: '/api/payments/admin/credit',
            operationId: 'adminCreditWallet',
            summary: "Credit coins to a user's wallet (admin, audited)",
            description:
              'Once per (admin, idempotencyKey): the adjustment id is derived from both, and every request with the key, concurrent or later, answers 201 with the same adjustment and ledger row (ledger type `bonus`, referenceType `wallet_adjustment`).',
            tags,
            auth: 'admin',
            body: CreditInput,
            response: Adjustment,
            status: 201,
          },
          async ({ body, principal }) => {
            const doc = await service.adminCredit(principal.userId, body);
            core.log.info(
              {
                audit: true,
                actor: principal.userId,
                action: 'wallet.admin_credit',
                userId: doc.userId,
                coins: doc.coins,
                adjustmentId: doc._id,
                creditStatus: doc.creditStatus,
              },
              'admin action',
            );
            return {
              id: doc._id,
              userId: doc.userId,
              coins: doc.coins,
              reason: doc.reason,
              actorId: doc.actorId,
              creditStatus: doc.creditStatus,
              transactionId: doc.transactionId,
              createdAt: iso(doc.createdAt),
            };
          },
        ),
        ...coinRoutes(service),
      ],
    };
  };
}
