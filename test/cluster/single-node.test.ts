/** Without REDIS_URL the same features run on the in-process engines (memory bus and stores). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { roomSeqs } from './helpers.js';

describe('single node, no redis', () => {
  let gw: GatewayProcess;
  const clients: NativeClient[] = [];
  const open = async (userId: string): Promise<NativeClient> => {
    const c = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: userId }) });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    gw = await startGateway({ ROOM_HISTORY_SIZE: '5' });
  });
  afterAll(async () => {
    clients.forEach((c) => c.socket.terminate());
    await gw.stop();
  });

  it('runs livestreams, viewer counts, resume with gap, and presence in process', async () => {
    const host = await open('solo-host');
    await host.request('livestream:start', { title: 'solo', livestreamId: 'solo' });
    const viewer = await open('solo-viewer');
    expect((await viewer.request('livestream:join', { livestreamId: 'solo' })).data).toMatchObject({ viewers: 1, hostId: 'solo-host' });
    await viewer.waitFor((f) => f.event === 'livestream:viewers' && (f.data as { viewers: number }).viewers === 1);
    const first = (await host.request('livestream:chat', { livestreamId: 'solo', text: 'one' })).data as { seq: number };
    await viewer.waitFor((f) => f.seq === first.seq);
    await viewer.close();
    for (const text of ['two', 'three']) await host.request('livestream:chat', { livestreamId: 'solo', text });
    const back = await open('solo-viewer');
    expect((await back.request('livestream:join', { livestreamId: 'solo', lastSeq: first.seq })).data).toMatchObject({ resume: { gap: false } });
    expect(back.frames.filter((f) => f.event === 'livestream:chat').map((f) => (f.data as { text: string }).text)).toEqual(['two', 'three']);
    expect(roomSeqs(back, 'live:solo')[0]).toBe(first.seq + 1);
    for (let i = 0; i < 6; i++) await host.request('livestream:chat', { livestreamId: 'solo', text: `x${i}` });
    const late = await open('solo-late');
    await late.request('livestream:join', { livestreamId: 'solo', lastSeq: first.seq });
    expect((await late.waitForEvent('room:gap')).data).toMatchObject({ room: 'live:solo' });

    expect((await back.request('presence:subscribe', { userIds: ['solo-host'] })).error?.code).toBe('forbidden');
    await back.request('user:follow', { userId: 'solo-host' });
    expect((await back.request('presence:subscribe', { userIds: ['solo-host'] })).data).toEqual({
      users: [{ userId: 'solo-host', status: 'online', lastSeenAt: null }],
    });
    await host.request('presence:set', { status: 'away' });
    expect((await back.waitForEvent('presence:update')).data).toEqual({ userId: 'solo-host', status: 'away', lastSeenAt: null });
  });
});
