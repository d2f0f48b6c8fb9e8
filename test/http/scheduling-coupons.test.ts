/** Scheduling (with the due poller), coupons and stream providers over HTTP against a real gateway and FerretDB. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { FORGED, domainEnv, outcome, type DomainEnv } from './helpers.js';

interface Scheduled {
  id: string;
  userId: string;
  kind: string;
  title: string;
  contentData: Record<string, unknown>;
  scheduledFor: string;
  status: string;
}
interface Page<T> {
  items: T[];
  total: number;
  hasMore: boolean;
}

const inMinutes = (m: number): string => new Date(Date.now() + m * 60_000).toISOString();
const NO_SUCH = '00000000-0000-4000-8000-000000000000';

let env: DomainEnv;
beforeAll(async () => {
  env = await domainEnv('scheduling', { SCHEDULER_POLL_MS: '200' });
});
afterAll(async () => {
  await env.stop();
});

describe('scheduling', () => {
  it('schedules posts and livestreams, lists them soonest first and by calendar range', async () => {
    const alice = await env.user('alice');
    const later = await env.call<Scheduled>('POST', '/api/scheduling/schedule', {
      token: alice.token,
      body: { scheduledFor: inMinutes(120), title: 'later', contentData: { caption: 'hi', tags: ['a', ['nested']] } },
    });
    expect(later.status).toBe(201);
    expect(later.body).toMatchObject({ userId: alice.id, kind: 'post', status: 'scheduled', contentData: { caption: 'hi', tags: ['a', ['nested']] } });
    const live = await env.call<Scheduled>('POST', '/api/scheduling/livestream', {
      token: alice.token,
      body: { scheduledFor: inMinutes(60), title: 'Q&A', description: 'ask me' },
    });
    expect(live.body).toMatchObject({ kind: 'livestream', title: 'Q&A', contentData: { title: 'Q&A', description: 'ask me' } });

    const mine = await env.call<Page<Scheduled>>('GET', '/api/scheduling/my-scheduled?status=scheduled', { token: alice.token });
    expect(mine.body.items.map((s) => s.id)).toEqual([live.body.id, later.body.id]);
    const calendar = await env.call<{ items: Scheduled[] }>(
      'GET',
      `/api/scheduling/calendar?from=${encodeURIComponent(inMinutes(30))}&to=${encodeURIComponent(inMinutes(90))}`,
      { token: alice.token },
    );
    expect(calendar.body.items.map((s) => s.id)).toEqual([live.body.id]);
  });

  it('edits while scheduled, deletes, and then answers 404', async () => {
    const alice = await env.user('alice');
    const item = (
      await env.call<Scheduled>('POST', '/api/scheduling/schedule', { token: alice.token, body: { scheduledFor: inMinutes(30), contentData: { v: 1 } } })
    ).body;
    const edited = await env.call<Scheduled>('PUT', `/api/scheduling/${item.id}`, { token: alice.token, body: { title: 'renamed', contentData: { v: 2 } } });
    expect(edited.body).toMatchObject({ title: 'renamed', contentData: { v: 2 }, scheduledFor: item.scheduledFor });
    const deleted = await env.call('DELETE', `/api/scheduling/${item.id}`, { token: alice.token });
    expect(deleted.body).toEqual({ id: item.id, deleted: true });
    expect(outcome(await env.call('GET', `/api/scheduling/${item.id}`, { token: alice.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('DELETE', `/api/scheduling/${item.id}`, { token: alice.token }))).toEqual([404, 'not_found']);
  });

  it('fires a due item once: the owner gets scheduling:due live and the item becomes published (then 409 on edit)', async () => {
    const bob = await env.user('bob');
    const socket = await NativeClient.connect(env.gw.ws, { token: bob.token });
    await socket.request('session:info');
    const soon = new Date(Date.now() + 1500).toISOString();
    const item = (
      await env.call<Scheduled>('POST', '/api/scheduling/schedule', { token: bob.token, body: { scheduledFor: soon, title: 'now', contentData: { n: 1 } } })
    ).body;
    const due = await socket.waitFor((f) => f.event === 'scheduling:due' && (f.data as { id: string }).id === item.id);
    expect(due.data).toMatchObject({ kind: 'post', title: 'now', contentData: { n: 1 } });
    const after = await env.call<Scheduled & { publishedAt: string }>('GET', `/api/scheduling/${item.id}`, { token: bob.token });
    expect(after.body.status).toBe('published');
    expect(outcome(await env.call('PUT', `/api/scheduling/${item.id}`, { token: bob.token, body: { title: 'too late' } }))).toEqual([409, 'conflict']);
    expect(socket.frames.filter((f) => f.event === 'scheduling:due' && (f.data as { id: string }).id === item.id)).toHaveLength(1);
    await socket.close();
  });

  it('validates: past dates, empty updates, bad ranges and ids are 422', async () => {
    const alice = await env.user('alice');
    expect(outcome(await env.call('POST', '/api/scheduling/schedule', { token: alice.token, body: { scheduledFor: inMinutes(-5), contentData: {} } }))).toEqual(
      [422, 'validation_failed'],
    );
    expect(outcome(await env.call('POST', '/api/scheduling/schedule', { token: alice.token, body: { scheduledFor: 'tomorrow', contentData: {} } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('POST', '/api/scheduling/livestream', { token: alice.token, body: { scheduledFor: inMinutes(5) } }))).toEqual([
      422,
      'validation_failed',
    ]);
    const item = (await env.call<Scheduled>('POST', '/api/scheduling/schedule', { token: alice.token, body: { scheduledFor: inMinutes(30), contentData: {} } }))
      .body;
    expect(outcome(await env.call('PUT', `/api/scheduling/${item.id}`, { token: alice.token, body: {} }))).toEqual([422, 'validation_failed']);
    expect(
      outcome(
        await env.call('GET', `/api/scheduling/calendar?from=${encodeURIComponent(inMinutes(10))}&to=${encodeURIComponent(inMinutes(5))}`, {
          token: alice.token,
        }),
      ),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', '/api/scheduling/calendar', { token: alice.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('GET', '/api/scheduling/not-a-uuid', { token: alice.token }))).toEqual([422, 'validation_failed']);
  });

  it("refuses someone else's items (403) and requests without a valid token (401)", async () => {
    const alice = await env.user('alice');
    const mallory = await env.user('mallory');
    const item = (
      await env.call<Scheduled>('POST', '/api/scheduling/schedule', {
        token: alice.token,
        body: { scheduledFor: inMinutes(30), contentData: { secret: true } },
      })
    ).body;
    expect(outcome(await env.call('GET', `/api/scheduling/${item.id}`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('PUT', `/api/scheduling/${item.id}`, { token: mallory.token, body: { title: 'mine now' } }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('DELETE', `/api/scheduling/${item.id}`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect((await env.call<Scheduled>('GET', `/api/scheduling/${item.id}`, { token: alice.token })).body).toMatchObject({ title: '', status: 'scheduled' });
    expect((await env.call<Page<Scheduled>>('GET', '/api/scheduling/my-scheduled', { token: mallory.token })).body.total).toBe(0);
    expect(outcome(await env.call('GET', '/api/scheduling/my-scheduled'))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('DELETE', `/api/scheduling/${NO_SUCH}`, { token: FORGED }))).toEqual([401, 'unauthorized']);
  });
});

describe('coupons', () => {
  beforeAll(async () => {
    const admin = await env.user('shop-admin', 'admin');
    const coupons = [
      { code: `save10-${env.tag}`, type: 'percentage', value: 10, maxDiscount: 15 },
      { code: `FIVE-${env.tag}`, type: 'fixed', value: 5, minPurchase: 20, applicableCategories: ['shoes'] },
      { code: `OLD-${env.tag}`, type: 'fixed', value: 5, validFrom: '2020-01-01T00:00:00Z', validUntil: '2020-12-31T00:00:00Z' },
      { code: `USED-${env.tag}`, type: 'fixed', value: 5, usageLimit: 1 },
    ];
    for (const body of coupons) expect((await env.call('POST', '/api/coupons', { token: admin.token, body })).status).toBe(201);
    await env.db.collection('coupons').updateOne({ _id: `USED-${env.tag}`.toUpperCase() as never }, { $set: { usageCount: 1 } });
  });

  it('lists usable coupons and finds one by code, case-insensitively', async () => {
    const alice = await env.user('alice');
    const list = await env.call<Page<{ code: string }>>('GET', '/api/coupons?limit=100', { token: alice.token });
    const codes = list.body.items.map((c) => c.code);
    expect(codes).toEqual(expect.arrayContaining([`SAVE10-${env.tag}`.toUpperCase(), `FIVE-${env.tag}`.toUpperCase()]));
    expect(codes).not.toContain(`OLD-${env.tag}`.toUpperCase());
    const one = await env.call('GET', `/api/coupons/save10-${env.tag}`, { token: alice.token });
    expect(one.body).toMatchObject({ code: `SAVE10-${env.tag}`.toUpperCase(), type: 'percentage', value: 10 });
    expect(outcome(await env.call('GET', `/api/coupons/nope-${env.tag}`, { token: alice.token }))).toEqual([404, 'not_found']);
  });

  it('hides a switched-off coupon from users (404) but not from admins', async () => {
    const admin = await env.user('shop-admin', 'admin');
    const alice = await env.user('alice');
    const code = `OFF-${env.tag}`;
    expect((await env.call('POST', '/api/coupons', { token: admin.token, body: { code, type: 'fixed', value: 5, isActive: false } })).status).toBe(201);
    expect(outcome(await env.call('GET', `/api/coupons/${code}`, { token: alice.token }))).toEqual([404, 'not_found']);
    expect((await env.call('GET', `/api/coupons/${code.toLowerCase()}`, { token: admin.token })).body).toMatchObject({
      code: code.toUpperCase(),
      isActive: false,
    });
  });

  it('validates a coupon against an order: discount, caps and every reason it does not apply', async () => {
    const alice = await env.user('alice');
    const check = async (code: string, orderTotal: number, extra: Record<string, unknown> = {}) =>
      (
        await env.call<{ valid: boolean; reason: string | null; discount: number; finalTotal: number }>('POST', '/api/coupons/validate', {
          token: alice.token,
          body: { code, orderTotal, ...extra },
        })
      ).body;
    expect(await check(`save10-${env.tag}`, 80)).toMatchObject({ valid: true, discount: 8, finalTotal: 72 });
    expect(await check(`save10-${env.tag}`, 500)).toMatchObject({ valid: true, discount: 15, finalTotal: 485 });
    expect(await check(`five-${env.tag}`, 10, { categoryIds: ['shoes'] })).toMatchObject({ valid: false, reason: 'min_purchase_not_met' });
    expect(await check(`five-${env.tag}`, 30, { categoryIds: ['hats'] })).toMatchObject({ valid: false, reason: 'not_applicable' });
    expect(await check(`five-${env.tag}`, 30, { categoryIds: ['shoes'] })).toMatchObject({ valid: true, discount: 5, finalTotal: 25 });
    expect(await check(`old-${env.tag}`, 30)).toMatchObject({ valid: false, reason: 'expired' });
    expect(await check(`used-${env.tag}`, 30)).toMatchObject({ valid: false, reason: 'usage_limit_reached' });
    expect(await check(`ghost-${env.tag}`, 30)).toMatchObject({ valid: false, reason: 'not_found', discount: 0, finalTotal: 30 });
  });

  it('refuses bad input (422), users creating coupons (403), duplicates (409) and missing tokens (401)', async () => {
    const alice = await env.user('alice');
    const admin = await env.user('shop-admin', 'admin');
    expect(outcome(await env.call('POST', '/api/coupons/validate', { token: alice.token, body: { code: 'x y', orderTotal: 5 } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('POST', '/api/coupons/validate', { token: alice.token, body: { code: 'ABC', orderTotal: -1 } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('POST', '/api/coupons', { token: alice.token, body: { code: 'MINE', type: 'fixed', value: 1000 } }))).toEqual([
      403,
      'forbidden',
    ]);
    expect(outcome(await env.call('POST', '/api/coupons', { token: admin.token, body: { code: `SAVE10-${env.tag}`, type: 'fixed', value: 1 } }))).toEqual([
      409,
      'conflict',
    ]);
    expect(outcome(await env.call('POST', '/api/coupons', { token: admin.token, body: { code: 'PCT', type: 'percentage', value: 150 } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('GET', '/api/coupons'))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('POST', '/api/coupons/validate', { token: FORGED, body: { code: 'ABC', orderTotal: 1 } }))).toEqual([401, 'unauthorized']);
  });
});

describe('stream providers', () => {
  it('admins upsert providers; users see enabled ones by priority with public config only', async () => {
    const admin = await env.user('ops', 'admin');
    const alice = await env.user('alice');
    const put = (name: string, body: Record<string, unknown>, token = admin.token) => env.call('PUT', `/api/livestreaming/providers/${name}`, { token, body });
    expect(
      (await put('agora', { displayName: 'Agora', enabled: true, status: 'active', priority: 10, publicConfig: { appId: 'abc' }, features: { pk: true } }))
        .status,
    ).toBe(200);
    expect((await put('zegocloud', { displayName: 'ZEGO', enabled: true, status: 'maintenance', priority: 20 })).status).toBe(200);
    expect((await put('webrtc', { displayName: 'WebRTC', enabled: false, status: 'active', priority: 30 })).status).toBe(200);
    const list = await env.call<Page<{ name: string; publicConfig: Record<string, string> }>>('GET', '/api/livestreaming/providers', { token: alice.token });
    expect(list.body.items.map((p) => p.name)).toEqual(['zegocloud', 'agora']);
    expect(list.body.items[1]!.publicConfig).toEqual({ appId: 'abc' });

    expect(outcome(await put('agora', { displayName: 'Mine', enabled: false, status: 'inactive', priority: 0 }, alice.token))).toEqual([403, 'forbidden']);
    expect(outcome(await put('twitch', { displayName: 'T', enabled: true, status: 'active', priority: 0 }))).toEqual([422, 'validation_failed']);
    expect(outcome(await put('agora', { displayName: 'A', enabled: true, status: 'active', priority: 0, publicConfig: { $where: 'x' } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('GET', '/api/livestreaming/providers'))).toEqual([401, 'unauthorized']);
    expect(outcome(await put('agora', { displayName: 'A', enabled: true, status: 'active', priority: 0 }, FORGED))).toEqual([401, 'unauthorized']);
  });
});
