import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sioConnect, sioConnected } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

/** The Socket.IO dialect through the official socket.io-client, unchanged, websocket transport. */
describe('Socket.IO v4 dialect', () => {
  let gw: GatewayProcess;
  const sockets: Socket[] = [];
  const open = (auth: Record<string, unknown>): Socket => {
    const s = sioConnect(gw.http, auth);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    gw = await startGateway({ SIO_PING_INTERVAL_MS: '1000', SIO_PING_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await gw.stop();
  });

  it('connects with auth {token}, emits with an ack and gets the result object', async () => {
    const socket = open({ token: await makeToken({ sub: 'sio-user' }) });
    await sioConnected(socket);
    const info = (await socket.emitWithAck('session:info', {})) as Record<string, unknown>;
    expect(info).toMatchObject({ userId: 'sio-user', nodeId: gw.nodeId, connectionId: socket.id });
  });

  it('answers an unknown event with {error: {code, message}} in the ack', async () => {
    const socket = open({ token: await makeToken() });
    await sioConnected(socket);
    const reply = (await socket.emitWithAck('no:such-event', { a: 1 })) as { error: { code: string; message: string } };
    expect(reply.error.code).toBe('unknown_event');
    expect(reply.error.message).toContain('no:such-event');
  });

  it('refuses a connection without a token with CONNECT_ERROR', async () => {
    const socket = open({});
    const err = (await sioConnected(socket).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { data?: { code: string; reason: string } };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('no token given');
    expect(err.data).toEqual({ code: 'unauthorized', reason: 'missing' });
  });

  it('keeps the connection alive across several Engine.IO heartbeats', async () => {
    const socket = open({ token: await makeToken() });
    await sioConnected(socket);
    // The client answers each server ping; wait for three pings to be seen by the client.
    await new Promise<void>((resolve) => {
      let pings = 0;
      socket.io.engine.on('ping', () => {
        if (++pings === 3) resolve();
      });
    });
    expect(socket.connected).toBe(true);
    const info = (await socket.emitWithAck('session:info', {})) as { connectionId: string };
    expect(info.connectionId).toBe(socket.id);
  });

  it('receives a server-sent event and disconnects cleanly', async () => {
    const socket = open({ token: await makeToken({ sub: 'sio-events' }) });
    await sioConnected(socket);
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    socket.disconnect();
    expect(await disconnected).toBe('io client disconnect');
    await gw.waitForLog((l) => l.msg === 'connection closed' && l['user'] === 'sio-events');
  });

  it('accepts an auth token given as a query parameter when the auth payload has none', async () => {
    const token = await makeToken({ sub: 'sio-query' });
    const { io } = await import('socket.io-client');
    const socket = io(gw.http, { transports: ['websocket'], query: { token }, reconnection: false, forceNew: true });
    sockets.push(socket);
    await sioConnected(socket);
    expect(((await socket.emitWithAck('session:info', {})) as { userId: string }).userId).toBe('sio-query');
  });
});
