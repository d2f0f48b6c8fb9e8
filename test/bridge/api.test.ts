import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { API_KEY, RecordingSio, api, metric } from './helpers.js';

interface PublishReply {
  published: Array<{ room: string; seq: number; nodes: number }>;
  nodes: number;
}

describe('server API on one node', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ SERVICE_API_KEYS: `${API_KEY},second-key-abcdefghijkl`, BRIDGE_MAX_EVENT_BYTES: '1024', BRIDGE_MAX_BATCH: '10' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  const body = { userId: 'nobody', event: 'notification:new', data: {} };

  it('refuses a missing or wrong credential (401) and a user or admin token (403); accepts keys and service tokens', async () => {
    const missing = await api(gw.http, 'POST', '/api/server/publish/user', body, {});
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await api(gw.http, 'POST', '/api/server/publish/user', body, { 'x-api-key': 'wrong-key' })).status).toBe(401);
    expect((await api(gw.http, 'POST', '/api/server/publish/user', body, { authorization: 'Bearer wrong-key' })).status).toBe(401);
    expect((await api(gw.http, 'POST', '/api/server/publish/user', body, { authorization: `Bearer ${API_KEY}x` })).status).toBe(401);

    const userToken = await makeToken({ sub: 'alice' });
    const asUser = await api(gw.http, 'POST', '/api/server/publish/user', body, { authorization: `Bearer ${userToken}` });
    expect(asUser.status).toBe(403);
    expect(asUser.body).toMatchObject({ error: { code: 'forbidden' } });
    expect(
      (await api(gw.http, 'POST', '/api/server/publish/user', body, { authorization: `Bearer ${await makeToken({ sub: 'root', role: 'admin' })}` })).status,
    ).toBe(403);
    const forged = await makeToken({ sub: 'backend', role: 'service', secret: 'not-the-secret-0123456789abcdefghij' });
    expect((await api(gw.http, 'POST', '/api/server/publish/user', body, { authorization: `Bearer ${forged}` })).status).toBe(401);
    // A user token in x-api-key is just a wrong key.
    expect((await api(gw.http, 'POST', '/api/server/publish/user', body, { 'x-api-key': userToken })).status).toBe(401);

    expect((await api(gw.http, 'POST', '/api/server/publish/user', body, { 'x-api-key': API_KEY })).status).toBe(200);
    expect((await api(gw.http, 'POST', '/api/server/publish/user', body, { authorization: 'Bearer second-key-abcdefghijkl' })).status).toBe(200);
    const service = await makeToken({ sub: 'backend', role: 'service' });
    expect((await api(gw.http, 'POST', '/api/server/publish/user', body, { authorization: `Bearer ${service}` })).status).toBe(200);

    expect(await metric(gw.http, 'livegate_bridge_publishes_total', { kind: 'user', outcome: 'accepted' })).toBe(3);
    expect(await metric(gw.http, 'livegate_http_request_duration_seconds_count', { route: '/api/server/publish/user', status: '401' })).toBe(6);
    expect(await metric(gw.http, 'livegate_http_request_duration_seconds_count', { route: '/api/server/publish/user', status: '403' })).toBe(2);
  });

  it('publishes to every device of one user exactly once, and to nobody else', async () => {
    const aliceToken = await makeToken({ sub: 'alice-1' });
    const phone = await NativeClient.connect(gw.ws, { token: aliceToken });
    const browser = await RecordingSio.connect(gw.http, aliceToken);
    const bob = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'bob-1' }) });

    const reply = await api<PublishReply>(gw.http, 'POST', '/api/server/publish/user', { userId: 'alice-1', event: 'notification:new', data: { text: 'hi' } });
    expect(reply.status).toBe(200);
    expect(reply.body.nodes).toBe(1);
    expect(reply.body.published).toEqual([{ room: 'user:alice-1', seq: expect.any(Number), nodes: 1 }]);

    const frame = await phone.waitForEvent('notification:new');
    expect(frame).toMatchObject({ data: { text: 'hi' }, room: 'user:alice-1' });
    expect((await browser.waitFor((r) => r.event === 'notification:new')).data).toEqual({ text: 'hi' });

    // A later marker to everyone: once it has arrived, the earlier event cannot still be on its way.
    await api(gw.http, 'POST', '/api/server/publish/all', { event: 'marker', data: 1 });
    await Promise.all([phone.waitForEvent('marker'), browser.waitFor((r) => r.event === 'marker'), bob.waitForEvent('marker')]);
    expect(phone.frames.filter((f) => f.event === 'notification:new')).toHaveLength(1);
    expect(browser.count('notification:new')).toBe(1);
    expect(bob.frames.filter((f) => f.event === 'notification:new')).toHaveLength(0);

    phone.close();
    browser.close();
    bob.close();
  });

  it('puts users in a room, publishes to it, to many users, to everyone and in a batch, in order', async () => {
    const alice = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'alice-2' }) });
    const bob = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'bob-2' }) });
    const carol = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'carol-2' }) });

    const joined = await api(gw.http, 'POST', '/api/server/rooms/team:7/join', { userIds: ['alice-2', 'bob-2'] });
    expect(joined).toMatchObject({
      status: 200,
      body: { room: 'team:7', op: 'join', connections: 2, perNode: [{ nodeId: gw.nodeId, count: 2 }], answered: 1, expected: 1, complete: true },
    });
    expect((await api(gw.http, 'GET', '/api/server/rooms/team:7/occupancy')).body).toMatchObject({
      room: 'team:7',
      members: 2,
      answered: 1,
      expected: 1,
      complete: true,
    });

    const room = await api<PublishReply>(gw.http, 'POST', '/api/server/publish/room', { room: 'team:7', event: 'team:update', data: { v: 1 } });
    expect(room.body.published[0]).toMatchObject({ room: 'team:7', nodes: 1 });
    const users = await api<PublishReply>(gw.http, 'POST', '/api/server/publish/users', { userIds: ['bob-2', 'carol-2', 'bob-2'], event: 'dm', data: 'x' });
    expect(users.body.published.map((p) => p.room)).toEqual(['user:bob-2', 'user:carol-2']);

    const batch = await api<{ results: PublishReply[]; nodes: number }>(gw.http, 'POST', '/api/server/publish/batch', {
      publishes: [
        { to: 'user', userId: 'alice-2', event: 'step', data: 1 },
        { to: 'room', room: 'team:7', event: 'step', data: 2 },
        { to: 'users', userIds: ['alice-2'], event: 'step', data: 3 },
        { to: 'all', event: 'step', data: 4 },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results).toHaveLength(4);
    expect(batch.body.nodes).toBe(4);

    await alice.waitFor((f) => f.event === 'step' && f.data === 4);
    expect(alice.frames.filter((f) => f.event === 'step').map((f) => f.data)).toEqual([1, 2, 3, 4]);
    await carol.waitFor((f) => f.event === 'step' && f.data === 4);
    expect(carol.frames.filter((f) => f.event === 'step').map((f) => f.data)).toEqual([4]);
    expect(carol.frames.filter((f) => f.event === 'team:update')).toHaveLength(0);
    await bob.waitFor((f) => f.event === 'step' && f.data === 4);
    expect(bob.frames.filter((f) => f.event === 'team:update' || f.event === 'dm').map((f) => f.event)).toEqual(['team:update', 'dm']);

    const left = await api(gw.http, 'POST', '/api/server/rooms/team:7/leave', { userIds: ['bob-2'] });
    expect(left.body).toMatchObject({ connections: 1, complete: true });
    expect((await api(gw.http, 'GET', '/api/server/rooms/team:7/occupancy')).body).toMatchObject({ members: 1 });

    alice.close();
    bob.close();
    carol.close();
  });

  it('applies the socket rules: event names, payload size, reserved rooms; a bad batch publishes nothing', async () => {
    const dave = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'dave-3' }) });
    const badName = await api(gw.http, 'POST', '/api/server/publish/user', { userId: 'dave-3', event: 'bad name!', data: 1 });
    expect(badName.status).toBe(422);
    expect(badName.body).toMatchObject({ error: { code: 'validation_failed' } });
    const tooLong = await api(gw.http, 'POST', '/api/server/publish/user', { userId: 'dave-3', event: 'x'.repeat(65) });
    expect(tooLong.status).toBe(422);
    const big = await api(gw.http, 'POST', '/api/server/publish/user', { userId: 'dave-3', event: 'big', data: 'y'.repeat(2000) });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(
      (await api(gw.http, 'POST', '/api/server/publish/room', { room: 'sys:bridge:control', event: 'disconnect', data: { userId: 'dave-3' } })).status,
    ).toBe(422);
    expect((await api(gw.http, 'POST', '/api/server/publish/user', '{not json')).status).toBe(400);
    expect((await api(gw.http, 'POST', '/api/server/publish/user', { userId: 'dave-3', event: 'ok', extra: 1 })).status).toBe(422);

    const badBatch = await api(gw.http, 'POST', '/api/server/publish/batch', {
      publishes: [
        { to: 'user', userId: 'dave-3', event: 'first', data: 1 },
        { to: 'user', userId: 'dave-3', event: 'second', data: 'z'.repeat(2000) },
      ],
    });
    expect(badBatch.status).toBe(413);
    const tooMany = await api(gw.http, 'POST', '/api/server/publish/batch', { publishes: Array.from({ length: 11 }, () => ({ to: 'all', event: 'n' })) });
    expect(tooMany.status).toBe(413);

    await api(gw.http, 'POST', '/api/server/publish/user', { userId: 'dave-3', event: 'marker' });
    await dave.waitForEvent('marker');
    expect(await metric(gw.http, 'livegate_bridge_publishes_total', { kind: 'user', outcome: 'refused' })).toBe(5);
    expect(await metric(gw.http, 'livegate_bridge_publishes_total', { kind: 'room', outcome: 'refused' })).toBe(1);
    expect(await metric(gw.http, 'livegate_bridge_publishes_total', { kind: 'batch', outcome: 'refused' })).toBe(2);
    expect(dave.frames.filter((f) => f.event !== 'session:ready').map((f) => f.event)).toEqual(['marker']);
    dave.close();
  });

  it('answers presence and disconnects every session of a user', async () => {
    const token = await makeToken({ sub: 'erin-4' });
    const a = await NativeClient.connect(gw.ws, { token });
    const b = await RecordingSio.connect(gw.http, token);
    await a.request('session:info');
    const presence = await api(gw.http, 'GET', '/api/server/users/erin-4/presence');
    expect(presence.body).toEqual({
      userId: 'erin-4',
      online: true,
      connections: 2,
      perNode: [{ nodeId: gw.nodeId, count: 2 }],
      answered: 1,
      expected: 1,
      complete: true,
    });

    const sioClosed = new Promise<string>((resolve) => b.socket.once('disconnect', (reason) => resolve(reason)));
    const ban = await api(gw.http, 'POST', '/api/server/users/erin-4/disconnect', { reason: 'banned' });
    expect(ban.body).toMatchObject({ userId: 'erin-4', closed: 2, answered: 1, expected: 1, complete: true });
    expect(await a.closed).toEqual({ code: 4103, reason: 'banned' });
    expect(await sioClosed).toBe('io server disconnect');

    await gw.waitForLog((l) => l.msg === 'connection closed' && l['user'] === 'erin-4' && l['code'] === 4103);
    const after = await api(gw.http, 'GET', '/api/server/users/erin-4/presence');
    expect(after.body).toMatchObject({ online: false, connections: 0 });
  });
});
