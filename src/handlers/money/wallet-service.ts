/**
 * Wallets: hot balances in Redis, changed only by Lua scripts; MongoDB is the system of record.
 * A wallet that is not hot is loaded from MongoDB (sum of its ledger) together with the
 * idempotency records of the last window, then installed atomically (wallet-load.lua).
 * `credit` is the funding path (admin endpoint, development top-ups, refunds).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError } from '../../gateway/errors.js';
import { moneyKeys } from './keys.js';
import { creditAck, creditTransactionId, creditWrites, type CreditAck, type CreditMeta, type CreditRecord, type CreditType } from './ledger.js';
import type { MoneyStore } from './money-store.js';
import type { MoneyMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import { walletCreditScript } from './lua/wallet-credit.js';
import { walletLoadScript } from './lua/wallet-load.js';

export interface MoneyOptions {
  idempotencyTtlSec: number;
  outboxGraceMs: number;
}

/** A script reply: [status, payload]. */
export type ScriptReply = [string, string];

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
  }

  /** The hot balance (loading the wallet from MongoDB if needed). */
  async balance(userId: string): Promise<number> {
    await this.ensureLoaded(userId);
    return Number((await this.redis.hget(moneyKeys.wallet(userId), 'b')) ?? 0);
  }

  /** Adds `amount` coins once per (userId, idempotencyKey); a replay returns the first result. */
  async credit(userId: string, amount: number, reason: string, idempotencyKey: string, type: CreditType = 'bonus'): Promise<CreditAck> {
    if (!Number.isSafeInteger(amount) || amount < 1) throw new AppError('validation_failed', 'amount must be a positive whole number of coins');
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) throw new AppError('validation_failed', 'idempotencyKey must be 8-128 characters of A-Z a-z 0-9 _ . : -');
    const idem = moneyKeys.idem('credit', userId, idempotencyKey);
    const meta: CreditMeta = { transactionId: creditTransactionId(userId, idempotencyKey), idempotencyKey, type, description: reason.slice(0, 200) };
    const [status, payload] = await this.runWithWallets(() =>
      walletCreditScript.run(this.redis, [idem, moneyKeys.wallet(userId), moneyKeys.outbox], [userId, amount, this.opts.idempotencyTtlSec, this.opts.outboxGraceMs, JSON.stringify(meta), type === 'earning' || type === 'commission' ? '1' : '0']),
    );
    const record = JSON.parse(payload) as CreditRecord;
    if (status === 'ok') {
      this.metrics.coins.inc({ flow: 'credit' }, amount);
      await this.outbox.commit(idem, creditWrites(record));
    }
    return creditAck(record);
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
      const [gifts, credits] = await Promise.all([this.store.recentGifts(userId, since), this.store.recentCredits(userId, since)]);
      const pipeline = this.redis.pipeline();
      const ttlOf = (ts: number): number => Math.max(1, Math.ceil((ts + this.opts.idempotencyTtlSec * 1000 - Date.now()) / 1000));
      for (const g of gifts) pipeline.set(moneyKeys.idem('gift', userId, g.idempotencyKey), JSON.stringify(g), 'EX', ttlOf(g.ts), 'NX');
      for (const c of credits) pipeline.set(moneyKeys.idem('credit', userId, c.idempotencyKey), JSON.stringify(c), 'EX', ttlOf(c.ts), 'NX');
      await pipeline.exec();
    } catch (err) {
      this.log.warn({ err: (err as Error).message, userId }, 'wallet load from MongoDB failed');
      throw new AppError('unavailable', 'wallet is temporarily unavailable; retry');
    }
    const installed = (await walletLoadScript.run(this.redis, [moneyKeys.wallet(userId)], [snapshot.balance, snapshot.earnings, snapshot.version])) as number;
    if (installed === 1) {
      this.metrics.walletLoads.inc({ source: 'mongodb' });
      this.log.info({ userId, balance: snapshot.balance, version: snapshot.version }, 'wallet loaded');
    }
  }
}
