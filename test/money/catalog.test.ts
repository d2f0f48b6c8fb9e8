/** The catalogue: the seed command is idempotent; gateways pick up a changed catalogue via catalog:version. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COLLECTIONS } from '../../src/store/collections.js';
import { ROOT } from '../support/services.js';
import { connect, errorCode, eventually, ok, startMoneyEnv, uid, type MoneyEnv } from './support.js';

const run = promisify(execFile);

describe('gift catalogue', () => {
  let env: MoneyEnv;
  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2, { CATALOG_REFRESH_MS: '200', DEV_PAYMENTS: 'true' });
  });
  afterAll(async () => {
    await env.close();
  });

  it('seeds idempotently and every node reloads a changed catalogue', async () => {
    const seed = () =>
      run(process.execPath, [join(ROOT, 'dist', 'src', 'tools', 'seed.js')], {
        env: { PATH: process.env['PATH'], MONGO_URL: env.mongoUrl, MONGO_DB: env.dbName, REDIS_URL: env.redis.url },
      });
    const first = JSON.parse((await seed()).stdout) as { counts: Record<string, number>; catalogVersion: number };
    const second = JSON.parse((await seed()).stdout) as { counts: Record<string, number>; catalogVersion: number };
    expect(second.counts).toEqual(first.counts);
    expect(second.catalogVersion).toBe(first.catalogVersion + 1);
    expect(await env.db.collection(COLLECTIONS.gifts).countDocuments()).toBe(first.counts['gifts']);

    const clients = await Promise.all(env.gateways.map((gw) => connect(gw, uid('viewer'))));
    const catalogue = await ok<{ gifts: Array<{ id: string; price: number; available: boolean; rarity: string }> }>(clients[0]!, 'gift:catalog', {});
    expect(catalogue.gifts.find((g) => g.id === 'rose')).toMatchObject({ price: 1, available: true, rarity: 'common' });
    expect(catalogue.gifts.some((g) => g.id === 'retired-crown')).toBe(false);
    const packages = await ok<{ items: Array<{ _id: string; coins: number; bonusCoins: number }> }>(clients[0]!, 'catalog:get', { kind: 'coinPackages' });
    expect(packages.items.map((p) => p._id)).toEqual(['coins-100', 'coins-550', 'coins-1200', 'coins-6500']);

    // Development payments: a coin package credits coins + bonus once per key.
    const purchase = { packageId: 'coins-550', idempotencyKey: uid('buy') };
    const bought = await ok<{ amount: number; balance: number; price: number }>(clients[1]!, 'coins:purchase', purchase);
    expect(bought).toMatchObject({ amount: 550, balance: 550, price: 4.99 });
    expect(await ok(clients[1]!, 'coins:purchase', purchase)).toEqual(bought);
    expect(errorCode(await clients[1]!.request('coins:purchase', { packageId: 'nope', idempotencyKey: uid('buy') }))).toBe('not_found');

    // An edit in MongoDB plus a version bump reaches both nodes.
    await env.db.collection<{ _id: string }>(COLLECTIONS.gifts).updateOne({ _id: 'rose' }, { $set: { price: 2 } });
    const redis = new Redis(env.redis.url);
    await redis.incr('catalog:version');
    redis.disconnect();
    for (const client of clients) {
      const rosePrice = async () =>
        (await ok<{ gifts: Array<{ id: string; price: number }> }>(client, 'gift:catalog', {})).gifts.find((g) => g.id === 'rose')?.price;
      await eventually(rosePrice, (price) => price === 2, 5000);
    }
    for (const c of clients) await c.close();
  });
});
