/**
 * Pure functions from the outcome of a money script (a record) to the MongoDB writes that make it
 * permanent, and to the ack the client sees. Every write has a stable _id derived from the
 * idempotency key, so queuing the same record twice writes it once.
 */
import { createHash } from 'node:crypto';
import { COLLECTIONS } from '../../store/collections.js';
import type { WriteOp } from '../../store/write-queue.js';

export type GiftContext = 'livestream' | 'video' | 'profile' | 'message';

/** Fields the node snapshots before the script runs (copied into the record as they are). */
export interface GiftMeta {
  giftTransactionId: string;
  idempotencyKey: string;
  giftName: string;
  giftIcon: string;
  context: GiftContext;
  livestreamId: string | null;
  contentId: string | null;
  message: string | null;
  isAnonymous: boolean;
}

export interface PkScore {
  battleId: string;
  host1Score: number;
  host2Score: number;
  endsAt: number;
}

/** What gift-send.lua returns for an accepted gift (and replays verbatim). */
export interface GiftRecord extends GiftMeta {
  senderId: string;
  recipientId: string;
  giftId: string;
  quantity: number;
  unitPrice: number;
  totalCost: number;
  creatorEarnings: number;
  platformFee: number;
  senderBalanceBefore: number;
  senderBalanceAfter: number;
  senderVersion: number;
  recipientBalanceBefore: number;
  recipientBalanceAfter: number;
  recipientEarnings: number;
  recipientVersion: number;
  /** Redis server time of the gift, ms. */
  ts: number;
  giftCount?: number;
  giftCoins?: number;
  streamCoins?: number;
  streamGifts?: number;
  pk?: PkScore;
}

export type CreditType = 'bonus' | 'purchase' | 'refund' | 'earning' | 'commission';

/**
 * Ledger types of one-wallet entries: the credits, plus the payout pair. A `withdrawal` takes
 * earned coins out (negative amount); a `withdrawal_reversal` gives a failed payout's coins back.
 */
export type EntryType = CreditType | 'withdrawal' | 'withdrawal_reversal';

export interface CreditMeta {
  transactionId: string;
  idempotencyKey: string;
  type: EntryType;
  description: string;
  /** What caused the entry (a payment, a payout, an adjustment), copied into the ledger row. */
  referenceId?: string;
  referenceType?: string;
}

/** One wallet's credit or debit (`amount` is negative for a debit). */
export interface CreditRecord extends CreditMeta {
  userId: string;
  amount: number;
  balanceBefore: number;
  balanceAfter: number;
  earnings: number;
  version: number;
  ts: number;
}

/** Fields the node fixes before wallet-transfer.lua runs (copied into the record). */
export interface TransferMeta {
  transferId: string;
  idempotencyKey: string;
  note: string | null;
}

/** What wallet-transfer.lua returns for an accepted transfer (and replays verbatim). */
export interface TransferRecord extends TransferMeta {
  senderId: string;
  recipientId: string;
  amount: number;
  senderBalanceBefore: number;
  senderBalanceAfter: number;
  senderVersion: number;
  recipientBalanceBefore: number;
  recipientBalanceAfter: number;
  recipientVersion: number;
  ts: number;
}

/** The answer to a transfer; a replay returns the same object. `balance` is the sender's. */
export interface TransferAck {
  transferId: string;
  senderId: string;
  recipientId: string;
  amount: number;
  note: string | null;
  balance: number;
  createdAt: string;
}

/** The ack of `gift:send`; a replay returns the same object. */
export interface GiftAck {
  giftTransactionId: string;
  giftId: string;
  recipientId: string;
  livestreamId: string | null;
  quantity: number;
  unitPrice: number;
  totalCost: number;
  creatorEarnings: number;
  platformFee: number;
  balance: number;
  createdAt: string;
}

export interface CreditAck {
  transactionId: string;
  userId: string;
  amount: number;
  balance: number;
  createdAt: string;
}

/** Stable id part for (user, idempotency key): the same pair always maps to the same documents. */
export function stableId(userId: string, idempotencyKey: string): string {
  return createHash('sha256').update(`${userId}\u0000${idempotencyKey}`).digest('hex').slice(0, 24);
}

export const giftTransactionId = (senderId: string, key: string): string => `gift_${stableId(senderId, key)}`;
export const creditTransactionId = (userId: string, key: string): string => `credit_${stableId(userId, key)}`;
export const transferId = (senderId: string, key: string): string => `transfer_${stableId(senderId, key)}`;

/**
 * The creator's share: floor(total * percent / 100) whole coins; the platform keeps the rest
 * (so rounding always favours the platform by less than one coin). Same rule as gift-send.lua.
 */
export function splitEarnings(totalCost: number, creatorEarningsPercent: number): { creatorEarnings: number; platformFee: number } {
  const creatorEarnings = Math.floor((totalCost * creatorEarningsPercent) / 100);
  return { creatorEarnings, platformFee: totalCost - creatorEarnings };
}

export function giftAck(r: GiftRecord): GiftAck {
  return {
    giftTransactionId: r.giftTransactionId,
    giftId: r.giftId,
    recipientId: r.recipientId,
    livestreamId: r.livestreamId ?? null, // a record restored from MongoDB may lack null fields
    quantity: r.quantity,
    unitPrice: r.unitPrice,
    totalCost: r.totalCost,
    creatorEarnings: r.creatorEarnings,
    platformFee: r.platformFee,
    balance: r.senderBalanceAfter,
    createdAt: new Date(r.ts).toISOString(),
  };
}

export function creditAck(r: CreditRecord): CreditAck {
  return { transactionId: r.transactionId, userId: r.userId, amount: r.amount, balance: r.balanceAfter, createdAt: new Date(r.ts).toISOString() };
}

export function transferAck(r: TransferRecord): TransferAck {
  return {
    transferId: r.transferId,
    senderId: r.senderId,
    recipientId: r.recipientId,
    amount: r.amount,
    note: r.note ?? null,
    balance: r.senderBalanceAfter,
    createdAt: new Date(r.ts).toISOString(),
  };
}

/** The wallet document's balance, written only if this version is newer than the stored one. */
function walletOp(userId: string, version: number, balance: number, earnings: number | undefined, at: Date): WriteOp {
  const set: Record<string, unknown> = { userId, balance, currency: 'coins', updatedAt: at };
  if (earnings !== undefined) set['totalEarnings'] = earnings;
  return { kind: 'setIfNewer', collection: COLLECTIONS.wallets, id: userId, version, set };
}

/** One row of a wallet's ledger (collection `transactions`, seed 000's Transaction) for a gift or a transfer. */
function ledgerRow(row: {
  id: string;
  userId: string;
  type: EntryType | 'gift_sent' | 'gift_received' | 'transfer';
  amount: number;
  before: number;
  after: number;
  description: string;
  reference: { id: string; type: 'gift_transaction' | 'transfer' };
  at: Date;
}): WriteOp {
  return {
    kind: 'insert',
    collection: COLLECTIONS.transactions,
    doc: {
      _id: row.id,
      userId: row.userId,
      walletId: row.userId,
      type: row.type,
      amount: row.amount,
      currency: 'coins',
      description: row.description,
      status: 'completed',
      balanceBefore: row.before,
      balanceAfter: row.after,
      referenceId: row.reference.id,
      referenceType: row.reference.type,
      createdAt: row.at,
      updatedAt: row.at,
    },
  };
}

/** GiftTransaction + two ledger rows + both wallets' balances (versioned). */
export function giftWrites(r: GiftRecord): WriteOp[] {
  const at = new Date(r.ts);
  const label = `${r.quantity} x ${r.giftName}`;
  const { pk: _pk, giftCount: _n, giftCoins: _c, streamCoins: _sc, streamGifts: _sg, giftTransactionId: id, ts: _ts, ...fields } = r;
  const ledger = (
    suffix: string,
    userId: string,
    type: 'gift_sent' | 'gift_received',
    amount: number,
    before: number,
    after: number,
    description: string,
  ): WriteOp => ledgerRow({ id: `${id}:${suffix}`, userId, type, amount, before, after, description, reference: { id, type: 'gift_transaction' }, at });
  return [
    {
      kind: 'insert',
      collection: COLLECTIONS.giftTransactions,
      doc: { _id: id, ...fields, status: 'completed', isPublic: !r.isAnonymous, createdAt: at, updatedAt: at },
    },
    ledger('sent', r.senderId, 'gift_sent', -r.totalCost, r.senderBalanceBefore, r.senderBalanceAfter, `Sent ${label}`),
    ledger('received', r.recipientId, 'gift_received', r.creatorEarnings, r.recipientBalanceBefore, r.recipientBalanceAfter, `Received ${label}`),
    walletOp(r.senderId, r.senderVersion, r.senderBalanceAfter, undefined, at),
    walletOp(r.recipientId, r.recipientVersion, r.recipientBalanceAfter, r.recipientEarnings, at),
  ];
}

/** One ledger row + the wallet's balance (versioned). */
export function creditWrites(r: CreditRecord): WriteOp[] {
  const at = new Date(r.ts);
  return [
    {
      kind: 'insert',
      collection: COLLECTIONS.transactions,
      doc: {
        _id: r.transactionId,
        userId: r.userId,
        walletId: r.userId,
        type: r.type,
        amount: r.amount,
        currency: 'coins',
        description: r.description,
        status: 'completed',
        balanceBefore: r.balanceBefore,
        balanceAfter: r.balanceAfter,
        idempotencyKey: r.idempotencyKey,
        ...(r.referenceId !== undefined ? { referenceId: r.referenceId, referenceType: r.referenceType ?? null } : {}),
        version: r.version,
        earnings: r.earnings,
        createdAt: at,
        updatedAt: at,
      },
    },
    walletOp(r.userId, r.version, r.balanceAfter, r.earnings, at),
  ];
}

/** The transfer document + a ledger row per wallet (type `transfer`) + both wallets' balances (versioned). */
export function transferWrites(r: TransferRecord): WriteOp[] {
  const at = new Date(r.ts);
  const { transferId: id, ts: _ts, ...fields } = r;
  const ledger = (suffix: string, userId: string, amount: number, before: number, after: number, description: string): WriteOp =>
    ledgerRow({ id: `${id}:${suffix}`, userId, type: 'transfer', amount, before, after, description, reference: { id, type: 'transfer' }, at });
  return [
    { kind: 'insert', collection: COLLECTIONS.walletTransfers, doc: { _id: id, ...fields, status: 'completed', createdAt: at, updatedAt: at } },
    ledger('sent', r.senderId, -r.amount, r.senderBalanceBefore, r.senderBalanceAfter, `Transfer to ${r.recipientId}`),
    ledger('received', r.recipientId, r.amount, r.recipientBalanceBefore, r.recipientBalanceAfter, `Transfer from ${r.senderId}`),
    walletOp(r.senderId, r.senderVersion, r.senderBalanceAfter, undefined, at),
    walletOp(r.recipientId, r.recipientVersion, r.recipientBalanceAfter, undefined, at),
  ];
}
