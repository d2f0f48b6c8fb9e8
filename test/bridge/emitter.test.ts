import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { removeDir, startRedis } from '../support/services.js';
import { RecordingSio, metric } from './helpers.js';

describe('@socket.io/redis-emitter reaches livegate clients', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let gw: GatewayProcess;
  let backendRedis: Redis;
  let emitter: Emitter;

  beforeAll(async () => {
    // A Redis of its own: the relay lease is a cluster-global key.
    redis = await startRedis();
    gw = await startGateway({ REDIS_URL: redis.url });
    await gw.waitForLog((l) => l.msg === 'lease acquired' && l['lease'] === 'livegate:bridge:emitter-relay');
    backendRedis = new Redis(redis.url);
    emitter = new Emitter(backendRedis);
  });
  afterAll(async () => {
    backendRedis.disconnect();
    await gw.stop();
    await redis.stop();
    removeDir(redis.dir);
  });

  it('relays to(user room), seed-style notification rooms, emit to all, socketsJoin + room emits, disconnectSockets', async () => {
    const alice = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'em-alice' }) });
    const bob = await RecordingSio.connect(gw.http, await makeToken({ sub: 'em-bob' }));
    const carol = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'em-carol' }) });

    emitter.to('user:em-alice').emit('notification:new', { n: 1 });
    expect(await alice.waitForEvent('notification:new')).toMatchObject({ data: { n: 1 }, room: 'user:em-alice' });

    // Seed 004's backend writes to `notifications:<userId>`: that is the user's room here.
    emitter.to('notifications:em-bob').emit('notification', { type: 'commission_earned', data: { amount: 5 } });
    expect((await bob.waitFor((r) => r.event === 'notification')).data).toEqual({ type: 'commission_earned', data: { amount: 5 } });

    // Several arguments arrive as one array.
    emitter.to('user:em-alice').emit('multi', 1, 'two', { three: 3 });
    expect((await alice.waitForEvent('multi')).data).toEqual([1, 'two', { three: 3 }]);

    // The backend puts users into a room, then emits to the room.
    emitter.in(['user:em-alice', 'user:em-carol']).socketsJoin('team:9');
    await gw.waitForLog((l) => l.msg === 'emitter request applied' && l['op'] === 'sockets_join');
    emitter.to('team:9').emit('team:update', { v: 2 });
    expect((await alice.waitForEvent('team:update')).data).toEqual({ v: 2 });
    expect((await carol.waitForEvent('team:update')).data).toEqual({ v: 2 });

    // Unsupported: except() is refused, not half-applied.
    emitter.except('user:em-bob').emit('not-for-anyone', 1);
    // Everyone.
    emitter.emit('announcement', 'hello');
    await Promise.all([alice.waitForEvent('announcement'), bob.waitFor((r) => r.event === 'announcement'), carol.waitForEvent('announcement')]);
    expect(alice.frames.filter((f) => f.event === 'notification:new' || f.event === 'team:update' || f.event === 'announcement').map((f) => f.event)).toEqual([
      'notification:new',
      'team:update',
      'announcement',
    ]);
    expect(bob.received.map((r) => r.event)).toEqual(['notification', 'announcement']);
    expect(carol.frames.filter((f) => f.event !== 'session:ready').map((f) => f.event)).toEqual(['team:update', 'announcement']);
    expect(await metric(gw.http, 'livegate_bridge_emitter_messages_total', { op: 'emit', outcome: 'refused' })).toBe(1);
    expect(await metric(gw.http, 'livegate_bridge_emitter_messages_total', { op: 'emit', outcome: 'relayed' })).toBe(5);

    // serverSideEmit has no listener here: counted as unsupported.
    emitter.serverSideEmit('ping', 1);
    // disconnectSockets on a user room closes that user's sessions.
    emitter.in('user:em-carol').disconnectSockets(true);
    expect(await carol.closed).toEqual({ code: 4103, reason: 'disconnected by the backend' });
    expect(await metric(gw.http, 'livegate_bridge_emitter_messages_total', { op: 'server_side_emit', outcome: 'unsupported' })).toBe(1);

    alice.close();
    bob.close();
  });
});
