/** Pure money logic: the earnings split, stable ids, ledger writes, availability windows, coalescing. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOGUE } from '../../src/handlers/gifts/catalog-defaults.js';
import { GiftCoalescer, type GiftSentFrame } from '../../src/handlers/gifts/coalescer.js';
import { isGiftAvailable } from '../../src/handlers/gifts/model.js';
import { giftTransactionId, giftWrites, splitEarnings, type GiftRecord } from '../../src/handlers/wallets/ledger.js';
import { MoneyMetrics } from '../../src/handlers/wallets/metrics.js';

const gift = (id: string) => DEFAULT_CATALOGUE.gifts.find((g) => g._id === id)!;

function record(over: Partial<GiftRecord> = {}): GiftRecord {
  return {
    giftTransactionId: giftTransactionId('fan', 'key-00000001'),
    idempotencyKey: 'key-00000001',
    giftName: 'Star',
    giftIcon: '⭐',
    context: 'livestream',
    livestreamId: 's1',
    contentId: null,
    message: null,
    isAnonymous: false,
    senderId: 'fan',
    recipientId: 'host',
    giftId: 'star',
    quantity: 3,
    unitPrice: 33,
    totalCost: 99,
    creatorEarnings: 59,
    platformFee: 40,
    senderBalanceBefore: 100,
    senderBalanceAfter: 1,
    senderVersion: 7,
    recipientBalanceBefore: 0,
    recipientBalanceAfter: 59,
    recipientEarnings: 59,
    recipientVersion: 3,
    ts: 1_700_000_000_000,
    ...over,
  };
}

describe('earnings split', () => {
  it('floors the creator share to whole coins; the platform keeps the rest', () => {
    expect(splitEarnings(99, 60)).toEqual({ creatorEarnings: 59, platformFee: 40 });
    expect(splitEarnings(1, 50)).toEqual({ creatorEarnings: 0, platformFee: 1 });
    expect(splitEarnings(10, 100)).toEqual({ creatorEarnings: 10, platformFee: 0 });
    expect(splitEarnings(0, 70)).toEqual({ creatorEarnings: 0, platformFee: 0 });
    for (let total = 0; total < 500; total += 7) {
      for (const pct of [0, 33, 50, 60, 70, 100]) {
        const { creatorEarnings, platformFee } = splitEarnings(total, pct);
        expect(creatorEarnings + platformFee).toBe(total);
        expect(creatorEarnings).toBeLessThanOrEqual((total * pct) / 100);
        expect((total * pct) / 100 - creatorEarnings).toBeLessThan(1);
      }
    }
  });
});

describe('ledger writes', () => {
  it('derives the same ids from the same (sender, key) and different ones otherwise', () => {
    expect(giftTransactionId('a', 'key-1234')).toBe(giftTransactionId('a', 'key-1234'));
    expect(giftTransactionId('a', 'key-1234')).not.toBe(giftTransactionId('b', 'key-1234'));
  });

  it('writes a GiftTransaction, two ledger rows and both versioned wallets', () => {
    const ops = giftWrites(record());
    const id = giftTransactionId('fan', 'key-00000001');
    expect(ops.map((op) => [op.kind, op.collection, op.kind === 'insert' ? op.doc._id : op.id])).toEqual([
      ['insert', 'gifttransactions', id],
      ['insert', 'transactions', `${id}:sent`],
      ['insert', 'transactions', `${id}:received`],
      ['setIfNewer', 'wallets', 'fan'],
      ['setIfNewer', 'wallets', 'host'],
    ]);
    const amounts = ops.flatMap((op) => (op.kind === 'insert' && op.collection === 'transactions' ? [op.doc['amount']] : []));
    expect(amounts).toEqual([-99, 59]);
    expect(ops[3]).toMatchObject({ version: 7, set: { balance: 1 } });
    expect(ops[4]).toMatchObject({ version: 3, set: { balance: 59, totalEarnings: 59 } });
    expect(giftWrites(record())).toEqual(ops); // deterministic: a re-queued record writes the same documents
  });
});

describe('gift availability', () => {
  it('needs isActive and the window [availableFrom, availableUntil)', () => {
    const pumpkin = gift('pumpkin');
    expect(isGiftAvailable(pumpkin, new Date('2026-10-14T23:59:59Z'))).toBe(false);
    expect(isGiftAvailable(pumpkin, new Date('2026-10-15T00:00:00Z'))).toBe(true);
    expect(isGiftAvailable(pumpkin, new Date('2026-11-01T00:00:00Z'))).toBe(false);
    expect(isGiftAvailable(gift('retired-crown'), new Date())).toBe(false);
    expect(isGiftAvailable(gift('rose'), new Date())).toBe(true);
  });
});

describe('gift coalescer', () => {
  it('folds sends per (room, sender, gift) into one frame per tick, keeping the newest totals', () => {
    const published: Array<{ room: string; frame: GiftSentFrame }> = [];
    const coalescer = new GiftCoalescer(
      (room, _event, data) => published.push({ room, frame: data as GiftSentFrame }),
      1_000_000,
      3000,
      new MoneyMetrics(new Registry(), { outboxPending: async () => 0, pkActive: async () => 0 }),
    );
    const star = gift('star');
    for (let i = 1; i <= 5; i++)
      coalescer.add(record({ quantity: 1, totalCost: 33, ts: 1000 + i, giftCount: i, giftCoins: 33 * i, streamCoins: 33 * i, streamGifts: i }), star);
    coalescer.add(record({ senderId: 'other', quantity: 2, totalCost: 66, ts: 1010, giftCount: 7, giftCoins: 231, streamCoins: 231, streamGifts: 7 }), star);
    coalescer.add(record({ isAnonymous: true, quantity: 1, totalCost: 33, ts: 1011, giftCount: 8, giftCoins: 264, streamCoins: 264, streamGifts: 8 }), star);
    coalescer.flush();
    expect(published).toHaveLength(3);
    expect(published.every((p) => p.room === 'live:s1')).toBe(true);
    const fan = published.find((p) => p.frame.sender?.userId === 'fan')!.frame;
    expect(fan).toMatchObject({ count: 5, coins: 165, sends: 5, totals: { giftCount: 5, streamGifts: 5 }, combo: { count: 5 } });
    expect(published.find((p) => p.frame.sender?.userId === 'other')!.frame).toMatchObject({ count: 2, sends: 1 });
    const anonymous = published.find((p) => p.frame.sender === null)!.frame;
    expect(anonymous).toMatchObject({ count: 1, combo: { id: fan.combo.id, count: 6 } });
    coalescer.flush();
    expect(published).toHaveLength(3);
  });

  it('starts a new combo after a gap longer than the window', () => {
    const frames: GiftSentFrame[] = [];
    const coalescer = new GiftCoalescer(
      (_r, _e, data) => frames.push(data as GiftSentFrame),
      1_000_000,
      3000,
      new MoneyMetrics(new Registry(), { outboxPending: async () => 0, pkActive: async () => 0 }),
    );
    coalescer.add(record({ ts: 10_000 }), gift('star'));
    coalescer.flush();
    coalescer.add(record({ ts: 14_000 }), gift('star'));
    coalescer.flush();
    expect(frames[1]!.combo.id).not.toBe(frames[0]!.combo.id);
    expect(frames[1]!.combo.count).toBe(3);
  });
});
