/**
 * The payment paths, shared by every route and socket event that moves real money (or would, with
 * a real provider): `checkout` buys a coin package through a PaymentProvider and credits it through
 * the WalletCreditor; `withdraw` debits earned coins and pays them out through a provider.
 *
 * Idempotency: a purchase is named by (buyer, idempotencyKey) in `payments` (unique index); a
 * payout by its id, derived from (user, idempotencyKey), so a retry finds the first one whatever
 * happened to it. Every step after the record exists is idempotent on the record's id (ledger
 * keys `coin_purchase:<paymentId>`, `withdrawal:<payoutId>`, `withdrawal_reversal:<payoutId>`),
 * so a payout left `pending` by a crash is finished by the next retry with the same key.
 */
import { createHash } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { AppError } from '../../kernel/errors.js';
import { newId, notFound } from '../../kernel/schemas.js';
import { isDuplicateKey } from '../../store/mongo.js';
import type { PaymentProvider, WalletCreditor } from './providers.js';

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
  /** The wallet balance right after the credit (absent on payments made before it was recorded). */
  balanceAfter?: number | null;
  idempotencyKey: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PayoutDoc {
  /** `payout_` + sha256(userId, idempotencyKey)[:24]. */
  _id: string;
  userId: string;
  provider: string;
  coins: number;
  /** pending: debited (or about to be) and not yet paid; failed payouts have their coins given back. */
  status: 'pending' | 'succeeded' | 'failed';
  providerRef: string | null;
  failureReason: string | null;
  /** The ledger row of the debit. */
  transactionId: string | null;
  /** The ledger row that gave a failed payout's coins back. */
  reversalTransactionId: string | null;
  balanceAfter: number | null;
  idempotencyKey: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The CoinPackage read model (seed 000); the catalogue (seed command) owns its writes. */
export interface CoinPackageDoc {
  _id: string;
  name: string;
  coins: number;
  bonusCoins?: number;
  price: number;
  currency?: string;
  isActive: boolean;
  isPopular?: boolean;
  isBestValue?: boolean;
  sortOrder?: number;
}

export const PAYMENTS = 'payments';
export const PAYOUTS = 'payouts';
export const COIN_PACKAGES = 'coin_packages';

/** Withdrawal rules (docs/MONEY.md "Withdrawals"). */
export const WITHDRAWAL = { minCoins: 100, maxCoins: 1_000_000 } as const;

export interface CheckoutInput {
  provider: string;
  packageId: string;
  idempotencyKey?: string | undefined;
}

export interface WithdrawInput {
  provider: string;
  coins: number;
  idempotencyKey: string;
}

export type UserPublisher = (userId: string, event: string, data: unknown) => Promise<void>;

export const payoutIdOf = (userId: string, idempotencyKey: string): string =>
  `payout_${createHash('sha256').update(`${userId}\u0000${idempotencyKey}`).digest('hex').slice(0, 24)}`;

export class PaymentService {
  constructor(
    private readonly db: () => Db,
    readonly providers: ReadonlyMap<string, PaymentProvider>,
    readonly creditor: WalletCreditor | undefined,
    private readonly publish: UserPublisher,
  ) {}

  payments(): Collection<PaymentDoc> {
    return this.db().collection<PaymentDoc>(PAYMENTS);
  }

  payouts(): Collection<PayoutDoc> {
    return this.db().collection<PayoutDoc>(PAYOUTS);
  }

  packages(): Collection<CoinPackageDoc> {
    return this.db().collection<CoinPackageDoc>(COIN_PACKAGES);
  }

  /** The wallet ledger, or 503: paths that must not charge or pay without crediting or debiting. */
  requireLedger(): WalletCreditor {
    if (!this.creditor) throw new AppError('unavailable', 'the wallet ledger is not available on this node (it needs REDIS_URL)');
    return this.creditor;
  }

  private provider(id: string): PaymentProvider {
    const provider = this.providers.get(id);
    if (!provider) throw new AppError('not_found', `payment provider "${id}" is not enabled`);
    return provider;
  }

  /** Buys a coin package: charge, then credit `coins + bonusCoins`; a retried key returns the first payment. */
  async checkout(userId: string, input: CheckoutInput): Promise<PaymentDoc> {
    const provider = this.provider(input.provider);
    if (input.idempotencyKey) {
      const earlier = await this.payments().findOne({ userId, idempotencyKey: input.idempotencyKey });
      if (earlier) return earlier;
    }
    const pkg = await this.packages().findOne({ _id: input.packageId, isActive: true });
    if (!pkg) throw notFound('coin package');
    const now = new Date();
    const doc: PaymentDoc = {
      _id: newId(),
      userId,
      provider: provider.id,
      packageId: pkg._id,
      coins: pkg.coins + (pkg.bonusCoins ?? 0),
      amountMinor: Math.round(pkg.price * 100),
      currency: pkg.currency ?? 'USD',
      status: 'pending',
      providerRef: null,
      failureReason: null,
      creditStatus: 'not_applicable',
      transactionId: null,
      balanceAfter: null,
      idempotencyKey: input.idempotencyKey ?? null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.payments().insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) throw new AppError('conflict', 'a payment with this idempotencyKey is in progress');
      throw err;
    }
    const charge = await provider.charge({
      paymentId: doc._id,
      userId: doc.userId,
      amountMinor: doc.amountMinor,
      currency: doc.currency,
      description: pkg.name,
    });
    if (charge.status === 'failed') {
      Object.assign(doc, { status: 'failed', providerRef: charge.providerRef, failureReason: charge.reason, updatedAt: new Date() });
    } else {
      Object.assign(doc, { status: 'succeeded', providerRef: charge.providerRef, creditStatus: 'awaiting_wallet_service', updatedAt: new Date() });
      if (this.creditor) {
        const credit = await this.creditor.credit({
          userId: doc.userId,
          coins: doc.coins,
          reason: 'coin_purchase',
          referenceId: doc._id,
          actorId: doc.userId,
          description: pkg.name,
        });
        Object.assign(doc, { creditStatus: 'credited', transactionId: credit.transactionId, balanceAfter: credit.balance });
      }
    }
    const { _id, ...fields } = doc;
    await this.payments().updateOne({ _id }, { $set: fields });
    if (doc.status === 'succeeded')
      await this.publish(doc.userId, 'payment:completed', { paymentId: doc._id, coins: doc.coins, creditStatus: doc.creditStatus });
    return doc;
  }

  /**
   * Withdraws earned coins: debit (ledger `withdrawal`), then the provider's payout; a failed
   * payout gives the coins back (`withdrawal_reversal`). A retried key returns the first payout,
   * finishing it first if a crash left it pending.
   */
  async withdraw(userId: string, input: WithdrawInput): Promise<PayoutDoc> {
    if (!Number.isSafeInteger(input.coins) || input.coins < WITHDRAWAL.minCoins || input.coins > WITHDRAWAL.maxCoins) {
      throw new AppError('validation_failed', `coins must be a whole number from ${WITHDRAWAL.minCoins} to ${WITHDRAWAL.maxCoins}`);
    }
    const ledger = this.requireLedger();
    const provider = this.provider(input.provider);
    const id = payoutIdOf(userId, input.idempotencyKey);
    let doc = await this.payouts().findOne({ _id: id });
    if (!doc) {
      const now = new Date();
      const fresh: PayoutDoc = {
        _id: id,
        userId,
        provider: provider.id,
        coins: input.coins,
        status: 'pending',
        providerRef: null,
        failureReason: null,
        transactionId: null,
        reversalTransactionId: null,
        balanceAfter: null,
        idempotencyKey: input.idempotencyKey,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await this.payouts().insertOne(fresh);
        doc = fresh;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        doc = await this.payouts().findOne({ _id: id });
        if (!doc) throw new AppError('conflict', 'a payout with this idempotencyKey is in progress');
      }
    }
    if (doc.status === 'failed' && doc.reversalTransactionId === null) return this.reverse(doc, ledger);
    if (doc.status !== 'pending') return doc;
    // The first request's provider and amount: the key names the request.
    const payer = this.provider(doc.provider);
    const entry = { userId, coins: doc.coins, payoutId: doc._id, description: `Withdrawal via ${payer.displayName}` };
    let debit: { transactionId: string; balance: number };
    try {
      debit = await ledger.debitForPayout(entry);
    } catch (err) {
      // A refused debit moved nothing and is not remembered: drop the record so the key can be retried.
      if (err instanceof AppError && (err.code === 'insufficient_funds' || err.code === 'validation_failed'))
        await this.payouts().deleteOne({ _id: doc._id, status: 'pending' });
      throw err;
    }
    const result = await payer.payout({ payoutId: doc._id, userId, coins: doc.coins, description: entry.description });
    if (result.status === 'succeeded') {
      const set = {
        status: 'succeeded' as const,
        providerRef: result.providerRef,
        transactionId: debit.transactionId,
        balanceAfter: debit.balance,
        updatedAt: new Date(),
      };
      await this.payouts().updateOne({ _id: doc._id, status: 'pending' }, { $set: set });
      const done = { ...doc, ...set };
      await this.publish(userId, 'payout:completed', { payoutId: done._id, coins: done.coins, status: done.status, balance: done.balanceAfter });
      return done;
    }
    // Failed: mark it first, so a crash before the reversal is finished by the next read of this key.
    const failed = {
      status: 'failed' as const,
      providerRef: result.providerRef,
      failureReason: result.reason,
      transactionId: debit.transactionId,
      updatedAt: new Date(),
    };
    await this.payouts().updateOne({ _id: doc._id, status: 'pending' }, { $set: failed });
    return this.reverse({ ...doc, ...failed }, ledger);
  }

  /** Gives a failed payout's coins back (idempotent per payout) and records it. */
  private async reverse(doc: PayoutDoc, ledger: WalletCreditor): Promise<PayoutDoc> {
    const reversal = await ledger.reversePayout({
      userId: doc.userId,
      coins: doc.coins,
      payoutId: doc._id,
      description: `Payout ${doc._id} failed: coins returned`,
    });
    const set = { reversalTransactionId: reversal.transactionId, balanceAfter: reversal.balance, updatedAt: new Date() };
    await this.payouts().updateOne({ _id: doc._id }, { $set: set });
    const done = { ...doc, ...set };
    await this.publish(doc.userId, 'payout:completed', { payoutId: done._id, coins: done.coins, status: done.status, balance: done.balanceAfter });
    return done;
  }
}
