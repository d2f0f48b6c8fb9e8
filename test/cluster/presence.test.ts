/** Presence on two gateway nodes over one real Redis: devices, invisible, visibility, dead node. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisContactDirectory } from '../../src/handlers/presence/contacts.js';
import { NativeClient, type ServerFrame } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { metricValue, waitUntil } from './helpers.js';

interface Update {
  userId: string;
  status: string;
  lastSeenAt: string | null;
}

const updatesFor = (client: NativeClient, userId: string): Update[] =>
  client.frames.filter((f) => f.event === 'presence:update' && (f.data as Update).userId === userId).map((f) => f.data as Update);

function ok(frame: ServerFrame): Record<string, unknown> {
  expect(frame.error).toBeUndefined();
  return frame.data as Record<string, unknown>;
}

describe('presence across two nodes', () => {
  let a: GatewayProcess;
  let b: GatewayProcess;
  let admin: Redis;
  const clients: NativeClient[] = [];
  const open = async (gw: GatewayProcess, userId: string): Promise<NativeClient> => {
    const c = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: userId }) });
    clients.push(c);
    // Presence is written on connect; session:info round-trips so the connection is set up.
    ok(await c.request('session:info'));
    return c;
  };
  const id = (name: string): string => `${name}-${randomUUID().slice(0, 8)}`;
  const devicesOf = async (userId: string): Promise<Record<string, string>> => admin.hgetall(`lg:pr:${userId}:nodes`);

  beforeAll(async () => {
    const env = { REDIS_URL: inject('redisUrl') };
    [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
    admin = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    for (const c of clients) c.socket.terminate();
    admin?.disconnect();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('a user with devices on two nodes stays online until the last one disconnects', async () => {
    const alice = id('alice');
    const bob = id('bob');
    const phone = await open(a, alice);
    const laptop = await open(b, alice);
    await waitUntil(async () => Object.keys(await devicesOf(alice)).length === 2);
    const watcher = await open(a, bob);
    ok(await watcher.request('user:follow', { userId: alice }));
    const reply = ok(await watcher.request('presence:subscribe', { userIds: [alice] }));
    expect(reply['users']).toEqual([{ userId: alice, status: 'online', lastSeenAt: null }]);

    await phone.close();
    await waitUntil(async () => Object.keys(await devicesOf(alice)).length === 1);
    expect(await devicesOf(alice)).toEqual({ [b.nodeId]: '1' });
    const before = Date.now();
    await laptop.close();
    const offline = (await watcher.waitFor((f) => f.event === 'presence:update')).data as Update;
    expect(offline.status).toBe('offline');
    expect(Date.parse(offline.lastSeenAt!)).toBeGreaterThanOrEqual(before - 1000);
    // Exactly one change was announced: the phone's disconnect changed nothing others see.
    expect(updatesFor(watcher, alice)).toEqual([offline]);

    const back = await open(b, alice);
    expect((await watcher.waitFor((f) => f.event === 'presence:update' && (f.data as Update).status === 'online')).data).toMatchObject({ userId: alice });
    await back.close();
  });

  it('invisible looks offline to others; you see your own status; away/busy show', async () => {
    const carol = id('carol');
    const dave = id('dave');
    const me = await open(b, carol);
    const watcher = await open(a, dave);
    ok(await watcher.request('user:follow', { userId: carol }));
    ok(await watcher.request('presence:subscribe', { userIds: [carol] }));
    ok(await me.request('presence:set', { status: 'busy' }));
    expect((await watcher.waitFor((f) => f.event === 'presence:update')).data).toMatchObject({ userId: carol, status: 'busy' });
    ok(await me.request('presence:set', { status: 'invisible' }));
    expect((await watcher.waitFor((f) => f.event === 'presence:update' && (f.data as Update).status === 'offline')).data).toMatchObject({ userId: carol });
    const fresh = await open(b, dave);
    expect(ok(await fresh.request('presence:subscribe', { userIds: [carol] }))['users']).toEqual([
      expect.objectContaining({ userId: carol, status: 'offline' }),
    ]);
    expect(ok(await me.request('presence:subscribe', { userIds: [carol] }))['users']).toEqual([
      expect.objectContaining({ userId: carol, status: 'invisible' }),
    ]);
    // Reconnecting while invisible stays invisible; nothing is announced.
    const second = await open(a, carol);
    await waitUntil(async () => Object.keys(await devicesOf(carol)).length === 2);
    ok(await me.request('presence:set', { status: 'away' }));
    await watcher.waitFor((f) => f.event === 'presence:update' && (f.data as Update).status === 'away');
    expect(updatesFor(watcher, carol).map((u) => u.status)).toEqual(['busy', 'offline', 'away']);
    expect((await me.request('presence:set', { status: 'offline' })).error?.code).toBe('validation_failed');
    await second.close();
  });

  it('refuses subscribers who neither follow nor share a conversation; conversation contacts may see', async () => {
    const erin = id('erin');
    const frank = id('frank');
    const gina = id('gina');
    const stranger = await open(a, erin);
    const res = await stranger.request('presence:subscribe', { userIds: [erin, frank] });
    expect(res.error?.code).toBe('forbidden');
    expect(res.error?.message).toContain(frank);
    expect(stranger.frames.some((f) => f.event === 'presence:update')).toBe(false);
    expect((await stranger.request('room:resume', { room: `presence:${frank}`, lastSeq: 0 })).error?.code).toBe('forbidden');
    // The chat module's seam: conversation participants become contacts.
    await new RedisContactDirectory(admin).addContacts([erin, frank, gina]);
    expect(ok(await stranger.request('presence:subscribe', { userIds: [frank, gina] }))['users']).toHaveLength(2);
    ok(await stranger.request('user:follow', { userId: `${erin}-x` }));
    ok(await stranger.request('user:unfollow', { userId: `${erin}-x` }));
    expect((await stranger.request('presence:subscribe', { userIds: [`${erin}-x`] })).error?.code).toBe('forbidden');
    expect(await metricValue(a, 'livegate_presence_entries')).toBeGreaterThanOrEqual(1);
  });

  it("a killed node's devices expire within 10 s; a user with a device elsewhere stays online", async () => {
    const hana = id('hana');
    const ivan = id('ivan');
    const kim = id('kim');
    await open(b, hana);
    await open(b, ivan);
    await open(a, ivan);
    const watcher = await open(a, kim);
    await waitUntil(async () => Object.keys(await devicesOf(ivan)).length === 2);
    await new RedisContactDirectory(admin).addContacts([kim, hana, ivan]);
    ok(await watcher.request('presence:subscribe', { userIds: [hana, ivan] }));
    const killedAt = Date.now();
    await b.kill();
    const update = (await watcher.waitFor((f) => f.event === 'presence:update', 10_000)).data as Update;
    const ms = Date.now() - killedAt;
    expect(update).toMatchObject({ userId: hana, status: 'offline' });
    expect(ms).toBeLessThan(10_000);
    console.log(`device of a kill -9'd node expired after ${ms} ms`);
    await waitUntil(async () => Object.keys(await devicesOf(ivan)).length === 1);
    expect(updatesFor(watcher, ivan)).toEqual([]);
    expect(ok(await watcher.request('presence:subscribe', { userIds: [ivan] }))['users']).toEqual([expect.objectContaining({ status: 'online' })]);
  });
});
