/**
 * Payments: buying a coin package through a PaymentProvider, and admin credits. Which
 * providers exist is decided at start (the development provider only with DEV_PAYMENTS=true);
 * the coins are credited through the WalletCreditor seam (providers.ts), which the wallet
 * module provides. Payment records live in MongoDB (`payments`, `wallet_adjustments`); an
 * optional idempotencyKey makes a retried checkout return the first payment instead of
 * charging twice. A credited purchase is pushed to the buyer's devices as `payment:completed`.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Collection } from 'mongodb';
import type { Core, ModuleFactory } from '../../core.js';
import { AppError } from '../../gateway/errors.js';
import { userRoom } from '../../gateway/connection.js';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import { isDuplicateKey } from '../../store/mongo.js';
import { DateTime, DocIdParams, Id, Nullable, assertOwner, dbOf, iso, newId, notFound } from '../common/http.js';
import { DevPaymentProvider, type PaymentProvider, type WalletCreditor } from './providers.js';

type CreditStatus = 'credited' | 'awaiting_wallet_service' | 'not_applicable';

export interface PaymentDoc {
  _id: string;
  userId: string;
  provider: string;
  packageId: string;
  coins: number;
  amountMinor: number;
  currency: string;
  status: 'pending' | 'succeeded' | 'failed';
  providerRef: string | null;
  failureReason: string | null;
  creditStatus: CreditStatus;
  transactionId: string | null;
  idempotencyKey: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface AdjustmentDoc {
  _id: string;
  userId: string;
  coins: number;
  reason: string;
  actorId: string;
  creditStatus: CreditStatus;
  transactionId: string | null;
  createdAt: Date;
}

/** The CoinPackage read model (seed 000); the wallet module owns its writes. */
interface CoinPackageDoc {
  _id: string;
  name: string;
  coins: number;
  bonusCoins?: number;
  price: number;
  currency?: string;
  isActive: boolean;
}

export const PAYMENTS = 'payments';
export const ADJUSTMENTS = 'wallet_adjustments';
export const COIN_PACKAGES = 'coin_packages';

const CreditStatusSchema = Type.Union([Type.Literal('credited'), Type.Literal('awaiting_wallet_service'), Type.Literal('not_applicable')], {
  description: 'awaiting_wallet_service: no wallet ledger on this node yet; nothing was credited',
});

const Provider = Type.Object({ id: Type.String(), displayName: Type.String(), development: Type.Boolean() }, { $id: 'PaymentProvider', additionalProperties: false });

const Payment = Type.Object(
  {
    id: Type.String(),
    userId: Type.String(),
    provider: Type.String(),
    packageId: Type.String(),
    coins: Type.Integer({ minimum: 0 }),
    amountMinor: Type.Integer({ minimum: 0, description: 'price in minor units (cents)' }),
    currency: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    providerRef: Nullable(Type.String()),
    failureReason: Nullable(Type.String()),
    creditStatus: CreditStatusSchema,
    transactionId: Nullable(Type.String()),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Payment', additionalProperties: false },
);

const CheckoutInput = Type.Object(
  {
    provider: Type.String({ pattern: '^[a-z0-9_-]{1,32}$' }),
    packageId: Id,
    idempotencyKey: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$', description: 'retrying with the same key returns the first payment' })),
  },
  { $id: 'CheckoutInput', additionalProperties: false },
);

const CreditInput = Type.Object(
  { userId: Id, coins: Type.Integer({ minimum: 1, maximum: 10_000_000 }), reason: Type.String({ minLength: 3, maxLength: 200 }) },
  { $id: 'AdminCreditInput', additionalProperties: false },
);
const Adjustment = Type.Object(
  { id: Type.String(), userId: Type.String(), coins: Type.Integer(), reason: Type.String(), actorId: Type.String(), creditStatus: CreditStatusSchema, transactionId: Nullable(Type.String()), createdAt: DateTime },
  { $id: 'WalletAdjustment', additionalProperties: false },
);

type PaymentView = Static<typeof Payment>;

const view = (d: PaymentDoc): PaymentView => ({
  id: d._id, userId: d.userId, provider: d.provider, packageId: d.packageId, coins: d.coins, amountMinor: d.amountMinor, currency: d.currency, status: d.status,
  providerRef: d.providerRef, failureReason: d.failureReason, creditStatus: d.creditStatus, transactionId: d.transactionId, createdAt: iso(d.createdAt), updatedAt: iso(d.updatedAt),
});

export interface PaymentsOptions {
  /** The wallet ledger; undefined until the wallet module provides one. */
  creditor?: (core: Core) => WalletCreditor | undefined;
  /** Extra (real) providers. */
  providers?: (core: Core) => PaymentProvider[];
}

export function paymentsModule(options: PaymentsOptions = {}): ModuleFactory {
  return (core: Core) => {
    const providers = new Map<string, PaymentProvider>();
    if (core.config.devPayments) providers.set('dev', new DevPaymentProvider());
    for (const p of options.providers?.(core) ?? []) providers.set(p.id, p);
    const creditor = options.creditor?.(core);
    const payments = (): Collection<PaymentDoc> => dbOf(core).collection<PaymentDoc>(PAYMENTS);
    const tags = ['payments'];

    return {
      name: 'payments',
      async start() {
        if (core.config.devPayments) core.log.warn('DEV_PAYMENTS is on: the development payment provider credits coins without charging anyone');
        if (!creditor) core.log.info('no wallet ledger plugged into payments: credits are recorded as awaiting_wallet_service');
      },
      routes: [
        defineRoute(
          { method: 'get', path: '/api/payments/providers', operationId: 'listPaymentProviders', summary: 'Payment providers enabled on this deployment', tags, auth: 'user', query: Type.Object(PageQuery), response: Paginated(Provider, 'PaymentProviderPage') },
          async ({ query }) => {
            const w = pageWindow(query);
            const all = [...providers.values()].map((p) => ({ id: p.id, displayName: p.displayName, development: p.development }));
            return pageOf(all.slice(w.skip, w.skip + w.limit), all.length, w);
          },
        ),
        defineRoute(
          {
            method: 'post', path: '/api/payments/checkout', operationId: 'checkout', summary: 'Buy a coin package with a payment provider',
            description: 'With the development provider the charge succeeds at once and no money moves.',
            tags, auth: 'user', body: CheckoutInput, response: Payment, status: 201, errors: ['not_found', 'conflict'],
            links: { GetPayment: { operationId: 'getPayment', parameters: { id: '$response.body#/id' } } },
          },
          async ({ body, principal }) => {
            const provider = providers.get(body.provider);
            if (!provider) throw new AppError('not_found', `payment provider "${body.provider}" is not enabled`);
            if (body.idempotencyKey) {
              const earlier = await payments().findOne({ userId: principal.userId, idempotencyKey: body.idempotencyKey });
              if (earlier) return view(earlier);
            }
            const pkg = await dbOf(core).collection<CoinPackageDoc>(COIN_PACKAGES).findOne({ _id: body.packageId, isActive: true });
            if (!pkg) throw notFound('coin package');
            const now = new Date();
            const doc: PaymentDoc = {
              _id: newId(), userId: principal.userId, provider: provider.id, packageId: pkg._id, coins: pkg.coins + (pkg.bonusCoins ?? 0),
              amountMinor: Math.round(pkg.price * 100), currency: pkg.currency ?? 'USD', status: 'pending', providerRef: null, failureReason: null,
              creditStatus: 'not_applicable', transactionId: null, idempotencyKey: body.idempotencyKey ?? null, createdAt: now, updatedAt: now,
            };
            try {
              await payments().insertOne(doc);
            } catch (err) {
              if (isDuplicateKey(err)) throw new AppError('conflict', 'a payment with this idempotencyKey is in progress');
              throw err;
            }
            const charge = await provider.charge({ paymentId: doc._id, userId: doc.userId, amountMinor: doc.amountMinor, currency: doc.currency, description: pkg.name });
            if (charge.status === 'failed') {
              Object.assign(doc, { status: 'failed', providerRef: charge.providerRef, failureReason: charge.reason, updatedAt: new Date() });
            } else {
              Object.assign(doc, { status: 'succeeded', providerRef: charge.providerRef, creditStatus: 'awaiting_wallet_service', updatedAt: new Date() });
              if (creditor) {
                const credit = await creditor.credit({ userId: doc.userId, coins: doc.coins, reason: 'coin_purchase', referenceId: doc._id, actorId: doc.userId, description: pkg.name });
                Object.assign(doc, { creditStatus: 'credited', transactionId: credit.transactionId });
              }
            }
            const { _id, ...fields } = doc;
            await payments().updateOne({ _id }, { $set: fields });
            if (doc.status === 'succeeded') await core.hub.publish(userRoom(doc.userId), 'payment:completed', { paymentId: doc._id, coins: doc.coins, creditStatus: doc.creditStatus });
            return view(doc);
          },
        ),
        defineRoute(
          { method: 'get', path: '/api/payments/my', operationId: 'listMyPayments', summary: "The caller's payments, newest first", tags, auth: 'user', query: Type.Object(PageQuery), response: Paginated(Payment, 'PaymentPage') },
          async ({ principal, query }) => {
            const w = pageWindow(query);
            const filter = { userId: principal.userId };
            const [items, total] = await Promise.all([payments().find(filter).sort({ createdAt: -1, _id: 1 }).skip(w.skip).limit(w.limit).toArray(), payments().countDocuments(filter)]);
            return pageOf(items.map(view), total, w);
          },
        ),
        defineRoute(
          { method: 'get', path: '/api/payments/:id', operationId: 'getPayment', summary: 'One payment (owner or admin)', tags, auth: 'user', params: DocIdParams, response: Payment, errors: ['not_found'] },
          async ({ params, principal }) => {
            const doc = await payments().findOne({ _id: params.id });
            if (!doc) throw notFound('payment');
            assertOwner(doc.userId, principal, 'this payment');
            return view(doc);
          },
        ),
        defineRoute(
          {
            method: 'post', path: '/api/payments/admin/credit', operationId: 'adminCreditWallet', summary: "Credit coins to a user's wallet (admin, audited)", tags, auth: 'admin',
            body: CreditInput, response: Adjustment, status: 201,
          },
          async ({ body, principal }) => {
            const doc: AdjustmentDoc = {
              _id: newId(), userId: body.userId, coins: body.coins, reason: body.reason, actorId: principal.userId, creditStatus: 'awaiting_wallet_service', transactionId: null, createdAt: new Date(),
            };
            if (creditor) {
              const credit = await creditor.credit({ userId: body.userId, coins: body.coins, reason: 'admin_credit', referenceId: doc._id, actorId: principal.userId, description: body.reason });
              Object.assign(doc, { creditStatus: 'credited', transactionId: credit.transactionId });
            }
            await dbOf(core).collection<AdjustmentDoc>(ADJUSTMENTS).insertOne(doc);
            core.log.info({ audit: true, actor: principal.userId, action: 'wallet.admin_credit', userId: body.userId, coins: body.coins, adjustmentId: doc._id, creditStatus: doc.creditStatus }, 'admin action');
            return { id: doc._id, userId: doc.userId, coins: doc.coins, reason: doc.reason, actorId: doc.actorId, creditStatus: doc.creditStatus, transactionId: doc.transactionId, createdAt: iso(doc.createdAt) };
          },
        ),
      ],
    };
  };
}
