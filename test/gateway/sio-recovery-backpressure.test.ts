/**
 * Socket.IO connection state recovery and backpressure, with a real socket.io-client: a client that
 * stops reading fills its send buffer until uWS drops a frame. The dropped frame must not be skipped
 * by a later offset: livegate sends nothing more to that socket and closes it (4008), the client
 * reconnects with the offset of the last frame it got, and it is recovered (`socket.recovered`, same
 * `socket.id`) with every event it missed, from the room history, each exactly once and in order.
 * When the history no longer holds what it missed, the recovery fails and the client is told the way
 * Socket.IO tells it (`recovered` false, a new id).
 */
import type { Socket as NetSocket } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import { API_KEY, api } from '../bridge/helpers.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

const PAYLOAD = 'x'.repeat(40_000);

interface Recorder {
  socket: Socket;
  seen: number[];
  until(count: number): Promise<void>;
  next(event: 'connect' | 'disconnect'): Promise<unknown>;
}

function recorder(socket: Socket): Recorder {
  const seen: number[] = [];
  const waiters: Array<() => void> = [];
  socket.on('team:update', (data: { v: number }) => {
    seen.push(data.v);
    waiters.splice(0).forEach((wake) => wake());
  });
  return {
    socket,
    seen,
    async until(count) {
      while (seen.length < count) await new Promise<void>((wake) => waiters.push(wake));
    },
    next: (event) => new Promise((resolve) => socket.once(event, resolve)),
  };
}

/** The TCP socket under socket.io-client's websocket transport (the `ws` package's). */
const tcpOf = (socket: Socket): NetSocket => (socket.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } }).transport.ws._socket;

describe('Socket.IO recovery when a frame is dropped under backpressure', () => {
  const gateways: GatewayProcess[] = [];
  const sockets: Socket[] = [];
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await Promise.all(gateways.map((g) => g.stop()));
  });

  const start = async (historySize: number): Promise<GatewayProcess> => {
    const gw = await startGateway({
      SERVICE_API_KEYS: API_KEY,
      WS_MAX_BACKPRESSURE: '65536',
      // The sweeper must not be the one that closes the socket: the drop itself does.
      WS_SLOW_CONSUMER_GRACE_MS: '600000',
      ROOM_HISTORY_SIZE: String(historySize),
      SIO_PING_INTERVAL_MS: '5000',
      SIO_PING_TIMEOUT_MS: '20000',
    });
    gateways.push(gw);
    return gw;
  };
  const open = async (gw: GatewayProcess, user: string): Promise<Recorder> => {
    const socket = io(gw.http, {
      transports: ['websocket'],
      auth: { token: await makeToken({ sub: user }), connectionStateRecovery: true },
      forceNew: true,
      reconnectionDelay: 200,
      reconnectionDelayMax: 200,
      randomizationFactor: 0,
    });
    sockets.push(socket);
    const r = recorder(socket);
    await r.next('connect');
    return r;
  };
  /** The frames the gateway dropped under backpressure so far. */
  const droppedFrames = async (gw: GatewayProcess): Promise<number> => {
    const text = await (await fetch(`${gw.http}/metrics`)).text();
    return Number(/livegate_dropped_frames_total\{reason="backpressure"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  /**
   * Stalls the client, publishes `total` large events (far more than the kernel buffers and
   * WS_MAX_BACKPRESSURE hold), waits until the gateway has dropped a frame, and lets the client read
   * again; then one more event is published, after the client reads again.
   */
  const overflow = async (gw: GatewayProcess, r: Recorder, room: string, total: number): Promise<void> => {
    tcpOf(r.socket).pause();
    for (let v = 1; v <= total; v++) {
      const res = await api(gw.http, 'POST', '/api/server/publish/room', { room, event: 'team:update', data: { v, pad: PAYLOAD } });
      expect(res.status).toBe(200);
    }
    // The frames leave at the end of the publishing iteration: poll the counter until it moved.
    for (let i = 0; i < 400 && (await droppedFrames(gw)) === 0; i++) await new Promise((wake) => setTimeout(wake, 50));
    expect(await droppedFrames(gw)).toBeGreaterThan(0);
    tcpOf(r.socket).resume();
    // Without the fix the socket stays open and this one arrives with an offset past the dropped frames.
    expect((await api(gw.http, 'POST', '/api/server/publish/room', { room, event: 'team:update', data: { v: total + 1 } })).status).toBe(200);
  };

  it('the dropped frame and everything after it come back from the room history, once each, same socket id', async () => {
    const gw = await start(1000);
    const user = 'bp-rec-alice';
    const room = 'team:bp-recovery';
    const r = await open(gw, user);
    const firstId = r.socket.id;
    expect((await api(gw.http, 'POST', `/api/server/rooms/${room}/join`, { userIds: [user] })).status).toBe(200);

    const total = 300;
    const down = r.next('disconnect');
    const back = down.then(() => r.next('connect'));
    await overflow(gw, r, room, total);
    expect((await gw.waitForLog((l) => l.msg === 'connection closed' && l['user'] === user, 30_000))['code']).toBe(4008);
    await back;
    expect(r.socket.recovered).toBe(true);
    expect(r.socket.id).toBe(firstId);
    await r.until(total + 1);
    expect(r.seen).toEqual(Array.from({ length: total + 1 }, (_, i) => i + 1));
  }, 120_000);

  it('when the history no longer holds the dropped frame, the recovery fails: recovered false, a new socket id', async () => {
    const gw = await start(20);
    const user = 'bp-rec-bob';
    const room = 'team:bp-trimmed';
    const r = await open(gw, user);
    const firstId = r.socket.id;
    expect((await api(gw.http, 'POST', `/api/server/rooms/${room}/join`, { userIds: [user] })).status).toBe(200);

    const back = r.next('disconnect').then(() => r.next('connect'));
    await overflow(gw, r, room, 300);
    await back;
    expect(r.socket.recovered).toBe(false);
    expect(r.socket.id).not.toBe(firstId);
    // What it did get is a prefix, in order, without a hole.
    expect(r.seen).toEqual(Array.from({ length: r.seen.length }, (_, i) => i + 1));
    expect(r.seen.length).toBeLessThan(300);
    expect(r.seen).not.toContain(301);
  }, 120_000);
});
