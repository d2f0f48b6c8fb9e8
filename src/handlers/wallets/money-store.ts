/**
 * What the money domains read from MongoDB, the system of record: a wallet's balance when it is
 * not hot in Redis and the recent idempotency records that go with it, plus the HTTP reads (a
 * wallet's ledger page, gift popularity). Reads only: every write goes through the WriteQueue.
 */
import type { Db } from 'mongodb';
import { COLLECTIONS } from '../../store/collections.js';
import type { Documents } from '../../store/documents.js';
import type { CreditRecord, EntryType, GiftRecord, TransferRecord } from './ledger.js';

export interface WalletSnapshot {
  /** Sum of the wallet's ledger rows. */
  balance: number;
  /** Sum of its earning rows (gift_received, earning, commission). */
  earnings: number;
  /** The wallet document's version (0 when there is none). */
  version: number;
  /** Coins withdrawn: minus the sum of its withdrawal rows, less their reversals. */
  withdrawn: number;
}

/** One row of a wallet's ledger (`transactions`), as stored. */
export interface LedgerRow {
  id: string;
  userId: string;
  type: string;
  amount: number;
  currency: string;
  description: string;
  status: string;
  balanceBefore: number | null;
  balanceAfter: number | null;
  referenceId: string | null;
  referenceType: string | null;
  createdAt: Date;
}

/** Units of one gift sent in a time window. */
export interface GiftSendCount {
  giftId: string;
  quantity: number;
}

export interface MoneyStore {
  loadWallet(userId: string): Promise<WalletSnapshot>;
  /** Gifts this sender sent at or after `sinceMs` (to restore their idempotency records). */
  recentGifts(senderId: string, sinceMs: number): Promise<GiftRecord[]>;
  recentCredits(userId: string, sinceMs: number): Promise<CreditRecord[]>;
  /** Transfers this sender made at or after `sinceMs`. */
  recentTransfers(senderId: string, sinceMs: number): Promise<TransferRecord[]>;
  /** Whether a user is known (has an account or a wallet). */
  userExists(userId: string): Promise<boolean>;
  /** A page of a wallet's ledger, newest first, and the number of rows. */
  ledgerPage(userId: string, skip: number, limit: number): Promise<{ rows: LedgerRow[]; total: number }>;
  /** Units sent per gift since `sinceMs` (gift popularity). */
  giftSendCounts(sinceMs: number): Promise<GiftSendCount[]>;
}

/** A stored instant (a BSON Date, docs/PROTOCOL.md "Wire convention") as epoch ms; 0 when missing. */
const msOf = (value: unknown): number => (value instanceof Date ? value.getTime() : 0);

const EARNING_TYPES = new Set(['gift_received', 'earning', 'commission']);
/** Withdrawals are negative rows, their reversals positive: minus their sum is what left the wallet. */
const WITHDRAWAL_TYPES = new Set<string>(['withdrawal', 'withdrawal_reversal'] satisfies EntryType[]);

type Row = Record<string, unknown> & { _id: string };

export class MongoMoneyStore implements MoneyStore {
  constructor(private readonly documents: Documents) {}

  private get db(): Db {
    return this.documents.db();
  }

  async loadWallet(userId: string): Promise<WalletSnapshot> {
    // FerretDB supports $group with $sum; the sum per type gives both balance and earnings.
    const groups = await this.db
      .collection<Row>(COLLECTIONS.transactions)
      .aggregate<{ _id: string; sum: number }>([
        { $match: { userId, currency: 'coins', status: 'completed' } },
        { $group: { _id: '$type', sum: { $sum: '$amount' } } },
      ])
      .toArray();
    let balance = 0;
    let earnings = 0;
    let withdrawn = 0;
    for (const g of groups) {
      balance += g.sum;
      if (EARNING_TYPES.has(g._id)) earnings += g.sum;
      if (WITHDRAWAL_TYPES.has(g._id)) withdrawn -= g.sum;
    }
    const wallet = await this.db.collection<Row>(COLLECTIONS.wallets).findOne({ _id: userId }, { projection: { version: 1 } });
    const version = typeof wallet?.['version'] === 'number' ? wallet['version'] : 0;
    return { balance, earnings, version, withdrawn };
  }

  async recentGifts(senderId: string, sinceMs: number): Promise<GiftRecord[]> {
    const docs = await this.db
      .collection<Row>(COLLECTIONS.giftTransactions)
      .find({ senderId, createdAt: { $gte: new Date(sinceMs) } })
      .toArray();
    return docs.map(({ _id, status: _s, isPublic: _p, createdAt, updatedAt: _u, ...rest }) => ({
      ...(rest as unknown as Omit<GiftRecord, 'giftTransactionId' | 'ts'>),
      giftTransactionId: _id,
      ts: msOf(createdAt),
    }));
  }

  async recentCredits(userId: string, sinceMs: number): Promise<CreditRecord[]> {
    const docs = await this.db
      .collection<Row>(COLLECTIONS.transactions)
      .find({ userId, createdAt: { $gte: new Date(sinceMs) }, idempotencyKey: { $exists: true } })
      .toArray();
    return docs.map((d) => ({
      transactionId: d._id,
      idempotencyKey: String(d['idempotencyKey']),
      type: d['type'] as CreditRecord['type'],
      description: String(d['description'] ?? ''),
      ...(typeof d['referenceId'] === 'string' ? { referenceId: d['referenceId'], referenceType: String(d['referenceType'] ?? '') } : {}),
      userId,
      amount: Number(d['amount']),
      balanceBefore: Number(d['balanceBefore']),
      balanceAfter: Number(d['balanceAfter']),
      earnings: Number(d['earnings'] ?? 0),
      version: Number(d['version'] ?? 0),
      ts: msOf(d['createdAt']),
    }));
  }

  async recentTransfers(senderId: string, sinceMs: number): Promise<TransferRecord[]> {
    const docs = await this.db
      .collection<Row>(COLLECTIONS.walletTransfers)
      .find({ senderId, createdAt: { $gte: new Date(sinceMs) } })
      .toArray();
    return docs.map(({ _id, status: _s, createdAt, updatedAt: _u, ...rest }) => ({
      ...(rest as unknown as Omit<TransferRecord, 'transferId' | 'ts'>),
      transferId: _id,
      ts: msOf(createdAt),
    }));
  }

  async ledgerPage(userId: string, skip: number, limit: number): Promise<{ rows: LedgerRow[]; total: number }> {
    const ledger = this.db.collection<Row>(COLLECTIONS.transactions);
    const [docs, total] = await Promise.all([
      ledger.find({ userId }).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).toArray(),
      ledger.countDocuments({ userId }),
    ]);
    const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    const rows = docs.map((d) => ({
      id: d._id,
      userId,
      type: String(d['type'] ?? 'unknown'),
      amount: num(d['amount']) ?? 0,
      currency: String(d['currency'] ?? 'coins'),
      description: String(d['description'] ?? ''),
      status: String(d['status'] ?? 'completed'),
      balanceBefore: num(d['balanceBefore']),
      balanceAfter: num(d['balanceAfter']),
      referenceId: str(d['referenceId']),
      referenceType: str(d['referenceType']),
      createdAt: new Date(msOf(d['createdAt'])),
    }));
    return { rows, total };
  }

  async giftSendCounts(sinceMs: number): Promise<GiftSendCount[]> {
    const groups = await this.db
      .collection<Row>(COLLECTIONS.giftTransactions)
      .aggregate<{ _id: string; quantity: number }>([
        { $match: { createdAt: { $gte: new Date(sinceMs) } } },
        { $group: { _id: '$giftId', quantity: { $sum: '$quantity' } } },
      ])
      .toArray();
    return groups.map((g) => ({ giftId: String(g._id), quantity: Number(g.quantity) }));
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
    return { balance: 0, earnings: 0, version: 0, withdrawn: 0 };
  }
  async recentGifts(): Promise<GiftRecord[]> {
    return [];
  }
  async recentCredits(): Promise<CreditRecord[]> {
    return [];
  }
  async recentTransfers(): Promise<TransferRecord[]> {
    return [];
  }
  async userExists(): Promise<boolean> {
    return true;
  }
  async ledgerPage(): Promise<{ rows: LedgerRow[]; total: number }> {
    return { rows: [], total: 0 };
  }
  async giftSendCounts(): Promise<GiftSendCount[]> {
    return [];
  }
}
