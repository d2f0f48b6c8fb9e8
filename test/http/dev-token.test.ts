import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DevTokenSigner } from '../../src/handlers/dev/service.js';
import { sioConnect, sioConnected } from '../support/clients.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';
import { errorCode, http } from '../support/http.js';

/** POST /api/dev/token: demo sign-in, refused unless DEV_TOKENS=true. */
describe('development token endpoint', () => {
  let on: GatewayProcess;
  let off: GatewayProcess;

  beforeAll(async () => {
    [on, off] = await Promise.all([
      startGateway({ DEV_TOKENS: 'true', JWT_ISSUER: 'livegate-dev' }),
      startGateway({ JWT_ISSUER: 'livegate-dev', MONGO_URL: inject('mongoUrl'), MONGO_DB: `devtoken_${process.pid}` }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([on?.stop(), off?.stop()]);
  });

  it('is refused with 403 forbidden when DEV_TOKENS is off (the default), and documented in OpenAPI', async () => {
    const res = await http(off, 'POST', '/api/dev/token', { body: { userId: 'alice' } });
    expect(res.status).toBe(403);
    expect(errorCode(res)).toBe('forbidden');
    const doc = (
      await http<{ paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>> }>(off, 'GET', '/openapi.json')
    ).body;
    const op = doc.paths['/api/dev/token']?.['post'];
    expect(op?.operationId).toBe('issueDevToken');
    expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['201', '403', '422']));
  });

  it('signs a token the gateway accepts on sockets and HTTP when DEV_TOKENS=true', async () => {
    const res = await http<{ token: string; tokenType: string; userId: string; name: string; expiresAt: string }>(on, 'POST', '/api/dev/token', {
      body: { userId: 'demo-alice', name: 'Alice' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', userId: 'demo-alice', name: 'Alice' });
    const claims = decodeJwt(res.body.token);
    expect(claims).toMatchObject({ sub: 'demo-alice', name: 'Alice', role: 'user', iss: 'livegate-dev' });
    expect(new Date(res.body.expiresAt).getTime()).toBe((claims.exp ?? 0) * 1000);
    expect(res.body.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const socket = sioConnect(on.http, { token: res.body.token });
    try {
      await sioConnected(socket);
      expect(await socket.emitWithAck('session:info', {})).toMatchObject({ userId: 'demo-alice' });
    } finally {
      socket.close();
    }
    // The other node shares the secret: the token is an ordinary user token there too.
    const me = await http<{ id: string; source: string }>(off, 'GET', '/api/auth/me', { token: res.body.token });
    expect(me.body).toMatchObject({ id: 'demo-alice', source: 'external' });
    expect(on.logs.some((l) => l.msg === 'development token issued' && l['userId'] === 'demo-alice')).toBe(true);
  });

  it('defaults the name to the user id and rejects bad user ids and unknown fields with 422', async () => {
    const plain = await http<{ name: string }>(on, 'POST', '/api/dev/token', { body: { userId: 'bob' } });
    expect(plain.status).toBe(201);
    expect(plain.body.name).toBe('bob');
    for (const body of [{}, { userId: '' }, { userId: 'has space' }, { userId: 'x'.repeat(65) }, { userId: 'ok', role: 'admin' }, { userId: 'ok', name: '' }]) {
      const res = await http(on, 'POST', '/api/dev/token', { body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(errorCode(res)).toBe('validation_failed');
    }
  });

  it('answers unavailable when the gateway verifies with a public key only (nothing to sign with)', async () => {
    const signer = new DevTokenSigner({
      secret: undefined,
      publicKey: '-----BEGIN PUBLIC KEY-----',
      jwksFile: undefined,
      algorithms: ['RS256'],
      issuer: undefined,
      audience: undefined,
    });
    await expect(signer.sign('alice', 'Alice')).rejects.toMatchObject({ code: 'unavailable' });
  });
});
