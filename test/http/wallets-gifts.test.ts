/**
 * Wallets, coins and gifts over HTTP against a real gateway with the money path on (its own Redis,
 * a FerretDB database with the seeded catalogue, DEV_PAYMENTS=true). Every endpoint: success, 401,
 * validation, and someone else's resource; plus the seams: HTTP and socket share the services, the
 * idempotency keys and the socket events.
 */
import { MongoClient, type Db } from 'mongodb';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COLLECTIONS } from '../../src/store/collections.js';
import { seedCatalogue } from '../../src/tools/seed.js';
import { eventually } from '../money/support.js';
import { NativeClient, sioConnect, sioConnected, type ServerFrame } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { http, type HttpOptions, type HttpReply } from '../support/http.js';
import { removeDir, startRedis } from '../support/services.js';
import { FORGED, outcome, type Page } from './helpers.js';

interface Actor {
  id: string;
  token: string;
}
interface Wallet {
  userId: string;
  balance: number;
  currency: string;
  totalEarnings: number;
  withdrawn: number;
  withdrawable: number;
}
interface Transaction {
  id: string;
  userId: string;
  type: string;
  amount: number;
  balanceAfter: number | null;
  referenceId: string | null;
  referenceType: string | null;
}
interface Transfer {
  transferId: string;
  senderId: string;
  recipientId: string;
  amount: number;
  note: string | null;
  balance: number;
}
interface Payment {
  id: string;
  userId: string;
  status: string;
  coins: number;
  creditStatus: string;
  transactionId: string | null;
  balanceAfter: number | null;
}
interface Payout {
  id: string;
  userId: string;
  amount: number;
  status: string;
  transactionId: string | null;
  balance: number | null;
}
interface Gift {
  id: string;
  price: number;
  category: string;
  isActive: boolean;
  available: boolean;
  sortOrder: number;
}
interface GiftAck {
  giftTransactionId: string;
  giftId: string;
  recipientId: string;
  livestreamId: string | null;
  quantity: number;
  totalCost: number;
  creatorEarnings: number;
  balance: number;
}

let redis: Awaited<ReturnType<typeof startRedis>>;
let gw: GatewayProcess;
let mongo: MongoClient;
let db: Db;
let admin: Actor;
const tag = Math.random().toString(36).slice(2, 8);
let serial = 0;
const sockets: NativeClient[] = [];
const sioSockets: Socket[] = [];

const call = <T = unknown>(method: string, path: string, opts?: HttpOptions): Promise<HttpReply<T>> => http<T>(gw, method, path, opts);
const key = (name: string): string => `${name}-${tag}-${++serial}-key`;

/** A user with a token; `account` also creates the users document (recipients must be known). */
async function user(name: string, opts: { role?: 'admin'; account?: boolean } = {}): Promise<Actor> {
  const id = `${name}-${tag}-${++serial}`;
  if (opts.account !== false)
    await db.collection<{ _id: string }>(COLLECTIONS.users).insertOne({ _id: id, username: id, createdAt: new Date() } as { _id: string });
  return { id, token: await makeToken({ sub: id, ...(opts.role ? { role: opts.role } : {}) }) };
}

async function socketOf(actor: Actor): Promise<NativeClient> {
  const client = await NativeClient.connect(gw.ws, { token: actor.token });
  sockets.push(client);
  // Authenticated and subscribed to its user room once a request is answered.
  expect((await client.request('session:info')).error).toBeUndefined();
  return client;
}

/** Funds a wallet through the admin credit endpoint (the payments module's WalletCreditor). */
async function fund(actor: Actor, coins: number): Promise<void> {
  const res = await call<{ creditStatus: string }>('POST', '/api/payments/admin/credit', {
    token: admin.token,
    body: { userId: actor.id, coins, reason: 'test funding', idempotencyKey: key('fund') },
  });
  expect(res.status).toBe(201);
  expect(res.body.creditStatus).toBe('credited');
}

const wallet = async (actor: Actor): Promise<Wallet> => (await call<Wallet>('GET', '/api/wallets', { token: actor.token })).body;
const dataOf = <T>(frame: ServerFrame): T => frame.data as T;

beforeAll(async () => {
  redis = await startRedis();
  const dbName = `walletsgifts_${process.pid}`;
  mongo = await new MongoClient(inject('mongoUrl')).connect();
  db = mongo.db(dbName);
  await db.dropDatabase();
  await seedCatalogue(db);
  gw = await startGateway({
    REDIS_URL: redis.url,
    MONGO_URL: inject('mongoUrl'),
    MONGO_DB: dbName,
    DEV_PAYMENTS: 'true',
    HTTP_RATE_LIMIT_PER_SEC: '1000',
    HTTP_RATE_LIMIT_BURST: '1000',
    MONEY_OUTBOX_GRACE_MS: '1000',
    MONEY_OUTBOX_SWEEP_MS: '200',
  });
  await eventually(
    async () => (await fetch(`${gw.http}/readyz`)).status,
    (status) => status === 200,
  );
  admin = await user('finance', { role: 'admin' });
});

afterAll(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  for (const s of sioSockets) s.close();
  await gw?.stop();
  await db?.dropDatabase().catch(() => undefined);
  await mongo?.close();
  await redis?.stop();
  if (redis) removeDir(redis.dir);
});

describe('wallets', () => {
  it("GET /api/wallets answers the caller's hot wallet (401 without a valid token)", async () => {
    const alice = await user('alice');
    expect(await wallet(alice)).toEqual({ userId: alice.id, balance: 0, currency: 'coins', totalEarnings: 0, withdrawn: 0, withdrawable: 0 });
    await fund(alice, 500);
    // Purchased or credited coins are spendable, not withdrawable.
    expect(await wallet(alice)).toEqual({ userId: alice.id, balance: 500, currency: 'coins', totalEarnings: 0, withdrawn: 0, withdrawable: 0 });
    expect(outcome(await call('GET', '/api/wallets'))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('GET', '/api/wallets', { token: FORGED }))).toEqual([401, 'unauthorized']);
  });

  it('GET /api/wallets/:userId/balance: your own (same as wallet:balance), 403 for anyone else, admins any known user', async () => {
    const alice = await user('alice');
    const mallory = await user('mallory');
    await fund(alice, 250);
    const own = await call('GET', `/api/wallets/${alice.id}/balance`, { token: alice.token });
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ userId: alice.id, balance: 250, currency: 'coins' });
    const socket = await socketOf(alice);
    expect((await socket.request('wallet:balance')).data).toEqual(own.body);

    expect(outcome(await call('GET', `/api/wallets/${alice.id}/balance`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    // Not even whether a user exists leaks to a non-admin.
    expect(outcome(await call('GET', `/api/wallets/nobody-${tag}/balance`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect((await call('GET', `/api/wallets/${alice.id}/balance`, { token: admin.token })).body).toEqual({ userId: alice.id, balance: 250, currency: 'coins' });
    expect(outcome(await call('GET', `/api/wallets/nobody-${tag}/balance`, { token: admin.token }))).toEqual([404, 'not_found']);
    // Any token sub is a user id (1-128 characters): an odd one is someone else's wallet, a longer one invalid.
    expect(outcome(await call('GET', `/api/wallets/${encodeURIComponent('auth0|x y')}/balance`, { token: alice.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await call('GET', `/api/wallets/${'u'.repeat(129)}/balance`, { token: alice.token }))).toEqual([422, 'validation_failed']);
    const odd = `auth0|${tag} x@y`;
    const oddToken = await makeToken({ sub: odd });
    expect((await call('GET', `/api/wallets/${encodeURIComponent(odd)}/balance`, { token: oddToken })).body).toEqual({
      userId: odd,
      balance: 0,
      currency: 'coins',
    });
    expect(outcome(await call('GET', `/api/wallets/${alice.id}/balance`))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('GET', `/api/wallets/${alice.id}/balance`, { token: FORGED }))).toEqual([401, 'unauthorized']);
  });

  it('POST /api/wallets/transfer moves coins once per key, tells the recipient, and refuses what it must', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await fund(alice, 300);
    const bobSocket = await socketOf(bob);
    const body = { recipientId: bob.id, amount: 120, idempotencyKey: key('transfer'), note: 'for the pizza' };

    const sent = await call<Transfer>('POST', '/api/wallets/transfer', { token: alice.token, body });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ senderId: alice.id, recipientId: bob.id, amount: 120, note: 'for the pizza', balance: 180 });
    const event = await bobSocket.waitFor((f) => f.event === 'wallet:transfer' && dataOf<{ transferId: string }>(f).transferId === sent.body.transferId);
    expect(dataOf(event)).toMatchObject({ senderId: alice.id, amount: 120, note: 'for the pizza', balance: 120 });

    // A retry (same key, even with another amount) is the first transfer again: nothing moves twice.
    const again = await call<Transfer>('POST', '/api/wallets/transfer', { token: alice.token, body: { ...body, amount: 5 } });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(sent.body);
    expect((await wallet(alice)).balance).toBe(180);
    expect((await wallet(bob)).balance).toBe(120);
    // Transferred coins are not earnings: bob cannot withdraw them.
    expect((await wallet(bob)).withdrawable).toBe(0);

    expect(
      outcome(await call('POST', '/api/wallets/transfer', { token: alice.token, body: { ...body, amount: 181, idempotencyKey: key('transfer') } })),
    ).toEqual([422, 'insufficient_funds']);
    expect(
      outcome(await call('POST', '/api/wallets/transfer', { token: alice.token, body: { ...body, recipientId: alice.id, idempotencyKey: key('transfer') } })),
    ).toEqual([422, 'validation_failed']);
    expect(
      outcome(
        await call('POST', '/api/wallets/transfer', { token: alice.token, body: { ...body, recipientId: `nobody-${tag}`, idempotencyKey: key('transfer') } }),
      ),
    ).toEqual([404, 'not_found']);
    for (const bad of [{ amount: 0 }, { amount: 1.5 }, { amount: 1_000_001 }, { amount: '10' }, { idempotencyKey: 'short' }, { note: 'x'.repeat(201) }]) {
      expect(
        outcome(await call('POST', '/api/wallets/transfer', { token: alice.token, body: { ...body, idempotencyKey: key('transfer'), ...bad } })),
        JSON.stringify(bad),
      ).toEqual([422, 'validation_failed']);
    }
    const { idempotencyKey: _k, ...noKey } = body;
    expect(outcome(await call('POST', '/api/wallets/transfer', { token: alice.token, body: noKey }))).toEqual([422, 'validation_failed']);
    expect(outcome(await call('POST', '/api/wallets/transfer', { token: alice.token, raw: '{"recipientId":' }))).toEqual([400, 'bad_request']);
    // Someone else's wallet cannot be the source: there is no such field.
    expect(
      outcome(
        await call('POST', '/api/wallets/transfer', {
          token: bob.token,
          body: { ...body, idempotencyKey: key('transfer'), recipientId: bob.id, senderId: alice.id },
        }),
      ),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await call('POST', '/api/wallets/transfer', { body }))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('POST', '/api/wallets/transfer', { token: FORGED, body }))).toEqual([401, 'unauthorized']);
    expect((await wallet(alice)).balance).toBe(180);
    expect((await wallet(bob)).balance).toBe(120);
  });

  it('GET /api/wallets/:userId/transactions pages the ledger newest first; 403 for someone else, admins may read it', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const mallory = await user('mallory');
    await fund(alice, 100);
    const sent = await call<Transfer>('POST', '/api/wallets/transfer', {
      token: alice.token,
      body: { recipientId: bob.id, amount: 40, idempotencyKey: key('t') },
    });
    expect(sent.status).toBe(201);

    // Ledger rows reach MongoDB through the write queue: wait for both.
    const path = `/api/wallets/${alice.id}/transactions`;
    const all = await eventually(
      async () => (await call<Page<Transaction>>('GET', path, { token: alice.token })).body,
      (p) => p.total === 2,
    );
    expect(all.items.map((t) => [t.type, t.amount, t.balanceAfter])).toEqual([
      ['transfer', -40, 60],
      ['bonus', 100, 100],
    ]);
    expect(all.items[0]).toMatchObject({ userId: alice.id, referenceId: sent.body.transferId, referenceType: 'transfer' });
    const first = await call<Page<Transaction>>('GET', `${path}?limit=1`, { token: alice.token });
    expect(first.body).toMatchObject({ page: 1, limit: 1, total: 2, hasMore: true });
    expect(first.body.items.map((t) => t.id)).toEqual([all.items[0]!.id]);
    const second = await call<Page<Transaction>>('GET', `${path}?limit=1&page=2`, { token: alice.token });
    expect(second.body).toMatchObject({ page: 2, total: 2, hasMore: false });
    expect(second.body.items.map((t) => t.id)).toEqual([all.items[1]!.id]);
    const bobs = await eventually(
      async () => (await call<Page<Transaction>>('GET', `/api/wallets/${bob.id}/transactions`, { token: bob.token })).body,
      (p) => p.total === 1,
    );
    expect(bobs.items[0]).toMatchObject({ type: 'transfer', amount: 40, balanceAfter: 40 });

    expect(outcome(await call('GET', path, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect((await call<Page<Transaction>>('GET', path, { token: admin.token })).body.total).toBe(2);
    expect(outcome(await call('GET', `/api/wallets/nobody-${tag}/transactions`, { token: admin.token }))).toEqual([404, 'not_found']);
    expect(outcome(await call('GET', `${path}?limit=0`, { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await call('GET', `${path}?limit=101`, { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await call('GET', `${path}?page=abc`, { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await call('GET', `/api/wallets/${'u'.repeat(129)}/transactions`, { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await call('GET', path))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('GET', path, { token: FORGED }))).toEqual([401, 'unauthorized']);
  });

  it('POST /api/wallets/top-up buys a package through the development provider, once per key', async () => {
    const alice = await user('alice');
    const mallory = await user('mallory');
    const socket = await socketOf(alice);
    const body = { packageId: 'coins-550', idempotencyKey: key('topup') };
    const paid = await call<Payment>('POST', '/api/wallets/top-up', { token: alice.token, body });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ userId: alice.id, status: 'succeeded', coins: 550, creditStatus: 'credited', balanceAfter: 550 });
    expect((await socket.waitForEvent('payment:completed')).data).toEqual({ paymentId: paid.body.id, coins: 550, creditStatus: 'credited' });
    const again = await call<Payment>('POST', '/api/wallets/top-up', { token: alice.token, body: { ...body, packageId: 'coins-6500' } });
    expect(again.body).toEqual(paid.body);
    expect((await wallet(alice)).balance).toBe(550);
    const ledger = await eventually(
      async () => (await call<Page<Transaction>>('GET', `/api/wallets/${alice.id}/transactions`, { token: alice.token })).body,
      (p) => p.total === 1,
    );
    expect(ledger.items[0]).toMatchObject({ type: 'purchase', amount: 550, referenceId: paid.body.id, referenceType: 'payment' });

    // The payment it created is the buyer's: 403 for others.
    expect((await call('GET', `/api/payments/${paid.body.id}`, { token: alice.token })).status).toBe(200);
    expect(outcome(await call('GET', `/api/payments/${paid.body.id}`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await call('POST', '/api/wallets/top-up', { token: alice.token, body: { packageId: 'coins-nope', idempotencyKey: key('topup') } }))).toEqual(
      [404, 'not_found'],
    );
    expect(
      outcome(
        await call('POST', '/api/wallets/top-up', { token: alice.token, body: { packageId: 'coins-100', provider: 'stripe', idempotencyKey: key('topup') } }),
      ),
    ).toEqual([404, 'not_found']);
    expect(outcome(await call('POST', '/api/wallets/top-up', { token: alice.token, body: { packageId: 'coins-100' } }))).toEqual([422, 'validation_failed']);
    expect(
      outcome(
        await call('POST', '/api/wallets/top-up', { token: alice.token, body: { packageId: 'coins-100', idempotencyKey: key('topup'), amount: 100000 } }),
      ),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await call('POST', '/api/wallets/top-up', { body }))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('POST', '/api/wallets/top-up', { token: FORGED, body }))).toEqual([401, 'unauthorized']);
    expect((await wallet(alice)).balance).toBe(550);
  });

  it('POST /api/wallets/withdraw pays out earned coins only, records the debit in the ledger, once per key', async () => {
    const fan = await user('fan');
    const creator = await user('creator');
    await fund(fan, 1200);
    // rocket: 999 coins, 70 % to the creator -> 699 earned.
    const gift = await call<GiftAck>('POST', '/api/gifts/send', {
      token: fan.token,
      body: { giftId: 'rocket', quantity: 1, recipientId: creator.id, idempotencyKey: key('gift') },
    });
    expect(gift.body).toMatchObject({ creatorEarnings: 699, balance: 201 });
    expect(
      (await call('POST', '/api/wallets/transfer', { token: fan.token, body: { recipientId: creator.id, amount: 50, idempotencyKey: key('t') } })).status,
    ).toBe(201);
    expect(await wallet(creator)).toMatchObject({ balance: 749, totalEarnings: 699, withdrawn: 0, withdrawable: 699 });
    const creatorSocket = await socketOf(creator);

    expect(outcome(await call('POST', '/api/wallets/withdraw', { token: creator.token, body: { amount: 700, idempotencyKey: key('w') } }))).toEqual([
      422,
      'insufficient_funds',
    ]);
    const body = { amount: 600, idempotencyKey: key('w') };
    const paid = await call<Payout>('POST', '/api/wallets/withdraw', { token: creator.token, body });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ userId: creator.id, amount: 600, status: 'succeeded', balance: 149 });
    expect(dataOf(await creatorSocket.waitForEvent('payout:completed'))).toEqual({ payoutId: paid.body.id, coins: 600, status: 'succeeded', balance: 149 });
    const again = await call<Payout>('POST', '/api/wallets/withdraw', { token: creator.token, body: { ...body, amount: 100 } });
    expect(again.body).toEqual(paid.body);
    expect(await wallet(creator)).toMatchObject({ balance: 149, totalEarnings: 699, withdrawn: 600, withdrawable: 99 });
    const ledger = await eventually(
      async () => (await call<Page<Transaction>>('GET', `/api/wallets/${creator.id}/transactions`, { token: creator.token })).body,
      (p) => p.items.some((t) => t.type === 'withdrawal'),
    );
    expect(ledger.items.find((t) => t.type === 'withdrawal')).toMatchObject({
      id: paid.body.transactionId,
      amount: -600,
      balanceAfter: 149,
      referenceId: paid.body.id,
      referenceType: 'payout',
    });

    // Rules: at least 100 coins; purchased / credited coins are never withdrawable.
    expect(outcome(await call('POST', '/api/wallets/withdraw', { token: creator.token, body: { amount: 99, idempotencyKey: key('w') } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await call('POST', '/api/wallets/withdraw', { token: creator.token, body: { amount: 100, idempotencyKey: key('w') } }))).toEqual([
      422,
      'insufficient_funds',
    ]);
    expect(outcome(await call('POST', '/api/wallets/withdraw', { token: fan.token, body: { amount: 100, idempotencyKey: key('w') } }))).toEqual([
      422,
      'insufficient_funds',
    ]);
    expect(
      outcome(await call('POST', '/api/wallets/withdraw', { token: creator.token, body: { amount: 100, provider: 'paypal', idempotencyKey: key('w') } })),
    ).toEqual([404, 'not_found']);
    for (const bad of [{ amount: 1_000_001 }, { amount: 150.5 }, { idempotencyKey: 'bad key!' }]) {
      expect(
        outcome(await call('POST', '/api/wallets/withdraw', { token: creator.token, body: { ...body, idempotencyKey: key('w'), ...bad } })),
        JSON.stringify(bad),
      ).toEqual([422, 'validation_failed']);
    }
    // Someone else's wallet: no field names one, and the fan's earnings are the fan's only.
    expect(
      outcome(await call('POST', '/api/wallets/withdraw', { token: fan.token, body: { amount: 100, idempotencyKey: key('w'), userId: creator.id } })),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await call('POST', '/api/wallets/withdraw', { body }))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('POST', '/api/wallets/withdraw', { token: FORGED, body }))).toEqual([401, 'unauthorized']);
    expect((await wallet(creator)).balance).toBe(149);
  });
});

describe('coins', () => {
  it('GET /api/coins/packages lists the active packages in shop order, paginated', async () => {
    const alice = await user('alice');
    const all = await call<Page<{ id: string; coins: number; bonusCoins: number; totalCoins: number; price: number }>>('GET', '/api/coins/packages', {
      token: alice.token,
    });
    expect(all.status).toBe(200);
    expect(all.body.items.map((p) => p.id)).toEqual(['coins-100', 'coins-550', 'coins-1200', 'coins-6500']);
    expect(all.body.items[1]).toMatchObject({ coins: 500, bonusCoins: 50, totalCoins: 550, price: 4.99 });
    const page2 = await call<Page<{ id: string }>>('GET', '/api/coins/packages?limit=3&page=2', { token: alice.token });
    expect(page2.body).toMatchObject({ total: 4, hasMore: false, page: 2, limit: 3 });
    expect(page2.body.items.map((p) => p.id)).toEqual(['coins-6500']);
    expect(outcome(await call('GET', '/api/coins/packages?limit=0', { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await call('GET', '/api/coins/packages'))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('GET', '/api/coins/packages', { token: FORGED }))).toEqual([401, 'unauthorized']);
  });

  it('POST /api/coins/purchase credits the package once per key, shared with the coins:purchase socket event', async () => {
    const alice = await user('alice');
    const mallory = await user('mallory');
    const body = { packageId: 'coins-1200', provider: 'dev', idempotencyKey: key('buy') };
    const bought = await call<Payment>('POST', '/api/coins/purchase', { token: alice.token, body });
    expect(bought.status).toBe(201);
    expect(bought.body).toMatchObject({ userId: alice.id, status: 'succeeded', coins: 1200, creditStatus: 'credited', balanceAfter: 1200 });
    // The same key over the socket is a replay of the HTTP purchase, not a second one.
    const socket = await socketOf(alice);
    const overSocket = await socket.request('coins:purchase', { packageId: 'coins-1200', idempotencyKey: body.idempotencyKey });
    expect(overSocket.data).toMatchObject({ paymentId: bought.body.id, transactionId: bought.body.transactionId, amount: 1200, balance: 1200, price: 9.99 });
    // And a key first used over the socket is a replay over HTTP.
    const socketKey = key('buy');
    const first = await socket.request('coins:purchase', { packageId: 'coins-100', idempotencyKey: socketKey });
    expect(first.data).toMatchObject({ amount: 100, balance: 1300 });
    const replay = await call<Payment>('POST', '/api/coins/purchase', { token: alice.token, body: { packageId: 'coins-100', idempotencyKey: socketKey } });
    expect(replay.body.id).toBe((first.data as { paymentId: string }).paymentId);
    expect((await wallet(alice)).balance).toBe(1300);

    expect(outcome(await call('GET', `/api/payments/${bought.body.id}`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await call('POST', '/api/coins/purchase', { token: alice.token, body: { packageId: 'nope', idempotencyKey: key('buy') } }))).toEqual([
      404,
      'not_found',
    ]);
    expect(outcome(await call('POST', '/api/coins/purchase', { token: alice.token, body: { packageId: 'coins-100', idempotencyKey: 'has space!' } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(
      outcome(await call('POST', '/api/coins/purchase', { token: alice.token, body: { packageId: 'coins-100', idempotencyKey: key('buy'), coins: 1e9 } })),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await call('POST', '/api/coins/purchase', { body }))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('POST', '/api/coins/purchase', { token: FORGED, body }))).toEqual([401, 'unauthorized']);
    expect((await wallet(alice)).balance).toBe(1300);
  });
});

describe('gifts', () => {
  it('GET /api/gifts is the active catalogue in shop order, filterable by category, paginated', async () => {
    const alice = await user('alice');
    const all = await call<Page<Gift>>('GET', '/api/gifts?limit=100', { token: alice.token });
    expect(all.status).toBe(200);
    expect(all.body.items.map((g) => g.id)).toEqual(['rose', 'heart', 'coffee', 'star', 'fireworks', 'rocket', 'castle', 'pumpkin']);
    expect(all.body.items.find((g) => g.id === 'pumpkin')).toMatchObject({ isActive: true, available: false }); // outside its window
    const socket = await socketOf(alice);
    expect(((await socket.request('gift:catalog')).data as { gifts: Gift[] }).gifts.map((g) => g.id)).toEqual(all.body.items.map((g) => g.id));
    const premium = await call<Page<Gift>>('GET', '/api/gifts?category=premium', { token: alice.token });
    expect(premium.body.items.map((g) => g.id)).toEqual(['rocket', 'castle']);
    const page = await call<Page<Gift>>('GET', '/api/gifts?limit=3&page=3', { token: alice.token });
    expect(page.body).toMatchObject({ total: 8, page: 3, limit: 3, hasMore: false });
    expect(page.body.items.map((g) => g.id)).toEqual(['castle', 'pumpkin']);
    expect(outcome(await call('GET', '/api/gifts?page=0', { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await call('GET', '/api/gifts'))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('GET', '/api/gifts', { token: FORGED }))).toEqual([401, 'unauthorized']);
  });

  it('GET /api/gifts/:id answers any catalogue gift, 404 for unknown ones', async () => {
    const alice = await user('alice');
    const rose = await call<Gift>('GET', '/api/gifts/rose', { token: alice.token });
    expect(rose.status).toBe(200);
    expect(rose.body).toMatchObject({ id: 'rose', price: 1, available: true, isActive: true, category: 'basic' });
    expect((await call<Gift>('GET', '/api/gifts/retired-crown', { token: alice.token })).body).toMatchObject({ isActive: false, available: false });
    expect(outcome(await call('GET', '/api/gifts/no-such-gift', { token: alice.token }))).toEqual([404, 'not_found']);
    expect(outcome(await call('GET', '/api/gifts/bad%20id', { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await call('GET', '/api/gifts/rose'))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('GET', '/api/gifts/rose', { token: FORGED }))).toEqual([401, 'unauthorized']);
  });

  it('POST /api/gifts/send into a stream: the same gift:send path, so socket viewers get gift:sent', async () => {
    const host = await user('host');
    const fan = await user('fan');
    const viewer = await user('viewer');
    await fund(fan, 100);
    const hostSocket = await socketOf(host);
    const started = await hostSocket.request('livestream:start', { title: 'gifts over http' });
    expect(started.error).toBeUndefined();
    const livestreamId = (started.data as { livestreamId: string }).livestreamId;
    // A Socket.IO viewer (the Flutter client's dialect) in the stream room.
    const sio = sioConnect(gw.http, { token: viewer.token });
    sioSockets.push(sio);
    await sioConnected(sio);
    const frames: Array<Record<string, unknown>> = [];
    sio.on('gift:sent', (data: Record<string, unknown>) => frames.push(data));
    const joined = (await sio.emitWithAck('livestream:join', { livestreamId })) as { hostId?: string };
    expect(joined.hostId).toBe(host.id);

    const body = { giftId: 'star', quantity: 2, livestreamId: livestreamId, idempotencyKey: key('gift'), message: 'gg' };
    const sent = await call<GiftAck>('POST', '/api/gifts/send', { token: fan.token, body });
    expect(sent.status).toBe(201);
    // star: 33 coins, 60 % -> floor(66 * 0.6) = 39 to the host.
    expect(sent.body).toMatchObject({
      giftId: 'star',
      recipientId: host.id,
      livestreamId: livestreamId,
      quantity: 2,
      totalCost: 66,
      creatorEarnings: 39,
      balance: 34,
    });
    const onHost = await hostSocket.waitForEvent('gift:sent');
    expect(dataOf(onHost)).toMatchObject({
      livestreamId: livestreamId,
      recipientId: host.id,
      sender: { userId: fan.id },
      giftId: 'star',
      count: 2,
      coins: 66,
      message: 'gg',
    });
    await eventually(
      async () => frames.length,
      (n) => n >= 1,
      10_000,
    );
    expect(frames[0]).toMatchObject({ livestreamId: livestreamId, sender: { userId: fan.id }, giftId: 'star', count: 2, coins: 66 });

    // A retry is the first gift: same ack, nothing charged, no second frame (the rose sent after it
    // is published after anything the retry could have caused).
    expect((await call<GiftAck>('POST', '/api/gifts/send', { token: fan.token, body })).body).toEqual(sent.body);
    expect(
      (
        await call('POST', '/api/gifts/send', {
          token: fan.token,
          body: { giftId: 'rose', quantity: 1, livestreamId: livestreamId, idempotencyKey: key('gift') },
        })
      ).status,
    ).toBe(201);
    await eventually(
      async () => frames.some((f) => f['giftId'] === 'rose'),
      (seen) => seen,
      10_000,
    );
    expect(frames.filter((f) => f['giftId'] === 'star')).toHaveLength(1);
    expect((await wallet(fan)).balance).toBe(33);
    expect((await wallet(host)).balance).toBe(39); // a 1-coin rose at 50 % gives the host 0
    const totals = (await hostSocket.request('gift:totals', { livestreamId: livestreamId })).data as { coins: number; gifts: number };
    expect(totals).toMatchObject({ coins: 67, gifts: 3 });
  });

  it('POST /api/gifts/send to a user reaches their socket; keys are shared with gift:send; refusals charge nothing', async () => {
    const fan = await user('fan');
    const creator = await user('creator');
    await fund(fan, 20);
    const creatorSocket = await socketOf(creator);
    const fanSocket = await socketOf(fan);
    const body = { giftId: 'heart', quantity: 2, recipientId: creator.id, context: 'profile', idempotencyKey: key('gift') };
    const sent = await call<GiftAck>('POST', '/api/gifts/send', { token: fan.token, body });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ recipientId: creator.id, livestreamId: null, totalCost: 10, creatorEarnings: 5, balance: 10 });
    const frame = await creatorSocket.waitForEvent('gift:sent');
    expect(dataOf(frame)).toMatchObject({
      livestreamId: null,
      recipientId: creator.id,
      sender: { userId: fan.id },
      giftId: 'heart',
      count: 2,
      coins: 10,
      totals: null,
    });
    // The socket with the same key gets the HTTP outcome, and the other way round.
    expect((await fanSocket.request('gift:send', body)).data).toEqual(sent.body);
    const socketBody = { ...body, giftId: 'rose', quantity: 1, idempotencyKey: key('gift') };
    const overSocket = await fanSocket.request('gift:send', socketBody);
    expect(overSocket.data).toMatchObject({ totalCost: 1, balance: 9 });
    expect((await call<GiftAck>('POST', '/api/gifts/send', { token: fan.token, body: socketBody })).body).toEqual(overSocket.data);

    // Refusals (nothing charged): funds, unknown, inactive, yourself, schema.
    const send = (over: Record<string, unknown>, token = fan.token) =>
      call('POST', '/api/gifts/send', { token, body: { ...body, idempotencyKey: key('gift'), ...over } });
    expect(outcome(await send({ giftId: 'castle' }))).toEqual([422, 'insufficient_funds']);
    expect(outcome(await send({ giftId: 'no-such-gift' }))).toEqual([404, 'not_found']);
    expect(outcome(await send({ recipientId: `nobody-${tag}` }))).toEqual([404, 'not_found']);
    expect(outcome(await send({ recipientId: undefined, livestreamId: `no-stream-${tag}` }))).toEqual([404, 'not_found']);
    expect(outcome(await send({ giftId: 'retired-crown' }))).toEqual([409, 'conflict']);
    expect(outcome(await send({ recipientId: fan.id }))).toEqual([400, 'bad_request']);
    for (const bad of [{ quantity: 0 }, { quantity: 10_000 }, { quantity: 1.5 }, { idempotencyKey: 'short' }, { context: 'stream' }]) {
      expect(outcome(await send(bad)), JSON.stringify(bad)).toEqual([422, 'validation_failed']);
    }
    expect(outcome(await send({ recipientId: undefined }))).toEqual([422, 'validation_failed']);
    // Spending someone else's wallet: there is no field for it.
    expect(outcome(await send({ senderId: creator.id }, creator.token))).toEqual([422, 'validation_failed']);
    expect(outcome(await call('POST', '/api/gifts/send', { body }))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('POST', '/api/gifts/send', { token: FORGED, body }))).toEqual([401, 'unauthorized']);
    expect((await wallet(fan)).balance).toBe(9);
  });

  it('GET /api/gifts/popular ranks sendable gifts by units sent in the last week', async () => {
    const fan = await user('fan');
    const creator = await user('creator');
    await fund(fan, 600);
    // Far more than any other test sends (at most 2 units of a gift), and coffee only here.
    for (const [giftId, quantity] of [
      ['coffee', 40],
      ['heart', 30],
    ] as const) {
      const res = await call('POST', '/api/gifts/send', { token: fan.token, body: { giftId, quantity, recipientId: creator.id, idempotencyKey: key('gift') } });
      expect(res.status).toBe(201);
    }
    // The ranking reads gift transactions from MongoDB (written through the queue): wait for these
    // two before the first (cached) read.
    await eventually(
      () => db.collection(COLLECTIONS.giftTransactions).countDocuments({ senderId: fan.id }),
      (n) => n === 2,
    );
    const popular = await call<Page<Gift & { sentLastWeek: number }>>('GET', '/api/gifts/popular?limit=100', { token: fan.token });
    expect(popular.status).toBe(200);
    const ranked = popular.body.items.map((g) => [g.id, g.sentLastWeek] as const);
    expect(ranked[0]).toEqual(['coffee', 40]);
    expect(ranked[1]![0]).toBe('heart');
    expect(ranked[1]![1]).toBeGreaterThanOrEqual(30);
    expect(ranked.map(([, n]) => n)).toEqual([...ranked.map(([, n]) => n)].sort((x, y) => y - x));
    // Only gifts that can be sent now; never-sent ones follow in shop order.
    expect(popular.body.items.map((g) => g.id)).not.toContain('pumpkin');
    expect(popular.body.items.map((g) => g.id)).not.toContain('retired-crown');
    expect(popular.body.total).toBe(7);
    const second = await call<Page<Gift>>('GET', '/api/gifts/popular?limit=2&page=2', { token: fan.token });
    expect(second.body).toMatchObject({ page: 2, limit: 2, total: 7, hasMore: true });
    expect(second.body.items.map((g) => g.id)).toEqual(popular.body.items.slice(2, 4).map((g) => g.id));
    expect(outcome(await call('GET', '/api/gifts/popular?limit=1000', { token: fan.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await call('GET', '/api/gifts/popular'))).toEqual([401, 'unauthorized']);
    expect(outcome(await call('GET', '/api/gifts/popular', { token: FORGED }))).toEqual([401, 'unauthorized']);
  });
});

describe('after a Redis loss', () => {
  it('wallets reload from the ledger with what was withdrawn; retried transfers and payouts move nothing', async () => {
    const fan = await user('fan');
    const creator = await user('creator');
    const friend = await user('friend');
    await fund(fan, 1250);
    expect(
      (
        await call('POST', '/api/gifts/send', {
          token: fan.token,
          body: { giftId: 'rocket', quantity: 1, recipientId: creator.id, idempotencyKey: key('gift') },
        })
      ).status,
    ).toBe(201);
    // Coins the creator holds but did not earn: withdrawable stays below the balance.
    expect(
      (await call('POST', '/api/wallets/transfer', { token: fan.token, body: { recipientId: creator.id, amount: 150, idempotencyKey: key('t') } })).status,
    ).toBe(201);
    const transferBody = { recipientId: friend.id, amount: 100, idempotencyKey: key('t') };
    const transfer = await call<Transfer>('POST', '/api/wallets/transfer', { token: fan.token, body: transferBody });
    expect(transfer.status).toBe(201);
    const withdrawBody = { amount: 300, idempotencyKey: key('w') };
    const payout = await call<Payout>('POST', '/api/wallets/withdraw', { token: creator.token, body: withdrawBody });
    expect(payout.body).toMatchObject({ status: 'succeeded', balance: 549 });
    const before = { fan: await wallet(fan), creator: await wallet(creator), friend: await wallet(friend) };
    expect(before.creator).toMatchObject({ balance: 549, totalEarnings: 699, withdrawn: 300, withdrawable: 399 });
    expect(before.fan.balance).toBe(1);

    // Everything is in MongoDB (ledger rows and versioned wallet documents) before Redis goes away.
    const walletDoc = (id: string) => db.collection<{ _id: string; balance?: number }>(COLLECTIONS.wallets).findOne({ _id: id });
    await eventually(
      () => walletDoc(creator.id),
      (w) => w?.balance === 549,
    );
    await eventually(
      () => walletDoc(fan.id),
      (w) => w?.balance === 1,
    );
    await eventually(
      () => walletDoc(friend.id),
      (w) => w?.balance === 100,
    );
    await eventually(
      () => db.collection(COLLECTIONS.walletTransfers).countDocuments({ senderId: fan.id }),
      (n) => n === 2,
    );

    const port = redis.port;
    await redis.stop();
    redis = await startRedis({ port, dir: redis.dir });
    await eventually(
      async () => (await fetch(`${gw.http}/readyz`)).status,
      (status) => status === 200,
    );

    // Wallets come back from the ledger sums, withdrawn included (so nothing becomes withdrawable twice).
    expect(await wallet(creator)).toEqual(before.creator);
    expect(await wallet(fan)).toEqual(before.fan);
    expect(await wallet(friend)).toEqual(before.friend);
    // Retries after the loss are replays: the transfer record is restored with the sender's wallet.
    expect((await call<Transfer>('POST', '/api/wallets/transfer', { token: fan.token, body: transferBody })).body).toEqual(transfer.body);
    expect((await call<Payout>('POST', '/api/wallets/withdraw', { token: creator.token, body: withdrawBody })).body).toEqual(payout.body);
    expect((await wallet(fan)).balance).toBe(1);
    expect((await wallet(friend)).balance).toBe(100);
    expect((await wallet(creator)).balance).toBe(549);
    expect(outcome(await call('POST', '/api/wallets/withdraw', { token: creator.token, body: { amount: 400, idempotencyKey: key('w') } }))).toEqual([
      422,
      'insufficient_funds',
    ]);
    expect((await call<Payout>('POST', '/api/wallets/withdraw', { token: creator.token, body: { amount: 399, idempotencyKey: key('w') } })).body).toMatchObject(
      { status: 'succeeded', balance: 150 },
    );
  });
});
