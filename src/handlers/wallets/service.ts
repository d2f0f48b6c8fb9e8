/**
 * Wallets: hot balances in Redis, changed only by Lua scripts; MongoDB is the system of record.
 * A wallet that is not hot is loaded from MongoDB (sum of its ledger) together with the
 * idempotency records of the last window, then installed atomically (wallet-load.lua).
 * `credit` is the funding path (admin endpoint, coin purchases, refunds); `debitForPayout` takes
 * earned coins out for a withdrawal; `transfer` moves coins between two wallets.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError } from '../../kernel/errors.js';
import { moneyKeys } from './keys.js';
import {
  creditAck,
  creditTransactionId,
  creditWrites,
  transferAck,
  transferId,
  transferWrites,
  type CreditAck,
  type CreditMeta,
  type CreditRecord,
  type EntryType,
  type TransferAck,
  type TransferMeta,
  type TransferRecord,
} from './ledger.js';
import { walletCreditScript } from './lua/wallet-credit.js';
import { walletDebitScript } from './lua/wallet-debit.js';
import { walletLoadScript } from './lua/wallet-load.js';
import { walletTransferScript } from './lua/wallet-transfer.js';
import type { MoneyMetrics } from './metrics.js';
import type { MoneyStore } from './money-store.js';
import type { Outbox } from './outbox.js';

export interface MoneyOptions {
  idempotencyTtlSec: number;
  outboxGraceMs: number;
}

/** A script reply: [status, payload]. */
export type ScriptReply = [string, string];

/** What caused a ledger entry (copied into its row as referenceId / referenceType). */
export interface EntryReference {
  id: string;
  type: string;
}

/** A hot wallet as the HTTP layer shows it. */
export interface WalletState {
  balance: number;
  /** Lifetime earnings (gift shares, earning and commission credits). */
  earnings: number;
  /** Coins withdrawn so far, net of reversed payouts. */
  withdrawn: number;
  /** What a withdrawal may take now: max(0, min(balance, earnings - withdrawn)). */
  withdrawable: number;
}

/** Transfers: whole coins, at most this many per transfer. */
export const MAX_TRANSFER = 1_000_000;

const MAX_LOADS_PER_CALL = 3;
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

export class WalletService {
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly redis: Redis,
    private readonly store: MoneyStore,
    private readonly outbox: Outbox,
    private readonly metrics: MoneyMetrics,
    private readonly log: Logger,
    readonly opts: MoneyOptions,
  ) {
    outbox.register('money:idem:credit:', async (key) => {
      const raw = await redis.get(key);
      return raw ? creditWrites(JSON.parse(raw) as CreditRecord) : undefined;
    });
    outbox.register('money:idem:transfer:', async (key) => {
      const raw = await redis.get(key);
      return raw ? transferWrites(JSON.parse(raw) as TransferRecord) : undefined;
    });
  }

  /** The hot balance (loading the wallet from MongoDB if needed). */
  async balance(userId: string): Promise<number> {
    await this.ensureLoaded(userId);
    return Number((await this.redis.hget(moneyKeys.wallet(userId), 'b')) ?? 0);
  }

  /** The hot wallet's balance, earnings and what may be withdrawn (loading it if needed). */
  async state(userId: string): Promise<WalletState> {
    await this.ensureLoaded(userId);
    const [b, e, w] = await this.redis.hmget(moneyKeys.wallet(userId), 'b', 'e', 'w');
    const balance = Number(b ?? 0);
    const earnings = Number(e ?? 0);
    const withdrawn = Number(w ?? 0);
    return { balance, earnings, withdrawn, withdrawable: Math.max(0, Math.min(balance, earnings - withdrawn)) };
  }

  /**
   * Adds `amount` coins once per (userId, idempotencyKey); a replay returns the first result.
   * A `withdrawal_reversal` also lowers the coins withdrawn (a failed payout's coins come back withdrawable).
   */
  async credit(
    userId: string,
    amount: number,
    reason: string,
    idempotencyKey: string,
    type: Exclude<EntryType, 'withdrawal'> = 'bonus',
    reference?: EntryReference,
  ): Promise<CreditAck> {
    checkEntry(amount, idempotencyKey);
    const idem = moneyKeys.idem('credit', userId, idempotencyKey);
    const meta = entryMeta(userId, idempotencyKey, type, reason, reference);
    const mode = type === 'earning' || type === 'commission' ? '1' : type === 'withdrawal_reversal' ? 'r' : '0';
    const [status, payload] = await this.runWithWallets(() =>
      walletCreditScript.run(
        this.redis,
        [idem, moneyKeys.wallet(userId), moneyKeys.outbox],
        [userId, amount, this.opts.idempotencyTtlSec, this.opts.outboxGraceMs, JSON.stringify(meta), mode],
      ),
    );
    const record = JSON.parse(payload) as CreditRecord;
    if (status === 'ok') {
      this.metrics.coins.inc({ flow: 'credit' }, amount);
      await this.outbox.commit(idem, creditWrites(record));
    }
    return creditAck(record);
  }

  /**
   * Takes `amount` earned coins out of the wallet for a payout, once per (userId, idempotencyKey)
   * (ledger type `withdrawal`, negative amount). Refuses with `insufficient_funds` when the
   * withdrawable coins (earned, not yet withdrawn, and in the balance) do not cover it.
   */
  async debitForPayout(userId: string, amount: number, reason: string, idempotencyKey: string, reference?: EntryReference): Promise<CreditAck> {
    checkEntry(amount, idempotencyKey);
    const idem = moneyKeys.idem('credit', userId, idempotencyKey);
    const meta = entryMeta(userId, idempotencyKey, 'withdrawal', reason, reference);
    const [status, payload] = await this.runWithWallets(() =>
      walletDebitScript.run(
        this.redis,
        [idem, moneyKeys.wallet(userId), moneyKeys.outbox],
        [userId, amount, this.opts.idempotencyTtlSec, this.opts.outboxGraceMs, JSON.stringify(meta)],
      ),
    );
    if (status === 'insufficient_funds') {
      const { balance, withdrawable } = JSON.parse(payload) as { balance: number; withdrawable: number };
      throw new AppError('insufficient_funds', `withdrawable coins ${withdrawable} (earned and not yet withdrawn, balance ${balance}) do not cover ${amount}`);
    }
    const record = JSON.parse(payload) as CreditRecord;
    if (status === 'ok') {
      this.metrics.coins.inc({ flow: 'withdrawal' }, amount);
      await this.outbox.commit(idem, creditWrites(record));
    }
    return creditAck(record);
  }

  /**
   * Moves `amount` coins from the sender to the recipient, once per (senderId, idempotencyKey):
   * a replay returns the first result and moves nothing. The recipient must be known (404).
   */
  async transfer(
    senderId: string,
    recipientId: string,
    amount: number,
    idempotencyKey: string,
    note: string | null,
  ): Promise<{ ack: TransferAck; accepted: boolean; record: TransferRecord }> {
    checkEntry(amount, idempotencyKey);
    if (amount > MAX_TRANSFER) throw new AppError('validation_failed', `amount must be at most ${MAX_TRANSFER}`);
    if (recipientId === senderId) throw new AppError('validation_failed', 'you cannot transfer coins to yourself');
    const idem = moneyKeys.idem('transfer', senderId, idempotencyKey);
    // A replay must not depend on the recipient lookup: answer it before anything else.
    const earlier = await this.redis.get(idem);
    if (earlier) {
      const record = JSON.parse(earlier) as TransferRecord;
      return { ack: transferAck(record), accepted: false, record };
    }
    const known = await this.store.userExists(recipientId).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'user lookup failed');
      throw new AppError('unavailable', 'cannot check the recipient now; retry');
    });
    if (!known) throw new AppError('not_found', `user "${recipientId}" does not exist`);
    const meta: TransferMeta = { transferId: transferId(senderId, idempotencyKey), idempotencyKey, note };
    const [status, payload] = await this.runWithWallets(() =>
      walletTransferScript.run(
        this.redis,
        [idem, moneyKeys.wallet(senderId), moneyKeys.wallet(recipientId), moneyKeys.outbox],
        [senderId, recipientId, amount, this.opts.idempotencyTtlSec, this.opts.outboxGraceMs, JSON.stringify(meta)],
      ),
    );
    if (status === 'insufficient_funds') throw new AppError('insufficient_funds', `balance ${payload} does not cover ${amount} coins`);
    const record = JSON.parse(payload) as TransferRecord;
    if (status === 'ok') {
      this.metrics.coins.inc({ flow: 'transfer' }, amount);
      await this.outbox.commit(idem, transferWrites(record));
    }
    return { ack: transferAck(record), accepted: status === 'ok', record };
  }

  /**
   * Pays from `payerId`'s wallet once per (payerId, idempotencyKey) with the transfer script (an
   * exact debit, all or nothing, `insufficient_funds` otherwise). `quote` runs only for a new key
   * and fixes who is paid, how much and the note; a replay answers the first record without
   * calling it (the caller checks the record is the payment it expects). For payees the caller
   * already knows (a live-shopping host), so no user lookup. Used by src/handlers/shopping.
   */
  async pay(
    payerId: string,
    idempotencyKey: string,
    quote: () => Promise<{ payeeId: string; amount: number; note: string }>,
  ): Promise<{ record: TransferRecord; accepted: boolean }> {
    const idem = moneyKeys.idem('transfer', payerId, idempotencyKey);
    const earlier = await this.redis.get(idem);
    if (earlier) return { record: JSON.parse(earlier) as TransferRecord, accepted: false };
    const { payeeId, amount, note } = await quote();
    checkEntry(amount, idempotencyKey);
    if (payeeId === payerId) throw new AppError('validation_failed', 'you cannot pay yourself');
    const meta: TransferMeta = { transferId: transferId(payerId, idempotencyKey), idempotencyKey, note };
    const [status, payload] = await this.runWithWallets(() =>
      walletTransferScript.run(
        this.redis,
        [idem, moneyKeys.wallet(payerId), moneyKeys.wallet(payeeId), moneyKeys.outbox],
        [payerId, payeeId, amount, this.opts.idempotencyTtlSec, this.opts.outboxGraceMs, JSON.stringify(meta)],
      ),
    );
    if (status === 'insufficient_funds') throw new AppError('insufficient_funds', `balance ${payload} does not cover ${amount} coins`);
    const record = JSON.parse(payload) as TransferRecord;
    if (status === 'ok') {
      this.metrics.coins.inc({ flow: 'transfer' }, amount);
      await this.outbox.commit(idem, transferWrites(record));
    }
    return { record, accepted: status === 'ok' };
  }

  /**
   * Runs a money script; when it answers `no_wallet`, loads that wallet and runs it again.
   * Any other status is returned to the caller.
   */
  async runWithWallets(run: () => Promise<unknown>): Promise<ScriptReply> {
    for (let attempt = 0; ; attempt++) {
      const reply = (await run()) as ScriptReply;
      if (reply[0] !== 'no_wallet') return reply;
      if (attempt >= MAX_LOADS_PER_CALL) throw new Error(`wallet ${reply[1]} could not be made hot`);
      await this.ensureLoaded(reply[1]);
    }
  }

  /** Makes a wallet hot: one MongoDB load per node at a time, installed only if still absent. */
  ensureLoaded(userId: string): Promise<void> {
    let pending = this.loading.get(userId);
    if (!pending) {
      pending = this.load(userId).finally(() => this.loading.delete(userId));
      this.loading.set(userId, pending);
    }
    return pending;
  }

  private async load(userId: string): Promise<void> {
    if ((await this.redis.exists(moneyKeys.wallet(userId))) === 1) return;
    let snapshot;
    const since = Date.now() - this.opts.idempotencyTtlSec * 1000;
    try {
      snapshot = await this.store.loadWallet(userId);
      // Idempotency records first: a replay that arrives right after the install must find them.
      const [gifts, credits, transfers] = await Promise.all([
        this.store.recentGifts(userId, since),
        this.store.recentCredits(userId, since),
        this.store.recentTransfers(userId, since),
      ]);
      const pipeline = this.redis.pipeline();
      const ttlOf = (ts: number): number => Math.max(1, Math.ceil((ts + this.opts.idempotencyTtlSec * 1000 - Date.now()) / 1000));
      for (const g of gifts) pipeline.set(moneyKeys.idem('gift', userId, g.idempotencyKey), JSON.stringify(g), 'EX', ttlOf(g.ts), 'NX');
      for (const c of credits) pipeline.set(moneyKeys.idem('credit', userId, c.idempotencyKey), JSON.stringify(c), 'EX', ttlOf(c.ts), 'NX');
      for (const t of transfers) pipeline.set(moneyKeys.idem('transfer', userId, t.idempotencyKey), JSON.stringify(t), 'EX', ttlOf(t.ts), 'NX');
      await pipeline.exec();
    } catch (err) {
      this.log.warn({ err: (err as Error).message, userId }, 'wallet load from MongoDB failed');
      throw new AppError('unavailable', 'wallet is temporarily unavailable; retry');
    }
    const installed = (await walletLoadScript.run(
      this.redis,
      [moneyKeys.wallet(userId)],
      [snapshot.balance, snapshot.earnings, snapshot.version, snapshot.withdrawn],
    )) as number;
    if (installed === 1) {
      this.metrics.walletLoads.inc({ source: 'mongodb' });
      this.log.info({ userId, balance: snapshot.balance, version: snapshot.version }, 'wallet loaded');
    }
  }
}

function checkEntry(amount: number, idempotencyKey: string): void {
  if (!Number.isSafeInteger(amount) || amount < 1) throw new AppError('validation_failed', 'amount must be a positive whole number of coins');
  if (!IDEMPOTENCY_KEY.test(idempotencyKey)) throw new AppError('validation_failed', 'idempotencyKey must be 8-128 characters of A-Z a-z 0-9 _ . : -');
}

function entryMeta(userId: string, idempotencyKey: string, type: EntryType, reason: string, reference: EntryReference | undefined): CreditMeta {
  return {
    transactionId: creditTransactionId(userId, idempotencyKey),
    idempotencyKey,
    type,
    description: reason.slice(0, 200),
    ...(reference ? { referenceId: reference.id, referenceType: reference.type } : {}),
  };
}
