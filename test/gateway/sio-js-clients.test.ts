import { io as io48, type Socket } from 'socket.io-client';
import { io as io47 } from 'socket.io-client-47';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, api } from '../bridge/helpers.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

type Io = (url: string, opts: Record<string, unknown>) => Socket;

/**
 * An app's Socket.IO client, unchanged but for `transports: ['websocket']` and the token in
 * `auth`, against one livegate node: socket.io-client 4.8 (current) and 4.7.
 */
const CLIENTS: Array<[string, Io]> = [
  ['socket.io-client 4.8', io48 as Io],
  ['socket.io-client 4.7', io47 as unknown as Io],
];

const connected = (socket: Socket): Promise<void> =>
  new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });

const nextEvent = (socket: Socket, event: string): Promise<unknown[]> => new Promise((resolve) => socket.once(event, (...args: unknown[]) => resolve(args)));

describe.each(CLIENTS)('%s against livegate', (name, io) => {
  let gw: GatewayProcess;
  const sockets: Socket[] = [];
  const tag = name.replace(/\W+/g, '-');
  const open = async (userId: string, auth: Record<string, unknown> = {}, opts: Record<string, unknown> = {}): Promise<Socket> => {
    const socket = io(gw.http, { transports: ['websocket'], auth: { token: await makeToken({ sub: userId }), ...auth }, forceNew: true, ...opts });
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    gw = await startGateway({ SERVICE_API_KEYS: API_KEY });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await gw.stop();
  });

  it('connects, emits with an ack, and gets a room event with exactly its data (one argument)', async () => {
    const user = `${tag}-events`;
    const socket = await open(user);
    await connected(socket);
    expect(socket.recovered).toBeFalsy();
    const info = (await socket.emitWithAck('session:info', {})) as { userId: string };
    expect(info.userId).toBe(user);

    const room = `team:${tag}`;
    expect((await api(gw.http, 'POST', `/api/server/rooms/${room}/join`, { userIds: [user] })).status).toBe(200);
    const event = nextEvent(socket, 'team:update');
    expect((await api(gw.http, 'POST', '/api/server/publish/room', { room, event: 'team:update', data: { v: 1 } })).status).toBe(200);
    expect(await event).toEqual([{ v: 1 }]);
    // The user room too (a push to every device of the user).
    const push = nextEvent(socket, 'notification:new');
    await api(gw.http, 'POST', '/api/server/publish/user', { userId: user, event: 'notification:new', data: { id: 'n1' } });
    expect(await push).toEqual([{ id: 'n1' }]);
  });

  it('round-trips binary data as attachments (BINARY_EVENT in, BINARY_ACK out)', async () => {
    const socket = await open(`${tag}-binary`);
    await connected(socket);
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const reply = (await socket.emitWithAck('session:echo', { file: bytes, name: 'x.bin', parts: [Buffer.from('ab'), 7] })) as {
      file: Buffer;
      name: string;
      parts: [Buffer, number];
    };
    expect(Buffer.isBuffer(reply.file)).toBe(true);
    expect([...reply.file]).toEqual([...bytes]);
    expect(reply.name).toBe('x.bin');
    expect(reply.parts[0].toString()).toBe('ab');
    expect(reply.parts[1]).toBe(7);
    // A bare binary argument.
    const bare = (await socket.emitWithAck('session:echo', Buffer.from('raw'))) as Buffer;
    expect(bare.toString()).toBe('raw');
  });

  it('answers attachments beyond the bounds with a typed error in the ack; the connection stays', async () => {
    const socket = await open(`${tag}-too-many`);
    await connected(socket);
    const many = Array.from({ length: 11 }, (_, i) => Buffer.from([i]));
    const reply = (await socket.emitWithAck('session:echo', many)) as { error: { code: string; message: string } };
    expect(reply.error.code).toBe('payload_too_large');
    expect(reply.error.message).toContain('at most 10 binary attachments');
    const big = (await socket.emitWithAck('session:echo', [Buffer.alloc(600_000), Buffer.alloc(600_000)])) as { error: { code: string } };
    expect(big.error.code).toBe('payload_too_large');
    expect(socket.connected).toBe(true);
    expect(((await socket.emitWithAck('session:echo', Buffer.from('ok'))) as Buffer).toString()).toBe('ok');
  });

  it('accepts a frame up to the 1 MB default (Socket.IO maxHttpBufferSize) and answers a larger one with a typed error', async () => {
    const socket = await open(`${tag}-large`);
    await connected(socket);
    const text = 'x'.repeat(900_000);
    expect(((await socket.emitWithAck('session:echo', { text })) as { text: string }).text.length).toBe(900_000);
    const tooBig = (await socket.emitWithAck('session:echo', { text: 'y'.repeat(1_100_000) })) as { error: { code: string } };
    expect(tooBig.error.code).toBe('payload_too_large');
    expect(socket.connected).toBe(true);
  });

  it('kicked by the backend: `io server disconnect`, and the client does not reconnect', async () => {
    const user = `${tag}-kicked`;
    const socket = await open(user, {}, { reconnection: true, reconnectionDelay: 50 });
    await connected(socket);
    const disconnected = nextEvent(socket, 'disconnect');
    expect((await api(gw.http, 'POST', `/api/server/users/${user}/disconnect`, {})).status).toBe(200);
    expect((await disconnected)[0]).toBe('io server disconnect');
    // The client's own statement that it will not reconnect by itself.
    expect(socket.active).toBe(false);
    expect(socket.io.engine?.readyState ?? 'closed').not.toBe('opening');
  });

  it('disconnect(): the server sees the socket go and the user offline', async () => {
    const user = `${tag}-leaves`;
    const socket = await open(user);
    await connected(socket);
    const closedLog = gw.waitForLog((l) => l.msg === 'connection closed' && l['user'] === user);
    socket.disconnect();
    await closedLog;
    const presence = await api<{ connections: number }>(gw.http, 'GET', `/api/server/users/${user}/presence`);
    expect(presence.body).toMatchObject({ connections: 0 });
  });

  it('with connectionStateRecovery asked for: gets a pid, events carry the offset as their last argument', async () => {
    const user = `${tag}-offset`;
    const socket = await open(user, { connectionStateRecovery: true });
    await connected(socket);
    const room = `team:${tag}-offset`;
    await api(gw.http, 'POST', `/api/server/rooms/${room}/join`, { userIds: [user] });
    const event = nextEvent(socket, 'team:update');
    await api(gw.http, 'POST', '/api/server/publish/room', { room, event: 'team:update', data: { v: 2 } });
    const args = await event;
    expect(args).toHaveLength(2);
    expect(args[0]).toEqual({ v: 2 });
    expect(typeof args[1]).toBe('string');
    expect(args[1]).toContain(encodeURIComponent(room) + '=');
  });
});
