import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient, sioConnect, sioConnected } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

async function sio(gw: GatewayProcess, userId: string): Promise<Socket> {
  const socket = sioConnect(gw.http, { token: await makeToken({ sub: userId }) });
  await sioConnected(socket);
  return socket;
}
const ack = (socket: Socket, event: string, ...args: unknown[]): Promise<unknown> => socket.timeout(10_000).emitWithAck(event, ...args);
const native = async (gw: GatewayProcess, userId: string): Promise<NativeClient> => NativeClient.connect(gw.ws, { token: await makeToken({ sub: userId }) });

describe('seed client calls (compat)', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ COMPAT_USER_PRESENCE_EVENTS: 'true' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it("accepts socket.emit('livestream:join', streamId) with a bare id, on both dialects", async () => {
    const host = await native(gw, 'cp-host');
    expect((await host.request('livestream:start', { title: 'Compat', streamId: 'cp-stream-1' })).error).toBeUndefined();
    const socket = await sio(gw, 'cp-viewer-1');
    expect(await ack(socket, 'livestream:join', 'cp-stream-1')).toMatchObject({ livestreamId: 'cp-stream-1' });
    const viewer = await native(gw, 'cp-viewer-2');
    expect((await viewer.request('livestream:join', 'cp-stream-1')).data).toMatchObject({ livestreamId: 'cp-stream-1' });
    // The object form is unchanged; a bare value of the wrong type is still refused by the schema.
    expect((await viewer.request('livestream:join', { streamId: 'cp-stream-1' })).data).toMatchObject({ livestreamId: 'cp-stream-1' });
    expect((await viewer.request('livestream:join', 42)).error?.code).toBe('validation_failed');
    // The bare-string rule is per event: elsewhere a string is still a validation error.
    expect((await viewer.request('livestream:leave', 'cp-stream-1')).error?.code).toBe('validation_failed');
    socket.close();
    await host.close();
    await viewer.close();
  });

  it("accepts socket.emit('subscribe_notifications', userId) for one's own id, on both dialects", async () => {
    const socket = await sio(gw, 'cp-erin');
    expect(await ack(socket, 'subscribe_notifications', 'cp-erin')).toEqual({ userId: 'cp-erin', subscribed: true });
    expect(await ack(socket, 'subscribe_notifications', 'someone-else')).toMatchObject({ error: { code: 'forbidden' } });
    const client = await native(gw, 'cp-erin');
    expect((await client.request('subscribe_notifications', 'cp-erin')).data).toEqual({ userId: 'cp-erin', subscribed: true });
    expect((await client.request('subscribe_notifications', {})).data).toEqual({ userId: 'cp-erin', subscribed: true });
    socket.close();
    await client.close();
  });

  it('sends user_online / user_offline (the bare user id) beside presence:update, on both dialects', async () => {
    const watcherSio = await sio(gw, 'cp-watch-a');
    const watcherNative = await native(gw, 'cp-watch-b');
    const heard: Array<[string, unknown]> = [];
    watcherSio.on('user_online', (userId: unknown) => heard.push(['user_online', userId]));
    watcherSio.on('user_offline', (userId: unknown) => heard.push(['user_offline', userId]));
    expect(await ack(watcherSio, 'user:follow', { userId: 'cp-star' })).toMatchObject({ following: true });
    await ack(watcherSio, 'presence:subscribe', { userIds: ['cp-star'] });
    await watcherNative.request('user:follow', { userId: 'cp-star' });
    await watcherNative.request('presence:subscribe', { userIds: ['cp-star'] });

    const star = await native(gw, 'cp-star');
    const online = await watcherNative.waitFor((f) => f.event === 'user_online');
    expect(online).toMatchObject({ data: 'cp-star', room: 'presence:cp-star' });
    const update = watcherNative.frames.find((f) => f.event === 'presence:update')!;
    expect(online.seq).toBe(update.seq! + 1);
    await star.close();
    const offline = await watcherNative.waitFor((f) => f.event === 'user_offline');
    expect(offline.data).toBe('cp-star');
    await new Promise<void>((resolve) => (heard.length >= 2 ? resolve() : watcherSio.once('user_offline', () => resolve())));
    expect(heard).toEqual([
      ['user_online', 'cp-star'],
      ['user_offline', 'cp-star'],
    ]);
    watcherSio.close();
    await watcherNative.close();
  });
});

describe('compat presence events are off by default', () => {
  it('sends only presence:update', async () => {
    const gw = await startGateway();
    try {
      const watcher = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'cp-w' }) });
      await watcher.request('user:follow', { userId: 'cp-s' });
      await watcher.request('presence:subscribe', { userIds: ['cp-s'] });
      const star = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'cp-s' }) });
      await star.close();
      await watcher.waitFor((f) => f.event === 'presence:update' && (f.data as { status: string }).status === 'offline');
      // A later change in the same room arrives after anything published for the earlier ones.
      const again = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'cp-s' }) });
      await watcher.waitFor((f) => f.event === 'presence:update' && watcher.frames.filter((g) => g.event === 'presence:update').length === 3);
      await again.close();
      expect(watcher.frames.filter((f) => f.event === 'user_online' || f.event === 'user_offline')).toEqual([]);
      await watcher.close();
    } finally {
      await gw.stop();
    }
  });
});
