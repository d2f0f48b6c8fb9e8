/**
 * The server API and the emitter path across a two-node cluster. Needs the Redis bus engine
 * (src/rooms/bus-redis.ts): with the in-process bus a node cannot reach the other node's sockets.
 */
import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { removeDir, startRedis } from '../support/services.js';
import { API_KEY, RecordingSio, api } from './helpers.js';

interface PublishReply {
  published: Array<{ room: string; seq: number; nodes: number }>;
  nodes: number;
}

describe('server API across two nodes', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    // A Redis of its own: the bridge's leases and control rooms are cluster-global.
    redis = await startRedis();
    // Cluster commands return as soon as every node answered; the bound only matters on a loaded machine.
    const env = { REDIS_URL: redis.url, SERVICE_API_KEYS: API_KEY, BRIDGE_QUERY_TIMEOUT_MS: '10000' };
    [a, b] = await Promise.all([startGateway({ ...env, NODE_ID: `br-a-${process.pid}` }), startGateway({ ...env, NODE_ID: `br-b-${process.pid}` })]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis.stop();
    removeDir(redis.dir);
  });

  it('a backend publishes through one node to users and a room on both; each device gets each event once', async () => {
    const phone = await NativeClient.connect(a.ws, { token: await makeToken({ sub: 'cl-alice' }) });
    const browser = await RecordingSio.connect(b.http, await makeToken({ sub: 'cl-alice' }));
    const bob = await NativeClient.connect(b.ws, { token: await makeToken({ sub: 'cl-bob' }) });
    const carol = await RecordingSio.connect(a.http, await makeToken({ sub: 'cl-carol' }));

    // Credentials are checked on every node.
    for (const node of [a, b]) {
      expect((await api(node.http, 'POST', '/api/server/publish/user', { userId: 'cl-bob', event: 'x' }, {})).status).toBe(401);
      expect((await api(node.http, 'POST', '/api/server/publish/user', { userId: 'cl-bob', event: 'x' }, { 'x-api-key': 'nope' })).status).toBe(401);
      expect(
        (
          await api(
            node.http,
            'POST',
            '/api/server/publish/user',
            { userId: 'cl-bob', event: 'x' },
            { authorization: `Bearer ${await makeToken({ sub: 'cl-bob' })}` },
          )
        ).status,
      ).toBe(403);
    }

    // To a user connected only on the other node: one node took it.
    const toBob = await api<PublishReply>(a.http, 'POST', '/api/server/publish/user', { userId: 'cl-bob', event: 'notification:new', data: { n: 1 } });
    expect(toBob.status).toBe(200);
    expect(toBob.body.nodes).toBe(1);
    expect((await bob.waitForEvent('notification:new')).data).toEqual({ n: 1 });

    // To a user with a device on each node: both nodes took it.
    const toAlice = await api<PublishReply>(a.http, 'POST', '/api/server/publish/user', { userId: 'cl-alice', event: 'notification:new', data: { n: 2 } });
    expect(toAlice.body.nodes).toBe(2);
    await phone.waitForEvent('notification:new');
    await browser.waitFor((r) => r.event === 'notification:new');

    // The backend puts the three users in a room; the call returns once both nodes applied it.
    const joined = await api(b.http, 'POST', '/api/server/rooms/team:cl/join', { userIds: ['cl-alice', 'cl-bob', 'cl-carol'] });
    expect(joined.body).toMatchObject({ connections: 4, answered: 2, expected: 2, complete: true });
    expect((await api(a.http, 'GET', '/api/server/rooms/team:cl/occupancy')).body).toMatchObject({ members: 4, answered: 2, complete: true });

    const toRoom = await api<PublishReply>(a.http, 'POST', '/api/server/publish/room', { room: 'team:cl', event: 'team:update', data: { v: 1 } });
    expect(toRoom.body.nodes).toBe(2);
    // A second event to the same room: once it arrived, the first cannot still be on its way.
    await api(b.http, 'POST', '/api/server/publish/room', { room: 'team:cl', event: 'marker', data: 1 });
    await Promise.all([
      phone.waitForEvent('marker'),
      browser.waitFor((r) => r.event === 'marker'),
      bob.waitForEvent('marker'),
      carol.waitFor((r) => r.event === 'marker'),
    ]);
    expect(phone.frames.filter((f) => f.event === 'team:update')).toHaveLength(1);
    expect(browser.count('team:update')).toBe(1);
    expect(bob.frames.filter((f) => f.event === 'team:update')).toHaveLength(1);
    expect(carol.count('team:update')).toBe(1);
    expect(phone.frames.filter((f) => f.event === 'notification:new')).toHaveLength(1);
    expect(browser.count('notification:new')).toBe(1);
    expect(bob.frames.filter((f) => f.event === 'notification:new')).toHaveLength(1);
    expect(carol.count('notification:new')).toBe(0);

    // Everyone, from the other node.
    const toAll = await api<PublishReply>(b.http, 'POST', '/api/server/publish/all', { event: 'announcement', data: 'hi' });
    expect(toAll.body.nodes).toBe(2);
    await Promise.all([
      phone.waitForEvent('announcement'),
      browser.waitFor((r) => r.event === 'announcement'),
      bob.waitForEvent('announcement'),
      carol.waitFor((r) => r.event === 'announcement'),
    ]);

    // Presence and ban across nodes.
    expect((await api(b.http, 'GET', '/api/server/users/cl-alice/presence')).body).toMatchObject({ online: true, connections: 2, answered: 2, complete: true });
    const browserClosed = new Promise<string>((resolve) => browser.socket.once('disconnect', (reason) => resolve(reason)));
    const ban = await api(b.http, 'POST', '/api/server/users/cl-alice/disconnect', { reason: 'banned' });
    expect(ban.body, JSON.stringify(ban.body)).toMatchObject({ closed: 2, answered: 2, complete: true });
    expect(await phone.closed).toEqual({ code: 4103, reason: 'banned' });
    expect(await browserClosed).toBe('io server disconnect');

    bob.close();
    carol.close();
  });

  it('the official @socket.io/redis-emitter reaches users on either node, once', async () => {
    const dan = await NativeClient.connect(a.ws, { token: await makeToken({ sub: 'cl-dan' }) });
    const eve = await RecordingSio.connect(b.http, await makeToken({ sub: 'cl-eve' }));
    const backend = new Redis(redis.url);
    const emitter = new Emitter(backend);
    emitter.to('user:cl-dan').emit('notification:new', { to: 'dan' });
    emitter.to('notifications:cl-eve').emit('notification:new', { to: 'eve' });
    expect((await dan.waitForEvent('notification:new')).data).toEqual({ to: 'dan' });
    expect((await eve.waitFor((r) => r.event === 'notification:new')).data).toEqual({ to: 'eve' });
    emitter.to('user:cl-dan').emit('marker', 1);
    emitter.to('user:cl-eve').emit('marker', 1);
    await dan.waitForEvent('marker');
    await eve.waitFor((r) => r.event === 'marker');
    expect(dan.frames.filter((f) => f.event === 'notification:new')).toHaveLength(1);
    expect(eve.count('notification:new')).toBe(1);
    backend.disconnect();
    dan.close();
    eve.close();
  });
});
