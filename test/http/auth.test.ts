/** Standalone auth against a real gateway and FerretDB: register, login, rotate, reuse detection, logout, me. */
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { errorCode, http } from '../support/http.js';

interface Session {
  user: { id: string; email: string; username: string; role: string; source: string };
  tokens: { accessToken: string; refreshToken: string; tokenType: string; expiresAt: string; refreshExpiresAt: string };
}

describe('/api/auth', () => {
  const dbName = `auth_${process.pid}`;
  let gw: GatewayProcess;
  let mongo: MongoClient;
  const tag = Math.random().toString(36).slice(2, 8);
  const password = `correct horse ${tag}`;

  const register = (name: string, over: Record<string, unknown> = {}) =>
    http<Session>(gw, 'POST', '/api/auth/register', { body: { email: `${name}-${tag}@example.com`, username: `${name}_${tag}`, password, ...over } });

  beforeAll(async () => {
    gw = await startGateway({ MONGO_URL: inject('mongoUrl'), MONGO_DB: dbName });
    mongo = await new MongoClient(inject('mongoUrl')).connect();
  });
  afterAll(async () => {
    await gw.stop();
    await mongo.close();
  });

  it('registers, stores only a scrypt hash, and the issued token works on HTTP and on the socket', async () => {
    const res = await register('alice', { displayName: 'Alice' });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ email: `alice-${tag}@example.com`, username: `alice_${tag}`, role: 'user', source: 'local' });
    expect(res.body.tokens.tokenType).toBe('Bearer');

    const stored = await mongo
      .db(dbName)
      .collection('users')
      .findOne({ _id: res.body.user.id as never });
    expect(stored?.['passwordHash']).toMatch(/^scrypt\$32768\$8\$3\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(JSON.stringify(stored)).not.toContain(password);

    const me = await http<Session['user']>(gw, 'GET', '/api/auth/me', { token: res.body.tokens.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: res.body.user.id, displayName: 'Alice', source: 'local' });

    const socket = await NativeClient.connect(gw.ws, { token: res.body.tokens.accessToken });
    const info = await socket.request('session:info').catch((err: Error) => {
      throw new Error(`${err.message}; gateway log tail: ${JSON.stringify(gw.logs.filter((l) => l.msg !== 'http').slice(-5))}`);
    });
    expect(info.data).toMatchObject({ userId: res.body.user.id });
    await socket.close();
  });

  it('refuses a duplicate email or username with 409 and invalid input with 422', async () => {
    expect((await register('bob')).status).toBe(201);
    const dupEmail = await register('bob', { username: `other_${tag}` });
    expect([dupEmail.status, errorCode(dupEmail)]).toEqual([409, 'conflict']);
    const dupName = await register('bob', { email: `other-${tag}@example.com`, username: `BOB_${tag}` });
    expect([dupName.status, errorCode(dupName)]).toEqual([409, 'conflict']);
    for (const bad of [{ email: 'not-an-email' }, { password: 'short' }, { username: 'a b' }, { role: 'admin' }]) {
      const res = await register('carol', bad);
      expect([res.status, errorCode(res)], JSON.stringify(bad)).toEqual([422, 'validation_failed']);
    }
  });

  it('logs in by email or username; wrong password and unknown user get the same 401', async () => {
    await register('dave');
    const byEmail = await http<Session>(gw, 'POST', '/api/auth/login', { body: { email: `DAVE-${tag}@example.com`, password } });
    expect(byEmail.status).toBe(200);
    const byName = await http<Session>(gw, 'POST', '/api/auth/login', { body: { username: `dave_${tag}`, password } });
    expect(byName.body.user.id).toBe(byEmail.body.user.id);
    const wrong = await http(gw, 'POST', '/api/auth/login', { body: { username: `dave_${tag}`, password: 'wrong password' } });
    const unknown = await http(gw, 'POST', '/api/auth/login', { body: { username: `nobody_${tag}`, password } });
    expect([wrong.status, errorCode(wrong)]).toEqual([401, 'unauthorized']);
    expect(unknown.body).toEqual(wrong.body);
    const neither = await http(gw, 'POST', '/api/auth/login', { body: { password } });
    expect(neither.status).toBe(422);
  });

  it('rotates refresh tokens; reusing a used one revokes the whole family', async () => {
    const first = (await register('erin')).body.tokens;
    const second = await http<Session['tokens']>(gw, 'POST', '/api/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await http(gw, 'GET', '/api/auth/me', { token: second.body.accessToken })).status).toBe(200);

    const reuse = await http(gw, 'POST', '/api/auth/refresh', { body: { refreshToken: first.refreshToken } });
    expect([reuse.status, errorCode(reuse)]).toEqual([401, 'unauthorized']);
    const afterReuse = await http(gw, 'POST', '/api/auth/refresh', { body: { refreshToken: second.body.refreshToken } });
    expect(afterReuse.status).toBe(401);

    const forged = await http(gw, 'POST', '/api/auth/refresh', { body: { refreshToken: `${first.refreshToken.split('.')[0]}.guess` } });
    expect(forged.status).toBe(401);
    expect((await http(gw, 'POST', '/api/auth/refresh', { body: { refreshToken: 42 } })).status).toBe(422);
  });

  it("logs out its own login only: 401 without a token, 403 for another user's refresh token", async () => {
    const frank = (await register('frank')).body.tokens;
    const grace = (await register('grace')).body.tokens;
    expect((await http(gw, 'POST', '/api/auth/logout', { body: { refreshToken: frank.refreshToken } })).status).toBe(401);
    const stolen = await http(gw, 'POST', '/api/auth/logout', { token: grace.accessToken, body: { refreshToken: frank.refreshToken } });
    expect([stolen.status, errorCode(stolen)]).toEqual([403, 'forbidden']);
    expect((await http(gw, 'POST', '/api/auth/logout', { token: frank.accessToken, body: {} })).status).toBe(422);
    const out = await http(gw, 'POST', '/api/auth/logout', { token: frank.accessToken, body: { refreshToken: frank.refreshToken } });
    expect(out.body).toEqual({ revoked: true });
    expect((await http(gw, 'POST', '/api/auth/refresh', { body: { refreshToken: frank.refreshToken } })).status).toBe(401);
    expect((await http(gw, 'POST', '/api/auth/refresh', { body: { refreshToken: grace.refreshToken } })).status).toBe(200);
  });

  it('answers /me for a token of an external issuer, and 401 without a valid token', async () => {
    const external = await http(gw, 'GET', '/api/auth/me', { token: await makeToken({ sub: `ext-${tag}` }) });
    expect(external.body).toMatchObject({ id: `ext-${tag}`, source: 'external', email: null });
    expect((await http(gw, 'GET', '/api/auth/me')).status).toBe(401);
    expect((await http(gw, 'GET', '/api/auth/me', { token: 'garbage' })).status).toBe(401);
  });

  it('never logs passwords or tokens', () => {
    const text = JSON.stringify(gw.logs);
    expect(text).not.toContain(password);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});
