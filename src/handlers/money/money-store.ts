/**
 * What the money domains read from MongoDB, the system of record: a wallet's balance when it is
 * not hot in Redis, and the recent idempotency records that go with it. Reads only: every write
 * goes through the WriteQueue.
 */
import type { Db } from 'mongodb';
import type { Mongo } from '../../store/mongo.js';
import { COLLECTIONS } from './collections.js';
import type { CreditRecord, GiftRecord } from './ledger.js';

export interface WalletSnapshot {
  /** Sum of the wallet's ledger rows. */
  balance: number;
  /** Sum of its earning rows (gift_received, earning, commission). */
  earnings: number;
  /** The wallet document's version (0 when there is none). */
  version: number;
}

export interface MoneyStore {
  loadWallet(userId: string): Promise<WalletSnapshot>;
  /** Gifts this sender sent at or after `sinceMs` (to restore their idempotency records). */
  recentGifts(senderId: string, sinceMs: number): Promise<GiftRecord[]>;
  recentCredits(userId: string, sinceMs: number): Promise<CreditRecord[]>;
  /** Whether a user is known (has an account or a wallet). */
  userExists(userId: string): Promise<boolean>;
}

const EARNING_TYPES = new Set(['gift_received', 'earning', 'commission']);

type Row = Record<string, unknown> & { _id: string };

export class MongoMoneyStore implements MoneyStore {
  constructor(private readonly mongo: Mongo) {}

  private get db(): Db {
    return this.mongo.db;
  }

  async loadWallet(userId: string): Promise<WalletSnapshot> {
    // FerretDB supports $group with $sum; the sum per type gives both balance and earnings.
    const groups = await this.db
      .collection<Row>(COLLECTIONS.transactions)
      .aggregate<{ _id: string; sum: number }>([{ $match: { userId, currency: 'coins', status: 'completed' } }, { $group: { _id: '$type', sum: { $sum: '$amount' } } }])
      .toArray();
    let balance = 0;
    let earnings = 0;
    for (const g of groups) {
      balance += g.sum;
      if (EARNING_TYPES.has(g._id)) earnings += g.sum;
    }
    const wallet = await this.db.collection<Row>(COLLECTIONS.wallets).findOne({ _id: userId }, { projection: { version: 1 } });
    const version = typeof wallet?.['version'] === 'number' ? wallet['version'] : 0;
    return { balance, earnings, version };
  }

  async recentGifts(senderId: string, sinceMs: number): Promise<GiftRecord[]> {
    const docs = await this.db.collection<Row>(COLLECTIONS.giftTransactions).find({ senderId, ts: { $gte: sinceMs } }).toArray();
    return docs.map(({ _id, status: _s, isPublic: _p, createdAt: _c, updatedAt: _u, ...rest }) => ({ ...(rest as unknown as Omit<GiftRecord, 'giftTransactionId'>), giftTransactionId: _id }));
  }

  async recentCredits(userId: string, sinceMs: number): Promise<CreditRecord[]> {
    const docs = await this.db
      .collection<Row>(COLLECTIONS.transactions)
      .find({ userId, ts: { $gte: sinceMs }, idempotencyKey: { $exists: true } })
      .toArray();
    return docs.map((d) => ({
      transactionId: d._id,
      idempotencyKey: String(d['idempotencyKey']),
      type: d['type'] as CreditRecord['type'],
      description: String(d['description'] ?? ''),
      userId,
      amount: Number(d['amount']),
      balanceBefore: Number(d['balanceBefore']),
      balanceAfter: Number(d['balanceAfter']),
      earnings: Number(d['earnings'] ?? 0),
      version: Number(d['version'] ?? 0),
      ts: Number(d['ts']),
    }));
  }

  async userExists(userId: string): Promise<boolean> {
    const [user, wallet] = await Promise.all([
      this.db.collection<Row>(COLLECTIONS.users).findOne({ _id: userId }, { projection: { _id: 1 } }),
      this.db.collection<Row>(COLLECTIONS.wallets).findOne({ _id: userId }, { projection: { _id: 1 } }),
    ]);
    return user !== null || wallet !== null;
  }

}

/** Without MongoDB (single-node development): wallets start empty, nothing to restore. */
export class EmptyMoneyStore implements MoneyStore {
  async loadWallet(): Promise<WalletSnapshot> {
    return { balance: 0, earnings: 0, version: 0 };
  }
  async recentGifts(): Promise<GiftRecord[]> {
    return [];
  }
  async recentCredits(): Promise<CreditRecord[]> {
    return [];
  }
  async userExists(): Promise<boolean> {
    return true;
  }
}
