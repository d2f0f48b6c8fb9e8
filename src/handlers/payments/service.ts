/**
 * The payment paths, shared by every route and socket event that moves real money (or would, with
 * a real provider): `checkout` buys a coin package through a PaymentProvider and credits it through
 * the WalletCreditor; `withdraw` debits earned coins and pays them out through a provider;
 * `adminCredit` credits coins by an administrator's decision.
 *
 * Idempotency needs no secondary index: every operation's `_id` is derived from (actor, operation
 * kind, idempotencyKey) (`idempotentId`, src/kernel/schemas.ts), so inserting the record is the
 * de-duplication on any MongoDB-wire server. Every step after the record exists is idempotent on
 * the record's id: the provider charges a paymentId at most once (PaymentProvider contract), the
 * ledger credits `coin_purchase:<paymentId>` / `admin_credit:<adjustmentId>` once (the Redis
 * credit script keeps that key and replays its first result), a payout is debited and reversed
 * once (`withdrawal:<payoutId>`, `withdrawal_reversal:<payoutId>`).
 *
 * Concurrent duplicates of a purchase: the request whose insert wins claims the payment for
 * CLAIM_MS and charges; the others wait (up to WAIT_MS) for it to finish and answer the same
 * stored payment, or 409 `conflict` if it is still running. A claim left by a crash or an error
 * expires (an error releases it at once), and the next retry finishes the payment.
 */
import { createHash } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { AppError } from '../../kernel/errors.js';
import { idempotentId, notFound } from '../../kernel/schemas.js';
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
  /** What the provider charges for (the package name). */
  description?: string;
  /** While pending: the request that claimed it finishes it before then (else a retry takes over). */
  claimedUntil?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** An admin credit (`wallet_adjustments`); `_id` = idempotentId('adj', adminId, 'admin_credit', key). */
export interface AdjustmentDoc {
  _id: string;
  userId: string;
  coins: number;
  reason: string;
  actorId: string;
  creditStatus: CreditStatus;
  transactionId: string | null;
  balanceAfter?: number | null;
  idempotencyKey?: string;
  createdAt: Date;
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
export const ADJUSTMENTS = 'wallet_adjustments';

/** How long the request that created a payment has to finish it before a retry may take over. */
const CLAIM_MS = 30_000;
/** How long a concurrent duplicate waits for the first request to finish it. */
const WAIT_MS = 10_000;

/** Withdrawal rules (docs/MONEY.md "Withdrawals"). */
export const WITHDRAWAL = { minCoins: 100, maxCoins: 1_000_000 } as const;

export interface CheckoutInput {
  provider: string;
  packageId: string;
  idempotencyKey: string;
}

export interface AdminCreditInput {
  userId: string;
  coins: number;
  reason: string;
  idempotencyKey: string;
}

export interface WithdrawInput {
  provider: string;
  coins: number;
  idempotencyKey: string;
}

export type UserPublisher = (userId: string, event: string, data: unknown) => Promise<void>;

/** Purchases (checkout, coin shop, top-up, `coins:purchase`) share one kind: one key space per buyer. */
export const paymentIdOf = (userId: string, idempotencyKey: string): string => idempotentId('pay', userId, 'coin_purchase', idempotencyKey);
export const adjustmentIdOf = (adminId: string, idempotencyKey: string): string => idempotentId('adj', adminId, 'admin_credit', idempotencyKey);

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Payouts keep their original derivation (user, key): ids of existing payouts stay valid. */
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

  adjustments(): Collection<AdjustmentDoc> {
    return this.db().collection<AdjustmentDoc>(ADJUSTMENTS);
  }

  /**
   * Buys a coin package: charge, then credit `coins + bonusCoins`, once per (buyer, key): a retry,
   * sequential or concurrent, answers the first payment (the key names the request: a changed
   * body is ignored).
   */
  async checkout(userId: string, input: CheckoutInput): Promise<PaymentDoc> {
    const id = paymentIdOf(userId, input.idempotencyKey);
    const deadline = Date.now() + WAIT_MS;
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      const earlier = await this.payments().findOne({ _id: id });
      if (!earlier) {
        const fresh = await this.newPayment(id, userId, input);
        if (await this.inserted(fresh)) return this.complete(fresh);
        continue;
      }
      if (earlier.status !== 'pending') return earlier;
      if ((earlier.claimedUntil?.getTime() ?? 0) <= Date.now()) {
        if (await this.takeOver(earlier)) return this.complete(earlier);
        continue;
      }
      if (Date.now() > deadline) throw new AppError('conflict', `payment ${id} for this idempotencyKey is still in progress; retry`);
      await pause(wait);
    }
  }

  private async newPayment(id: string, userId: string, input: CheckoutInput): Promise<PaymentDoc> {
    const provider = this.provider(input.provider);
    const pkg = await this.packages().findOne({ _id: input.packageId, isActive: true });
    if (!pkg) throw notFound('coin package');
    const now = new Date();
    return {
      _id: id,
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
      idempotencyKey: input.idempotencyKey,
      description: pkg.name,
      claimedUntil: new Date(now.getTime() + CLAIM_MS),
      createdAt: now,
      updatedAt: now,
    };
  }

  /** Inserts a new payment; false when a concurrent request with the same key inserted it first. */
  private async inserted(doc: PaymentDoc): Promise<boolean> {
    try {
      await this.payments().insertOne(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** Claims a pending payment whose claim expired (its request crashed or failed); false if another retry did. */
  private async takeOver(doc: PaymentDoc): Promise<boolean> {
    const claimedUntil = new Date(Date.now() + CLAIM_MS);
    const res = await this.payments().updateOne(
      { _id: doc._id, status: 'pending', claimedUntil: doc.claimedUntil ?? { $exists: false } },
      { $set: { claimedUntil } },
    );
    if (res.modifiedCount !== 1) return false;
    doc.claimedUntil = claimedUntil;
    return true;
  }

  /** Charges and credits a claimed pending payment; releases the claim when a step throws. */
  private async complete(doc: PaymentDoc): Promise<PaymentDoc> {
    try {
      return await this.chargeAndCredit(doc);
    } catch (err) {
      await this.payments()
        .updateOne({ _id: doc._id, status: 'pending' }, { $set: { claimedUntil: new Date(0) } })
        .catch(() => undefined);
      throw err;
    }
  }

  private async chargeAndCredit(doc: PaymentDoc): Promise<PaymentDoc> {
    const provider = this.provider(doc.provider);
    const description = doc.description ?? doc.packageId;
    const charge = await provider.charge({ paymentId: doc._id, userId: doc.userId, amountMinor: doc.amountMinor, currency: doc.currency, description });
    const done: PaymentDoc = { ...doc, updatedAt: new Date() };
    if (charge.status === 'failed') {
      Object.assign(done, { status: 'failed', providerRef: charge.providerRef, failureReason: charge.reason });
    } else {
      Object.assign(done, { status: 'succeeded', providerRef: charge.providerRef, creditStatus: 'awaiting_wallet_service' });
      if (this.creditor) {
        const credit = await this.creditor.credit({
          userId: doc.userId,
          coins: doc.coins,
          reason: 'coin_purchase',
          referenceId: doc._id,
          actorId: doc.userId,
          description,
        });
        Object.assign(done, { creditStatus: 'credited', transactionId: credit.transactionId, balanceAfter: credit.balance });
      }
    }
    const { _id, claimedUntil: _claim, ...fields } = done;
    const res = await this.payments().updateOne({ _id, status: 'pending' }, { $set: fields, $unset: { claimedUntil: '' } });
    if (res.modifiedCount !== 1) {
      // A retry that took over after our claim expired finished it first: answer what it stored.
      const stored = await this.payments().findOne({ _id });
      if (stored && stored.status !== 'pending') return stored;
    }
    if (done.status === 'succeeded')
      await this.publish(done.userId, 'payment:completed', { paymentId: done._id, coins: done.coins, creditStatus: done.creditStatus });
    const { claimedUntil: _c, ...answer } = done;
    return answer;
  }

  /**
   * Credits coins by an administrator's decision, once per (admin, key): every caller with the
   * key, concurrent or later, answers the same adjustment and ledger row (the credit script
   * replays the first credit of `admin_credit:<adjustmentId>`).
   */
  async adminCredit(adminId: string, input: AdminCreditInput): Promise<AdjustmentDoc> {
    const id = adjustmentIdOf(adminId, input.idempotencyKey);
    let doc = await this.adjustments().findOne({ _id: id });
    if (!doc) {
      const fresh: AdjustmentDoc = {
        _id: id,
        userId: input.userId,
        coins: input.coins,
        reason: input.reason,
        actorId: adminId,
        creditStatus: 'awaiting_wallet_service',
        transactionId: null,
        balanceAfter: null,
        idempotencyKey: input.idempotencyKey,
        createdAt: new Date(),
      };
      try {
        await this.adjustments().insertOne(fresh);
        doc = fresh;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        doc = await this.adjustments().findOne({ _id: id });
        if (!doc) throw new AppError('conflict', 'an admin credit with this idempotencyKey is in progress; retry');
      }
    }
    if (doc.creditStatus === 'credited' || !this.creditor) return doc;
    const credit = await this.creditor.credit({
      userId: doc.userId,
      coins: doc.coins,
      reason: 'admin_credit',
      referenceId: doc._id,
      actorId: adminId,
      description: doc.reason,
    });
    const set = { creditStatus: 'credited' as const, transactionId: credit.transactionId, balanceAfter: credit.balance };
    await this.adjustments().updateOne({ _id: doc._id }, { $set: set });
    return { ...doc, ...set };
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
