import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msgpack } from '../../src/gateway/codecs/native.js';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

describe('native dialect', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('announces the verified session with session:ready, then answers session:info over JSON text frames', async () => {
    const client = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'alice' }) });
    const reply = await client.request('session:info');
    expect(reply.error).toBeUndefined();
    expect(reply.data).toMatchObject({ userId: 'alice', nodeId: gw.nodeId });
    const info = reply.data as { connectionId: string; serverAt: string };
    expect(info.connectionId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(Number.isNaN(Date.parse(info.serverAt))).toBe(false);
    // The first frame the socket got: the session, before any reply.
    expect(client.frames[0]).toMatchObject({ event: 'session:ready', data: { userId: 'alice', nodeId: gw.nodeId, connectionId: info.connectionId } });
    await client.close();
  });

  it('answers session:info over msgpack binary frames (encoding from the first frame)', async () => {
    const client = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'bob' }), encoding: 'msgpack' });
    const reply = await client.request('session:info', {});
    expect(reply.data).toMatchObject({ userId: 'bob' });
    expect(client.frames[0]).toMatchObject({ event: 'session:ready', data: { userId: 'bob' } });
    await client.close();
  });

  it('uses msgpack from the start when the subprotocol asks for it', async () => {
    const client = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'carol' }), encoding: 'msgpack', protocol: 'livegate.msgpack' });
    expect(client.socket.protocol).toBe('livegate.msgpack');
    // A JSON text frame does not switch a connection whose encoding was chosen explicitly.
    client.sendRaw(JSON.stringify({ event: 'session:info', id: 7 }));
    const reply = await client.waitFor((f) => f.ack === 7);
    expect(reply.data).toMatchObject({ userId: 'carol' });
    expect(msgpack.unpack(msgpack.pack({ a: 1 }))).toEqual({ a: 1 });
    await client.close();
  });
});
