/**
 * Socket.IO connection state recovery across nodes: two gateways behind docker-compose's nginx entry
 * point, the node a client is on killed with SIGKILL (no goodbye, no state saved at disconnect).
 * socket.io-client with recovery reconnects through the same URL to the other node by itself and is
 * recovered (`socket.recovered`), back in its rooms without rejoining, each missed event once; a client
 * without recovery reconnects as a new session and the app rejoins.
 */
import { Redis } from 'ioredis';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, api } from '../bridge/helpers.js';
import { startEntry } from '../support/entry.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { removeDir, startRedis } from '../support/services.js';

const ROOM = 'team:recovery';

interface Recorded {
  socket: Socket;
  /** `v` of each team:update, in arrival order. */
  updates: number[];
  next(event: 'connect' | 'disconnect'): Promise<void>;
  until(count: number): Promise<void>;
}

function record(socket: Socket): Recorded {
  const updates: number[] = [];
  const waiters: Array<() => void> = [];
  socket.on('team:update', (data: { v: number }) => {
    updates.push(data.v);
    waiters.splice(0).forEach((wake) => wake());
  });
  return {
    socket,
    updates,
    next: (event) => new Promise((resolve) => socket.once(event, () => resolve())),
    async until(count) {
      while (updates.length < count) await new Promise<void>((wake) => waiters.push(wake));
    },
  };
}

describe('Socket.IO recovery after a node is killed behind one entry point', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const gateways: GatewayProcess[] = [];
  let entry: Awaited<ReturnType<typeof startEntry>>;
  let base: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, SERVICE_API_KEYS: API_KEY, SIO_PING_INTERVAL_MS: '2000', SIO_PING_TIMEOUT_MS: '2000' };
    gateways.push(...(await Promise.all([startGateway(env), startGateway(env)])));
    entry = await startEntry([gateways[0]!.port, gateways[1]!.port]);
    base = `http://127.0.0.1:${entry.port}`;
  }, 120_000);

  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await entry?.stop();
    if (entry) removeDir(entry.dir);
    await Promise.all(gateways.map((g) => g.stop()));
    await redis?.stop();
    if (redis) removeDir(redis.dir);
  });

  const open = async (userId: string, recovery: boolean): Promise<Recorded> => {
    const socket = io(base, {
      transports: ['websocket'],
      auth: { token: await makeToken({ sub: userId }), ...(recovery ? { connectionStateRecovery: true } : {}) },
      forceNew: true,
      reconnectionDelay: 300,
      reconnectionDelayMax: 300,
      randomizationFactor: 0,
    });
    sockets.push(socket);
    const recorded = record(socket);
    await recorded.next('connect');
    return recorded;
  };
  const nodeOf = async (r: Recorded): Promise<string> => ((await r.socket.emitWithAck('session:info', {})) as { nodeId: string }).nodeId;
  const publish = async (via: GatewayProcess, v: number): Promise<void> => {
    expect((await api(via.http, 'POST', '/api/server/publish/room', { room: ROOM, event: 'team:update', data: { v } })).status).toBe(200);
  };

  it('socket.io-client recovers by itself on the other node (missed events once, no rejoin); a client without recovery rejoins', async () => {
    const recovering = await open('rec-alice', true);
    const victim = await nodeOf(recovering);
    const doomed = gateways.find((g) => g.nodeId === victim)!;
    const survivor = gateways.find((g) => g !== doomed)!;
    // A client without recovery on the same node (the entry point spreads connections: open until one lands there).
    let plain: Recorded | undefined;
    let plainUser = '';
    for (let i = 0; i < 10 && !plain; i++) {
      plainUser = `rec-bob-${i}`;
      const candidate = await open(plainUser, false);
      // One that landed elsewhere stays open: the entry point balances by connection count.
      if ((await nodeOf(candidate)) === victim) plain = candidate;
    }
    expect(plain, 'no plain client landed on the node to kill').toBeDefined();

    expect((await api(survivor.http, 'POST', `/api/server/rooms/${ROOM}/join`, { userIds: ['rec-alice', plainUser] })).status).toBe(200);
    await publish(survivor, 1);
    await Promise.all([recovering.until(1), plain!.until(1)]);
    // The session record knows the room before the node goes (written on join, never per event).
    const pid = (recovering.socket as unknown as { _pid: string })._pid;
    expect(pid).toEqual(expect.any(String));
    const admin = new Redis(redis.url);
    for (let i = 0; i < 100 && (await admin.hget(`lg:sio:session:${pid}`, `r:${ROOM}`)) === null; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await admin.hget(`lg:sio:session:${pid}`, `r:${ROOM}`)).not.toBeNull();
    admin.disconnect();

    const [recDown, plainDown] = [recovering.next('disconnect'), plain!.next('disconnect')];
    doomed.process.kill('SIGKILL');
    await Promise.all([recDown, plainDown]);
    // Published while both are away (they reconnect after 300 ms).
    await publish(survivor, 2);
    await publish(survivor, 3);

    const plainBack = plain!.next('connect');
    await recovering.next('connect');
    expect(recovering.socket.recovered).toBe(true);
    expect(await nodeOf(recovering)).toBe(survivor.nodeId);
    await recovering.until(3);

    // The plain client is a new session: not in the room until the app rejoins it.
    await plainBack;
    expect(plain!.socket.recovered).toBeFalsy();
    expect((await api(survivor.http, 'POST', `/api/server/rooms/${ROOM}/join`, { userIds: [plainUser] })).status).toBe(200);

    await publish(survivor, 4);
    await Promise.all([recovering.until(4), plain!.until(2)]);
    expect(recovering.updates).toEqual([1, 2, 3, 4]);
    expect(plain!.updates).toEqual([1, 4]);
  });
});
