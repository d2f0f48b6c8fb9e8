/** Levels and supporters over HTTP against a real gateway and FerretDB. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { FORGED, SERVICE_KEY, domainEnv, outcome, type DomainEnv, type Page } from './helpers.js';

interface Level {
  id: string;
  level: number;
  name: string;
  minXP: number;
  maxXP: number;
}

describe('levels', () => {
  let env: DomainEnv;
  const levels: Level[] = [];
  beforeAll(async () => {
    env = await domainEnv('levels');
    const admin = await env.user('admin', 'admin');
    for (const [level, minXP, maxXP] of [
      [1, 0, 100],
      [2, 100, 300],
      [3, 300, 1000],
    ] as const) {
      const res = await env.call<Level>('POST', '/api/levels', { token: admin.token, body: { level, name: `L${level}`, minXP, maxXP, color: '#ff0000' } });
      expect(res.status).toBe(201);
      levels.push(res.body);
    }
  });
  afterAll(async () => {
    await env.stop();
  });

  it('lists the level table in pages and reads one level', async () => {
    const alice = await env.user('alice');
    const page1 = await env.call<Page<Level>>('GET', '/api/levels?limit=2', { token: alice.token });
    expect(page1.body).toMatchObject({ page: 1, limit: 2, total: 3, hasMore: true });
    expect(page1.body.items.map((l) => l.level)).toEqual([1, 2]);
    const page2 = await env.call<Page<Level>>('GET', '/api/levels?limit=2&page=2', { token: alice.token });
    expect(page2.body.items.map((l) => l.level)).toEqual([3]);
    expect(page2.body.hasMore).toBe(false);
    const one = await env.call<Level>('GET', `/api/levels/${levels[1]!.id}`, { token: alice.token });
    expect(one.body).toMatchObject({ level: 2, minXP: 100, maxXP: 300 });
    expect(outcome(await env.call('GET', '/api/levels/00000000-0000-4000-8000-000000000000', { token: alice.token }))).toEqual([404, 'not_found']);
  });

  it('rejects bad pagination and ids with 422, and missing or forged tokens with 401', async () => {
    const alice = await env.user('alice');
    expect(outcome(await env.call('GET', '/api/levels?limit=1000', { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', '/api/levels?page=true', { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', '/api/levels/not%20an%20id', { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', '/api/levels'))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('GET', '/api/levels/my-level', { token: FORGED }))).toEqual([401, 'unauthorized']);
  });

  it('reads a seeded level by its readable id (npm run seed writes level-1 ... level-10)', async () => {
    const alice = await env.user('alice');
    const id = `level-${env.tag}`;
    await env.db.collection('levels').insertOne({
      _id: id as never,
      level: 90,
      name: 'Seeded',
      minXP: 90_000,
      maxXP: 91_000,
      rewards: { coins: 0, badges: [], features: [] },
      icon: null,
      color: null,
      createdAt: new Date(),
    });
    expect((await env.call<Level>('GET', `/api/levels/${id}`, { token: alice.token })).body).toMatchObject({ id, level: 90, name: 'Seeded' });
    expect(outcome(await env.call('GET', '/api/levels/level-404', { token: alice.token }))).toEqual([404, 'not_found']);
  });

  it('only admins create levels: 403 for users, 409 for a duplicate number, 422 for minXP >= maxXP', async () => {
    const alice = await env.user('alice');
    const admin = await env.user('admin', 'admin');
    expect(outcome(await env.call('POST', '/api/levels', { token: alice.token, body: { level: 9, name: 'x', minXP: 0, maxXP: 1 } }))).toEqual([
      403,
      'forbidden',
    ]);
    expect(outcome(await env.call('POST', '/api/levels', { token: admin.token, body: { level: 1, name: 'again', minXP: 0, maxXP: 5 } }))).toEqual([
      409,
      'conflict',
    ]);
    expect(outcome(await env.call('POST', '/api/levels', { token: admin.token, body: { level: 8, name: 'x', minXP: 50, maxXP: 50 } }))).toEqual([
      422,
      'validation_failed',
    ]);
  });

  it('grants XP with service credentials only, shows my level and pushes level:up live', async () => {
    const bob = await env.user('bob');
    const socket = await NativeClient.connect(env.gw.ws, { token: bob.token });
    await socket.request('session:info');
    expect(outcome(await env.call('POST', '/api/levels/xp', { token: bob.token, body: { userId: bob.id, amount: 500 } }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('POST', '/api/levels/xp', { headers: { 'x-api-key': 'wrong' }, body: { userId: bob.id, amount: 5 } }))).toEqual([
      401,
      'unauthorized',
    ]);
    expect(outcome(await env.call('POST', '/api/levels/xp', { headers: { 'x-api-key': SERVICE_KEY }, body: { userId: bob.id, amount: 0 } }))).toEqual([
      422,
      'validation_failed',
    ]);

    const first = await env.call('POST', '/api/levels/xp', { headers: { 'x-api-key': SERVICE_KEY }, body: { userId: bob.id, amount: 50 } });
    // Level 1 starts at 0 XP: reaching 50 is not a new level.
    expect(first.body).toEqual({ userId: bob.id, xp: 50, level: 1, leveledUp: false });
    const second = await env.call('POST', '/api/levels/xp', { headers: { 'x-api-key': SERVICE_KEY }, body: { userId: bob.id, amount: 150 } });
    expect(second.body).toEqual({ userId: bob.id, xp: 200, level: 2, leveledUp: true });
    const up = await socket.waitFor((f) => f.event === 'level:up' && (f.data as { level: number }).level === 2);
    expect(up.data).toMatchObject({ userId: bob.id, name: 'L2', xp: 200 });

    const mine = await env.call<{ xp: number; level: Level; nextLevel: Level; progress: number }>('GET', '/api/levels/my-level', { token: bob.token });
    expect(mine.body.xp).toBe(200);
    expect(mine.body.level.level).toBe(2);
    expect(mine.body.nextLevel.level).toBe(3);
    expect(mine.body.progress).toBeCloseTo(0.5);
    // Someone else's XP is not readable through my-level: carol sees her own zero.
    const carol = await env.user('carol');
    expect((await env.call<{ xp: number; userId: string }>('GET', '/api/levels/my-level', { token: carol.token })).body).toMatchObject({
      userId: carol.id,
      xp: 0,
    });
    await socket.close();
  });
});

describe('supporters', () => {
  let env: DomainEnv;
  beforeAll(async () => {
    env = await domainEnv('supporters');
    await env.db.collection('supporter_badges').insertMany([
      {
        _id: 'bronze' as never,
        name: 'Bronze',
        description: '',
        icon: 'b.png',
        color: '#c0c0c0',
        requirement: 'gifts',
        threshold: 100,
        isActive: true,
        rarity: 'common',
      },
      {
        _id: 'gold' as never,
        name: 'Gold',
        description: '',
        icon: 'g.png',
        color: '#ffd700',
        requirement: 'gifts',
        threshold: 1000,
        isActive: true,
        rarity: 'epic',
      },
    ]);
  });
  afterAll(async () => {
    await env.stop();
  });

  const record = (body: Record<string, unknown>, headers: Record<string, string> = { 'x-api-key': SERVICE_KEY }) =>
    env.call('POST', '/api/supporters/record', { headers, body });

  it("ranks a creator's supporters by coins with their badge, and the global top", async () => {
    const creator = `creator-${env.tag}`;
    const other = `creator2-${env.tag}`;
    await record({ creatorId: creator, supporterId: `s1-${env.tag}`, coins: 50 });
    await record({ creatorId: creator, supporterId: `s2-${env.tag}`, coins: 700, gifts: 3 });
    await record({ creatorId: creator, supporterId: `s2-${env.tag}`, coins: 400 });
    await record({ creatorId: other, supporterId: `s1-${env.tag}`, coins: 2000 });
    const viewer = await env.user('viewer');

    const list = await env.call<Page<{ userId: string; rank: number; totalCoins: number; giftCount: number; badge: { name: string } | null }>>(
      'GET',
      `/api/supporters/${creator}`,
      { token: viewer.token },
    );
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(2);
    expect(list.body.items.map((s) => [s.userId, s.rank, s.totalCoins, s.giftCount, s.badge?.name ?? null])).toEqual([
      [`s2-${env.tag}`, 1, 1100, 4, 'Gold'],
      [`s1-${env.tag}`, 2, 50, 1, null],
    ]);

    const top = await env.call<Page<{ userId: string; rank: number; totalCoins: number }>>('GET', '/api/supporters/top?limit=1', { token: viewer.token });
    expect(top.body).toMatchObject({ total: 2, hasMore: true });
    expect(top.body.items).toMatchObject([{ userId: `s1-${env.tag}`, rank: 1, totalCoins: 2050 }]);
  });

  it('keeps totals exact past 2^31 coins (int64 increments; schemathesis found an int32 wrap on FerretDB)', async () => {
    const creator = `creator-big-${env.tag}`;
    const whale = `whale-${env.tag}`;
    for (let i = 0; i < 3; i++) expect((await record({ creatorId: creator, supporterId: whale, coins: 1_000_000_000 })).status).toBe(200);
    const viewer = await env.user('big-viewer');
    const list = await env.call<Page<{ userId: string; totalCoins: number; giftCount: number }>>('GET', `/api/supporters/${creator}`, { token: viewer.token });
    expect(list.body.items).toMatchObject([{ userId: whale, totalCoins: 3_000_000_000, giftCount: 3 }]);
  });

  it('only the backend records support: 401 without credentials, 403 for a user token, 422 for bad input', async () => {
    const user = await env.user('sneaky');
    expect(outcome(await record({ creatorId: 'c', supporterId: user.id, coins: 1 }, {}))).toEqual([401, 'unauthorized']);
    expect(
      outcome(await env.call('POST', '/api/supporters/record', { token: user.token, body: { creatorId: 'c', supporterId: user.id, coins: 1_000_000 } })),
    ).toEqual([403, 'forbidden']);
    expect(outcome(await record({ creatorId: 'c', supporterId: 'c', coins: 1 }))).toEqual([422, 'validation_failed']);
    expect(outcome(await record({ creatorId: 'c', supporterId: 'd', coins: -5 }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', '/api/supporters/top'))).toEqual([401, 'unauthorized']);
    // A user id is whatever a token's sub is (1-128 characters): longer is invalid.
    expect(outcome(await env.call('GET', `/api/supporters/${'u'.repeat(129)}`, { token: user.token }))).toEqual([422, 'validation_failed']);
  });
});
