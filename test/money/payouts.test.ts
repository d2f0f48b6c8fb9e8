/**
 * PaymentService.withdraw's failure paths, which the development provider never takes: a provider
 * that refuses the payout, and retries after a crash left a payout half done. Real MongoDB (the
 * run's FerretDB); the provider and the wallet ledger are in-memory fakes that count their calls.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PaymentProvider, PayoutEntryRequest, WalletCreditor } from '../../src/handlers/payments/providers.js';
import { PAYOUTS, PaymentService, payoutIdOf, type PayoutDoc } from '../../src/handlers/payments/service.js';
import { AppError } from '../../src/kernel/errors.js';

/** A ledger with one wallet per user, idempotent per (kind, payoutId) like the real one. */
class FakeLedger implements WalletCreditor {
  readonly balances = new Map<string, number>();
  readonly entries = new Map<string, { transactionId: string; balance: number }>();
  calls = { debit: 0, reverse: 0 };

  async credit(): Promise<{ transactionId: string; balance: number }> {
    throw new Error('not used');
  }

  private once(key: string, userId: string, delta: number): { transactionId: string; balance: number } {
    const earlier = this.entries.get(key);
    if (earlier) return earlier;
    const balance = (this.balances.get(userId) ?? 0) + delta;
    if (balance < 0) throw new AppError('insufficient_funds', 'not enough');
    this.balances.set(userId, balance);
    const entry = { transactionId: `tx:${key}`, balance };
    this.entries.set(key, entry);
    return entry;
  }

  async debitForPayout(r: PayoutEntryRequest): Promise<{ transactionId: string; balance: number }> {
    this.calls.debit++;
    return this.once(`withdrawal:${r.payoutId}`, r.userId, -r.coins);
  }

  async reversePayout(r: PayoutEntryRequest): Promise<{ transactionId: string; balance: number }> {
    this.calls.reverse++;
    return this.once(`withdrawal_reversal:${r.payoutId}`, r.userId, r.coins);
  }
}

class FakeProvider implements PaymentProvider {
  readonly id = 'fake';
  readonly displayName = 'Fake payouts';
  readonly development = true;
  paid: string[] = [];
  constructor(public outcome: 'succeed' | 'fail' | 'throw') {}
  async charge(): Promise<never> {
    throw new Error('not used');
  }
  async payout(r: { payoutId: string }) {
    if (this.outcome === 'throw') throw new Error('provider timed out');
    this.paid.push(r.payoutId);
    return this.outcome === 'succeed'
      ? { status: 'succeeded' as const, providerRef: `ref-${r.payoutId}` }
      : { status: 'failed' as const, providerRef: null, reason: 'account closed' };
  }
}

describe('withdrawals: provider refusals and retries', () => {
  let mongo: MongoClient;
  let db: Db;
  beforeAll(async () => {
    mongo = await new MongoClient(inject('mongoUrl')).connect();
    db = mongo.db(`payouts_${randomBytes(4).toString('hex')}`);
  });
  afterAll(async () => {
    await db.dropDatabase().catch(() => undefined);
    await mongo.close();
  });

  const setup = (outcome: FakeProvider['outcome']) => {
    const ledger = new FakeLedger();
    const provider = new FakeProvider(outcome);
    const events: Array<{ userId: string; event: string; data: unknown }> = [];
    const service = new PaymentService(
      () => db,
      new Map([[provider.id, provider]]),
      ledger,
      async (userId, event, data) => {
        events.push({ userId, event, data });
      },
    );
    return { ledger, provider, events, service };
  };
  const user = (): string => `u-${randomBytes(4).toString('hex')}`;
  const stored = (id: string) => db.collection<PayoutDoc>(PAYOUTS).findOne({ _id: id });

  it('a refused payout is marked failed and its coins come back once; a retry returns it as it is', async () => {
    const { ledger, provider, events, service } = setup('fail');
    const u = user();
    ledger.balances.set(u, 500);
    const first = await service.withdraw(u, { provider: 'fake', coins: 200, idempotencyKey: 'key-00000001' });
    expect(first).toMatchObject({ status: 'failed', failureReason: 'account closed', balanceAfter: 500 });
    expect(first.transactionId).toBe(`tx:withdrawal:${first._id}`);
    expect(first.reversalTransactionId).toBe(`tx:withdrawal_reversal:${first._id}`);
    expect(ledger.balances.get(u)).toBe(500);
    expect(events).toEqual([{ userId: u, event: 'payout:completed', data: { payoutId: first._id, coins: 200, status: 'failed', balance: 500 } }]);
    expect(await stored(first._id)).toMatchObject({ status: 'failed', reversalTransactionId: first.reversalTransactionId });

    provider.outcome = 'succeed';
    const again = await service.withdraw(u, { provider: 'fake', coins: 200, idempotencyKey: 'key-00000001' });
    expect(again.status).toBe('failed');
    expect(again.reversalTransactionId).toBe(first.reversalTransactionId);
    expect(ledger.calls).toEqual({ debit: 1, reverse: 1 });
    expect(provider.paid).toEqual([first._id]);
  });

  it('a payout left pending by a provider error is finished by the retry with the same key, debited once', async () => {
    const { ledger, provider, service } = setup('throw');
    const u = user();
    ledger.balances.set(u, 300);
    await expect(service.withdraw(u, { provider: 'fake', coins: 100, idempotencyKey: 'key-00000002' })).rejects.toThrow('provider timed out');
    const id = payoutIdOf(u, 'key-00000002');
    expect(await stored(id)).toMatchObject({ status: 'pending', coins: 100 });
    expect(ledger.balances.get(u)).toBe(200);

    provider.outcome = 'succeed';
    // The key names the request: the retry's other amount is ignored.
    const done = await service.withdraw(u, { provider: 'fake', coins: 250, idempotencyKey: 'key-00000002' });
    expect(done).toMatchObject({ _id: id, status: 'succeeded', coins: 100, balanceAfter: 200, providerRef: `ref-${id}` });
    expect(ledger.balances.get(u)).toBe(200);
    expect(ledger.calls.debit).toBe(2); // the second call was a replay of the ledger entry
    expect(ledger.entries.size).toBe(1);
    expect(await stored(id)).toMatchObject({ status: 'succeeded' });
  });

  it('a failed payout whose coins were not returned yet (crash) gets them back on the next read of its key', async () => {
    const { ledger, service } = setup('succeed');
    const u = user();
    ledger.balances.set(u, 100);
    const id = payoutIdOf(u, 'key-00000003');
    await ledger.debitForPayout({ userId: u, coins: 100, payoutId: id, description: 'x' });
    const now = new Date();
    await db.collection<PayoutDoc>(PAYOUTS).insertOne({
      _id: id,
      userId: u,
      provider: 'fake',
      coins: 100,
      status: 'failed',
      providerRef: null,
      failureReason: 'account closed',
      transactionId: `tx:withdrawal:${id}`,
      reversalTransactionId: null,
      balanceAfter: null,
      idempotencyKey: 'key-00000003',
      createdAt: now,
      updatedAt: now,
    });
    const read = await service.withdraw(u, { provider: 'fake', coins: 100, idempotencyKey: 'key-00000003' });
    expect(read).toMatchObject({ status: 'failed', reversalTransactionId: `tx:withdrawal_reversal:${id}`, balanceAfter: 100 });
    expect(ledger.balances.get(u)).toBe(100);
  });

  it('a refused debit leaves no payout behind, so the key may be retried', async () => {
    const { ledger, provider, service } = setup('succeed');
    const u = user();
    ledger.balances.set(u, 50);
    await expect(service.withdraw(u, { provider: 'fake', coins: 100, idempotencyKey: 'key-00000004' })).rejects.toMatchObject({ code: 'insufficient_funds' });
    expect(await stored(payoutIdOf(u, 'key-00000004'))).toBeNull();
    expect(provider.paid).toEqual([]);
    ledger.balances.set(u, 150);
    expect((await service.withdraw(u, { provider: 'fake', coins: 100, idempotencyKey: 'key-00000004' })).status).toBe('succeeded');
    expect(ledger.balances.get(u)).toBe(50);
    await expect(service.withdraw(u, { provider: 'fake', coins: 99, idempotencyKey: 'key-00000005' })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(service.withdraw(u, { provider: 'nope', coins: 100, idempotencyKey: 'key-00000006' })).rejects.toMatchObject({ code: 'not_found' });
  });
});
