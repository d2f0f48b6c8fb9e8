/**
 * A connection lives as long as its token: `session:expiring` before `exp`, `session:refresh`
 * in place (rooms kept), a close with 4104 at `exp` + grace for one that did not refresh
 * (Socket.IO: `41` first); and revocation through the server API on two nodes.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { API_KEY, api } from '../bridge/helpers.js';
import { NativeClient, sioConnect, sioConnected } from '../support/clients.js';
import { TEST_SECRET, makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

const LEAD_MS = 2000;
const GRACE_MS = 1000;

/** An HS256 token for `sub` expiring at `exp` (seconds), issued at `iat`. */
function token(sub: string, exp: number, iat = Math.floor(Date.now() / 1000)): Promise<string> {
  return new SignJWT({ iat, exp }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).sign(new TextEncoder().encode(TEST_SECRET));
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

describe('token lifetime on a live socket', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({
      SESSION_EXPIRING_LEAD_MS: String(LEAD_MS),
      SESSION_EXPIRY_GRACE_MS: String(GRACE_MS),
      SERVICE_API_KEYS: API_KEY,
      JWT_CLOCK_TOLERANCE_SEC: '0',
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('a socket that refreshes keeps its rooms past the old exp; one that does not is told, then closed at exp + grace', async () => {
    const exp = nowSec() + 3;
    const refresher = await NativeClient.connect(gw.ws, { token: await token('refresher', exp) });
    const sleeper = await NativeClient.connect(gw.ws, { token: await token('sleeper', exp) });
    const joined = await api(gw.http, 'POST', '/api/server/rooms/team:blue/join', { userIds: ['refresher', 'sleeper'] });
    expect(joined.body).toMatchObject({ connections: 2, complete: true });

    const [toldRefresher, toldSleeper] = await Promise.all([refresher.waitForEvent('session:expiring'), sleeper.waitForEvent('session:expiring')]);
    const expected = { expiresAt: new Date(exp * 1000).toISOString(), closesAt: new Date(exp * 1000 + GRACE_MS).toISOString() };
    expect(toldRefresher.data).toEqual(expected);
    expect(toldSleeper.data).toEqual(expected);
    // Told no earlier than the lead before exp.
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - LEAD_MS);

    // Refused refreshes leave the connection as it was.
    expect((await refresher.request('session:refresh', { token: await token('someone-else', nowSec() + 600) })).error?.code).toBe('forbidden');
    expect((await refresher.request('session:refresh', { token: await token('refresher', exp) })).error?.code).toBe('conflict');
    expect((await refresher.request('session:refresh', { token: 'garbage' })).error).toMatchObject({
      code: 'unauthorized',
      message: 'token refused: malformed',
    });
    expect((await refresher.request('session:refresh', { token: await token('refresher', nowSec() - 5) })).error).toMatchObject({
      code: 'unauthorized',
      message: 'token refused: expired',
    });

    const later = nowSec() + 600;
    const refreshed = await refresher.request('session:refresh', { token: await token('refresher', later) });
    expect(refreshed.data).toEqual({ userId: 'refresher', expiresAt: new Date(later * 1000).toISOString() });

    const sleeperClosed = await sleeper.closed;
    const closedAt = Date.now();
    expect(sleeperClosed).toEqual({ code: 4104, reason: 'Token expired and was not refreshed in time; reconnect with a fresh token.' });
    expect(closedAt).toBeGreaterThanOrEqual(exp * 1000 + GRACE_MS);
    // The sweeper runs every second: the close comes within about a second of exp + grace.
    expect(closedAt).toBeLessThan(exp * 1000 + GRACE_MS + 2500);

    // Past the old exp + grace the refreshed socket is still up, in its room, as the same user.
    const published = await api(gw.http, 'POST', '/api/server/publish/room', { room: 'team:blue', event: 'team:note', data: { n: 1 } });
    expect(published.status).toBe(200);
    expect((await refresher.waitForEvent('team:note')).data).toEqual({ n: 1 });
    expect((await refresher.request('session:info')).data).toMatchObject({ userId: 'refresher' });
    expect(refresher.frames.filter((f) => f.event === 'session:expiring')).toHaveLength(1);
    await refresher.close();

    const metrics = await (await fetch(`${gw.http}/metrics`)).text();
    expect(metrics).toMatch(/livegate_session_refreshes_total\{outcome="ok"[^}]*\} 1/);
    expect(metrics).toMatch(/livegate_session_expired_total\{[^}]*\} 1/);
  });

  it('socket.io: session:expiring, then DISCONNECT (41) before the 4104 close', async () => {
    const exp = nowSec() + 2;
    const socket = sioConnect(gw.http, { token: await token('sio-sleeper', exp) });
    const told = new Promise<unknown>((resolve) => socket.once('session:expiring', resolve));
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', (reason: string) => resolve(reason)));
    await sioConnected(socket);
    expect(await told).toEqual({ expiresAt: new Date(exp * 1000).toISOString(), closesAt: new Date(exp * 1000 + GRACE_MS).toISOString() });
    // "io server disconnect" is what socket.io-client reports for a DISCONNECT packet (a bare close is "transport close").
    expect(await disconnected).toBe('io server disconnect');
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 + GRACE_MS);
  });

  it('socket.io: session:refresh over an ack keeps the connection', async () => {
    const socket = sioConnect(gw.http, { token: await token('sio-refresher', nowSec() + 2) });
    await sioConnected(socket);
    const later = nowSec() + 600;
    expect(await socket.emitWithAck('session:refresh', { token: await token('sio-refresher', later) })).toEqual({
      userId: 'sio-refresher',
      expiresAt: new Date(later * 1000).toISOString(),
    });
    expect(await socket.emitWithAck('session:refresh', { token: '' })).toMatchObject({ error: { code: 'validation_failed' } });
    socket.close();
  });
});

describe('revocation on a single node (no Redis: kept in process memory)', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ SERVICE_API_KEYS: API_KEY });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('closes older sessions with 4105, keeps newer ones, and refuses the older token', async () => {
    const user = `solo-${Date.now()}`;
    const before = nowSec();
    const older = await NativeClient.connect(gw.ws, { token: await token(user, before + 600, before - 60) });
    const newer = await NativeClient.connect(gw.ws, { token: await token(user, before + 600, before + 5) });
    // Tokens issued before a moment one second from now are revoked: the newer session (iat + 5 s) stays.
    const revoked = await api(gw.http, 'POST', `/api/server/users/${user}/revoke`, { issuedBefore: new Date((before + 1) * 1000).toISOString() });
    expect(revoked.body).toMatchObject({ userId: user, closed: 1, nodes: 1, issuedBefore: new Date((before + 1) * 1000).toISOString() });
    expect((await older.closed).code).toBe(4105);
    expect((await newer.request('session:info')).data).toMatchObject({ userId: user });
    const again = await NativeClient.connect(gw.ws, { token: await token(user, before + 600, before - 60) });
    expect((await again.closed).reason).toMatch(/revoked/);
    await newer.close();
  });
});

describe('revocation on two nodes', () => {
  let a: GatewayProcess;
  let b: GatewayProcess;
  const env = () => ({ REDIS_URL: inject('redisUrl'), SERVICE_API_KEYS: API_KEY, MONGO_DB: 'livegate_sessions_test' });
  beforeAll(async () => {
    [a, b] = await Promise.all([startGateway(env()), startGateway(env())]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("closes the user's sessions on both nodes and refuses their older tokens on every node, a node started later included", async () => {
    const user = `revoked-${Date.now()}`;
    const old = await makeToken({ sub: user });
    const onA = await NativeClient.connect(a.ws, { token: old });
    const onB = sioConnect(b.http, { token: old });
    await sioConnected(onB);
    const bDisconnected = new Promise<string>((resolve) => onB.once('disconnect', (reason: string) => resolve(reason)));
    const bystander = await NativeClient.connect(b.ws, { token: await makeToken({ sub: `bystander-${Date.now()}` }) });

    const revoked = await api(a.http, 'POST', `/api/server/users/${user}/revoke`, {});
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ userId: user, closed: 1 });
    // Every node on this Redis took the revocation: these two, and any other suite's node sharing it.
    const body = revoked.body as { issuedBefore: string; expiresAt: string; nodes: number };
    expect(body.nodes).toBeGreaterThanOrEqual(2);
    expect(Date.parse(body.expiresAt) - Date.parse(body.issuedBefore)).toBe(86_400_000);

    expect(await onA.closed).toEqual({ code: 4105, reason: 'Sessions revoked by the backend; sign in again for a new token.' });
    expect(await bDisconnected).toBe('io server disconnect');
    expect((await bystander.request('session:info')).data).toMatchObject({ nodeId: b.nodeId });

    for (const gw of [a, b]) {
      const again = await NativeClient.connect(gw.ws, { token: old });
      expect(await again.closed).toEqual({ code: 4101, reason: "unauthorized: token was revoked (issued before the user's sessions were revoked)" });
      const http = await fetch(`${gw.http}/api/auth/me`, { headers: { authorization: `Bearer ${old}` } });
      expect(http.status).toBe(401);
    }
    // A token issued after the revocation (its iat is in the next second) is accepted.
    const fresh = await token(user, nowSec() + 600, Math.ceil(Date.parse(body.issuedBefore) / 1000));
    const back = await NativeClient.connect(b.ws, { token: fresh });
    expect((await back.request('session:info')).data).toMatchObject({ userId: user });
    // ... and a refresh to a revoked token is refused like a connect.
    const older = await token(user, nowSec() + 7200, Math.ceil(Date.parse(body.issuedBefore) / 1000) - 1);
    expect((await back.request('session:refresh', { token: older })).error).toEqual({ code: 'unauthorized', message: 'token refused: revoked' });
    await back.close();
    await bystander.close();

    // A node that starts afterwards loads the revocation from Redis.
    const c = await startGateway(env());
    try {
      const late = await NativeClient.connect(c.ws, { token: old });
      expect((await late.closed).code).toBe(4101);
      expect(await (await fetch(`${c.http}/metrics`)).text()).toMatch(/livegate_revocations_total\{origin="store"[^}]*\} [1-9]/);
    } finally {
      await c.stop();
    }
    const metricsA = await (await fetch(`${a.http}/metrics`)).text();
    expect(metricsA).toMatch(/livegate_revoked_sessions_closed_total\{[^}]*\} 1/);
    expect(metricsA).toMatch(/livegate_auth_failures_total\{reason="revoked"[^}]*\} [1-9]/);
  });

  it('refuses a revocation in the future and needs a service credential', async () => {
    const future = await api(a.http, 'POST', '/api/server/users/someone/revoke', { issuedBefore: new Date(Date.now() + 3_600_000).toISOString() });
    expect(future.status).toBe(422);
    const asUser = await api(a.http, 'POST', '/api/server/users/someone/revoke', {}, { authorization: `Bearer ${await makeToken({ sub: 'someone' })}` });
    expect(asUser.status).toBe(403);
  });
});
