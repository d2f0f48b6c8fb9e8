import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient, sioConnect, sioConnected } from '../support/clients.js';
import { TEST_SECRET, makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

function unsecuredToken(sub: string): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
}

async function metricValue(gw: GatewayProcess, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${gw.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('token refusals (HS256, issuer and audience required)', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ JWT_ISSUER: 'livegate-tests', JWT_AUDIENCE: 'livegate' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  const good = { issuer: 'livegate-tests', audience: 'livegate' };
  const cases: Array<{ name: string; reason: string; token: () => Promise<string | undefined> }> = [
    { name: 'missing token', reason: 'missing', token: async () => undefined },
    { name: 'expired token', reason: 'expired', token: () => makeToken({ ...good, expiresIn: Math.floor(Date.now() / 1000) - 60 }) },
    { name: 'bad signature', reason: 'bad_signature', token: () => makeToken({ ...good, secret: 'another-secret-0123456789abcdef0123' }) },
    { name: 'alg none', reason: 'alg_not_allowed', token: async () => unsecuredToken('mallory') },
    { name: 'wrong issuer', reason: 'wrong_issuer', token: () => makeToken({ issuer: 'someone-else', audience: 'livegate' }) },
    { name: 'wrong audience', reason: 'wrong_audience', token: () => makeToken({ issuer: 'livegate-tests', audience: 'other-app' }) },
    { name: 'no sub claim', reason: 'missing_claim', token: () => makeToken({ ...good, sub: '' }) },
    { name: 'garbage', reason: 'malformed', token: async () => 'not-a-jwt' },
    { name: 'nbf an hour ahead', reason: 'not_yet_valid', token: () => makeToken({ ...good, claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }) },
    {
      name: 'iat a year ahead',
      reason: 'issued_in_future',
      token: () =>
        new SignJWT({ iat: Math.floor(Date.now() / 1000) + 365 * 86_400 })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('time-traveller')
          .setIssuer(good.issuer)
          .setAudience(good.audience)
          .setExpirationTime('2y')
          .sign(new TextEncoder().encode(TEST_SECRET)),
    },
    // 2,000 characters: a 10,000-character sub does not fit in an upgrade URL (see the Socket.IO case below).
    { name: 'a 2,000-character sub', reason: 'claim_too_long', token: () => makeToken({ ...good, sub: 'x'.repeat(2000) }) },
  ];

  it('socket.io: a 10,000-character sub -> CONNECT_ERROR with reason claim_too_long', async () => {
    const socket = sioConnect(gw.http, { token: await makeToken({ ...good, sub: 'x'.repeat(10_000) }) });
    const err = (await sioConnected(socket).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { data?: { reason: string } };
    socket.close();
    expect(err?.data?.reason).toBe('claim_too_long');
  });

  for (const c of cases) {
    it(`native: ${c.name} -> error frame and close 4101`, async () => {
      const before = await metricValue(gw, 'livegate_auth_failures_total', `reason="${c.reason}"`);
      const token = await c.token();
      const client = await NativeClient.connect(gw.ws, token ? { token } : {});
      const closed = await client.closed;
      expect(closed.code).toBe(4101);
      expect(closed.reason).toMatch(/^unauthorized: /);
      expect(client.frames[0]?.error?.code).toBe('unauthorized');
      expect(await metricValue(gw, 'livegate_auth_failures_total', `reason="${c.reason}"`)).toBe(before + 1);
    });

    it(`socket.io: ${c.name} -> CONNECT_ERROR with reason ${c.reason}`, async () => {
      const token = await c.token();
      const socket = sioConnect(gw.http, token ? { token } : {});
      const err = (await sioConnected(socket).then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { data?: { reason: string } };
      socket.close();
      expect(err?.data?.reason).toBe(c.reason);
    });
  }

  it('accepts a good token with the right issuer and audience, and an admin role', async () => {
    const client = await NativeClient.connect(gw.ws, { token: await makeToken({ ...good, sub: 'root', role: 'admin' }) });
    const reply = await client.request('session:info');
    expect(reply.data).toMatchObject({ userId: 'root' });
    await client.close();
  });

  it('never writes a token into its logs', async () => {
    const token = await makeToken({ ...good, sub: 'secretive' });
    const client = await NativeClient.connect(gw.ws, { token });
    await client.request('session:info');
    await client.close();
    await gw.waitForLog((l) => l.msg === 'connection closed' && l['user'] === 'secretive');
    expect(JSON.stringify(gw.logs)).not.toContain(token);
  });
});

describe('asymmetric keys', () => {
  let dir: string;
  let rsPrivate: CryptoKey;
  let esPrivate: CryptoKey;
  const gateways: GatewayProcess[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'livegate-keys-'));
    const rs = await generateKeyPair('RS256', { extractable: true });
    const es = await generateKeyPair('ES256', { extractable: true });
    rsPrivate = rs.privateKey;
    esPrivate = es.privateKey;
    writeFileSync(join(dir, 'rs.pem'), await exportSPKI(rs.publicKey));
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' }] }));
  });
  afterAll(async () => {
    for (const g of gateways) await g.stop();
  });

  it('verifies RS256 tokens with JWT_PUBLIC_KEY and refuses HS256 tokens signed with the public key text', async () => {
    const { readFileSync } = await import('node:fs');
    const pem = readFileSync(join(dir, 'rs.pem'), 'utf8');
    const gw = await startGateway({ JWT_SECRET: '', JWT_PUBLIC_KEY: pem });
    gateways.push(gw);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('rs-user').setExpirationTime('5m').sign(rsPrivate);
    const client = await NativeClient.connect(gw.ws, { token });
    expect((await client.request('session:info')).data).toMatchObject({ userId: 'rs-user' });
    await client.close();
    // Algorithm confusion: an HS256 token keyed with the public key must not pass.
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(pem));
    const refused = await NativeClient.connect(gw.ws, { token: confused });
    expect((await refused.closed).code).toBe(4101);
  });

  it('verifies ES256 tokens from a JWKS file', async () => {
    const gw = await startGateway({ JWT_SECRET: '', JWT_JWKS_FILE: join(dir, 'jwks.json') });
    gateways.push(gw);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'es-1' }).setSubject('es-user').setExpirationTime('5m').sign(esPrivate);
    const socket = sioConnect(gw.http, { token });
    await sioConnected(socket);
    expect(await socket.emitWithAck('session:info', {})).toMatchObject({ userId: 'es-user' });
    socket.close();
  });
});
