/** Multi-host over REST and payments (development provider) against a real gateway and FerretDB. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { FORGED, domainEnv, outcome, type DomainEnv } from './helpers.js';

interface CohostList {
  livestreamId: string;
  hostId: string;
  title: string;
  cohosts: string[];
}
interface Payment {
  id: string;
  userId: string;
  status: string;
  coins: number;
  amountMinor: number;
  creditStatus: string;
  provider: string;
}
interface Page<T> {
  items: T[];
  total: number;
}

let env: DomainEnv;
beforeAll(async () => {
  env = await domainEnv('multihost', { DEV_PAYMENTS: 'true' });
});
afterAll(async () => {
  await env.stop();
});

describe('multi-host', () => {
  /** A live stream started over the socket by its host (the REST routes share the livestream store). */
  const goLive = async (token: string): Promise<{ livestreamId: string; socket: NativeClient }> => {
    const socket = await NativeClient.connect(env.gw.ws, { token });
    const started = await socket.request('livestream:start', { title: 'live now' });
    expect(started.error).toBeUndefined();
    return { livestreamId: (started.data as { livestreamId: string }).livestreamId, socket };
  };

  it('host invites over REST, the invitee accepts over REST, the host kicks; events reach the users and the stream room', async () => {
    const host = await env.user('host');
    const guest = await env.user('guest');
    const viewer = await env.user('viewer');
    const { livestreamId, socket: hostSocket } = await goLive(host.token);
    const guestSocket = await NativeClient.connect(env.gw.ws, { token: guest.token });
    await guestSocket.request('session:info');

    const invited = await env.call<CohostList>('POST', `/api/multi-host/${livestreamId}/invite`, { token: host.token, body: { userId: guest.id } });
    expect(invited.status).toBe(200);
    expect(invited.body).toMatchObject({ livestreamId, hostId: host.id, cohosts: [] });
    expect((await guestSocket.waitForEvent('livestream:cohost:invited')).data).toEqual({ livestreamId, hostId: host.id });

    const accepted = await env.call<CohostList>('POST', `/api/multi-host/${livestreamId}/accept`, { token: guest.token });
    expect(accepted.body.cohosts).toEqual([guest.id]);
    // The host is in the stream room (livestream:start joined it).
    expect((await hostSocket.waitForEvent('livestream:cohost:joined')).data).toEqual({ livestreamId, userId: guest.id });

    const list = await env.call<CohostList>('GET', `/api/multi-host/${livestreamId}/co-hosts`, { token: viewer.token });
    expect(list.body).toEqual({ livestreamId, hostId: host.id, title: 'live now', cohosts: [guest.id] });

    const kicked = await env.call<CohostList>('POST', `/api/multi-host/${livestreamId}/kick`, { token: host.token, body: { userId: guest.id } });
    expect(kicked.body.cohosts).toEqual([]);
    expect((await guestSocket.waitForEvent('livestream:cohost:removed')).data).toEqual({ livestreamId, userId: guest.id });
    await hostSocket.close();
    await guestSocket.close();
  });

  it('shares state with the socket side: an invitation sent over the socket is accepted over REST', async () => {
    const host = await env.user('host-s');
    const guest = await env.user('guest-s');
    const { livestreamId, socket } = await goLive(host.token);
    const invite = await socket.request('livestream:cohost:invite', { livestreamId, userId: guest.id });
    expect(invite.error).toBeUndefined();
    const accepted = await env.call<CohostList>('POST', `/api/multi-host/${livestreamId}/accept`, { token: guest.token });
    expect(accepted.body.cohosts).toEqual([guest.id]);
    await socket.close();
  });

  it("refuses acting on someone else's stream (403) and accepting without an invitation (404)", async () => {
    const host = await env.user('host2');
    const mallory = await env.user('mallory');
    const guest = await env.user('guest2');
    const { livestreamId, socket } = await goLive(host.token);
    expect(outcome(await env.call('POST', `/api/multi-host/${livestreamId}/invite`, { token: mallory.token, body: { userId: mallory.id } }))).toEqual([
      403,
      'forbidden',
    ]);
    await env.call('POST', `/api/multi-host/${livestreamId}/invite`, { token: host.token, body: { userId: guest.id } });
    await env.call('POST', `/api/multi-host/${livestreamId}/accept`, { token: guest.token });
    expect(outcome(await env.call('POST', `/api/multi-host/${livestreamId}/kick`, { token: mallory.token, body: { userId: guest.id } }))).toEqual([
      403,
      'forbidden',
    ]);
    expect(outcome(await env.call('POST', `/api/multi-host/${livestreamId}/accept`, { token: mallory.token }))).toEqual([404, 'not_found']);
    expect((await env.call<CohostList>('GET', `/api/multi-host/${livestreamId}/co-hosts`, { token: mallory.token })).body.cohosts).toEqual([guest.id]);
    await socket.close();
  });

  it('answers 409 for self-invites, 404 for unknown or ended streams, 422 and 401 for bad requests', async () => {
    const host = await env.user('host3');
    const guest = await env.user('guest3');
    const { livestreamId, socket } = await goLive(host.token);
    expect(outcome(await env.call('POST', `/api/multi-host/${livestreamId}/invite`, { token: host.token, body: { userId: host.id } }))).toEqual([
      409,
      'conflict',
    ]);
    expect(outcome(await env.call('GET', '/api/multi-host/no-such-stream/co-hosts', { token: host.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('POST', `/api/multi-host/${livestreamId}/invite`, { token: host.token, body: { userId: '' } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('POST', `/api/multi-host/${livestreamId}/invite`, { token: host.token, body: { user: guest.id } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('GET', '/api/multi-host/bad%20id/co-hosts', { token: host.token }))).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('POST', `/api/multi-host/${livestreamId}/accept`))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('GET', `/api/multi-host/${livestreamId}/co-hosts`, { token: FORGED }))).toEqual([401, 'unauthorized']);
    expect((await socket.request('livestream:end', { livestreamId })).error).toBeUndefined();
    expect(outcome(await env.call('GET', `/api/multi-host/${livestreamId}/co-hosts`, { token: host.token }))).toEqual([404, 'not_found']);
    await socket.close();
  });
});

describe('payments', () => {
  beforeAll(async () => {
    await env.db.collection('coin_packages').insertMany([
      { _id: `pkg100-${env.tag}` as never, name: '100 coins', coins: 100, bonusCoins: 10, price: 0.99, currency: 'USD', isActive: true },
      { _id: `retired-${env.tag}` as never, name: 'old', coins: 5, price: 0.1, isActive: false },
    ]);
  });

  it('lists the development provider only because DEV_PAYMENTS is on', async () => {
    const alice = await env.user('alice');
    const res = await env.call<Page<{ id: string; development: boolean }>>('GET', '/api/payments/providers', { token: alice.token });
    expect(res.body.items).toEqual([{ id: 'dev', displayName: 'Development payments (no money moves)', development: true }]);
  });

  it('checks out a package with the dev provider, idempotently, and records the credit as awaiting the wallet ledger', async () => {
    const alice = await env.user('alice');
    const socket = await NativeClient.connect(env.gw.ws, { token: alice.token });
    await socket.request('session:info');
    const body = { provider: 'dev', packageId: `pkg100-${env.tag}`, idempotencyKey: `key-${env.tag}-0001` };
    const paid = await env.call<Payment>('POST', '/api/payments/checkout', { token: alice.token, body });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({
      userId: alice.id,
      provider: 'dev',
      status: 'succeeded',
      coins: 110,
      amountMinor: 99,
      creditStatus: 'awaiting_wallet_service',
    });
    expect((await socket.waitForEvent('payment:completed')).data).toEqual({ paymentId: paid.body.id, coins: 110, creditStatus: 'awaiting_wallet_service' });
    const again = await env.call<Payment>('POST', '/api/payments/checkout', { token: alice.token, body });
    expect(again.body.id).toBe(paid.body.id);
    const mine = await env.call<Page<Payment>>('GET', '/api/payments/my', { token: alice.token });
    expect(mine.body.items.map((p) => p.id)).toEqual([paid.body.id]);
    expect((await env.call<Payment>('GET', `/api/payments/${paid.body.id}`, { token: alice.token })).body.id).toBe(paid.body.id);
    await socket.close();
  });

  it("refuses someone else's payment (403), unknown providers and packages (404), bad input (422), no token (401)", async () => {
    const alice = await env.user('alice-p');
    const mallory = await env.user('mallory-p');
    const paid = await env.call<Payment>('POST', '/api/payments/checkout', {
      token: alice.token,
      body: { provider: 'dev', packageId: `pkg100-${env.tag}`, idempotencyKey: `key-${env.tag}-0002` },
    });
    expect(paid.status).toBe(201);
    expect(outcome(await env.call('GET', `/api/payments/${paid.body.id}`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect((await env.call<Page<Payment>>('GET', '/api/payments/my', { token: mallory.token })).body.total).toBe(0);
    expect(
      outcome(
        await env.call('POST', '/api/payments/checkout', {
          token: alice.token,
          body: { provider: 'stripe', packageId: `pkg100-${env.tag}`, idempotencyKey: `key-${env.tag}-0003` },
        }),
      ),
    ).toEqual([404, 'not_found']);
    expect(
      outcome(
        await env.call('POST', '/api/payments/checkout', {
          token: alice.token,
          body: { provider: 'dev', packageId: `retired-${env.tag}`, idempotencyKey: `key-${env.tag}-0004` },
        }),
      ),
    ).toEqual([404, 'not_found']);
    expect(
      outcome(
        await env.call('POST', '/api/payments/checkout', {
          token: alice.token,
          body: { provider: 'dev', packageId: `pkg100-${env.tag}`, coins: 1e9, idempotencyKey: `key-${env.tag}-0005` },
        }),
      ),
    ).toEqual([422, 'validation_failed']);
    // The key is required, with the one pattern of every money request.
    expect(
      outcome(await env.call('POST', '/api/payments/checkout', { token: alice.token, body: { provider: 'dev', packageId: `pkg100-${env.tag}` } })),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('POST', '/api/payments/checkout', { body: { provider: 'dev', packageId: 'x' } }))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('GET', '/api/payments/my', { token: FORGED }))).toEqual([401, 'unauthorized']);
  });

  it('lets only admins credit a wallet, with an audit line', async () => {
    const admin = await env.user('finance', 'admin');
    const alice = await env.user('alice-c');
    expect(
      outcome(
        await env.call('POST', '/api/payments/admin/credit', {
          token: alice.token,
          body: { userId: alice.id, coins: 1000, reason: 'because', idempotencyKey: `adm-${env.tag}-1` },
        }),
      ),
    ).toEqual([403, 'forbidden']);
    expect(
      outcome(
        await env.call('POST', '/api/payments/admin/credit', {
          token: admin.token,
          body: { userId: alice.id, coins: 0, reason: 'zero', idempotencyKey: `adm-${env.tag}-2` },
        }),
      ),
    ).toEqual([422, 'validation_failed']);
    const credited = await env.call('POST', '/api/payments/admin/credit', {
      token: admin.token,
      body: { userId: alice.id, coins: 250, reason: 'refund for outage', idempotencyKey: `adm-${env.tag}-3` },
    });
    expect(credited.status).toBe(201);
    expect(credited.body).toMatchObject({ userId: alice.id, coins: 250, actorId: admin.id, creditStatus: 'awaiting_wallet_service' });
    // Without a key: 422; the same key again: the same adjustment.
    expect(
      outcome(
        await env.call('POST', '/api/payments/admin/credit', { token: admin.token, body: { userId: alice.id, coins: 250, reason: 'refund for outage' } }),
      ),
    ).toEqual([422, 'validation_failed']);
    const again = await env.call<{ id: string }>('POST', '/api/payments/admin/credit', {
      token: admin.token,
      body: { userId: alice.id, coins: 250, reason: 'refund for outage', idempotencyKey: `adm-${env.tag}-3` },
    });
    expect([again.status, again.body.id]).toEqual([201, (credited.body as { id: string }).id]);
    const audit = await env.gw.waitForLog((l) => l['action'] === 'wallet.admin_credit' && l['userId'] === alice.id);
    expect(audit).toMatchObject({ audit: true, actor: admin.id, coins: 250 });
  });
});
