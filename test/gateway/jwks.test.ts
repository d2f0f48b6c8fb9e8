/**
 * JWT_JWKS_URL on two running nodes: the provider rotates its key, tokens with the new key are
 * accepted without a restart, made-up `kid`s cost each node at most one refetch per interval, and
 * with the provider down the nodes keep accepting tokens signed with the keys they had.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NativeClient, sioConnect, sioConnected } from '../support/clients.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';
import { JwksServer, makeSigningKey, signWith, type SigningKey } from '../support/jwks-server.js';

const REFETCH_INTERVAL_MS = 1500;

async function metric(gw: GatewayProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${gw.http}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => wanted.every((w) => l.includes(w)))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** The verdict of the native dialect on a token: the user id, or the refusal reason from the close. */
async function verdict(gw: GatewayProcess, token: string): Promise<string> {
  const client = await NativeClient.connect(gw.ws, { token });
  const ready = client.frames.find((f) => f.event === 'session:ready');
  if (ready) {
    await client.close();
    return `ok:${(ready.data as { userId: string }).userId}`;
  }
  const closed = await client.closed;
  return closed.reason;
}

/** Resolves once `ms` have passed since `since` (a rate-limit window is time itself; there is no event to await). */
const windowPassed = (since: number, ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, since + ms - Date.now())));

describe('remote JWKS with rotation on two nodes', () => {
  const jwks = new JwksServer();
  let k1: SigningKey;
  let k2: SigningKey;
  let stranger: SigningKey;
  let a: GatewayProcess;
  let b: GatewayProcess;
  const nodes = (): Array<[string, GatewayProcess]> => [
    ['a', a],
    ['b', b],
  ];

  beforeAll(async () => {
    [k1, k2, stranger] = await Promise.all([makeSigningKey('RS256', 'k1'), makeSigningKey('ES256', 'k2'), makeSigningKey('RS256', 'not-published')]);
    jwks.keys = [k1];
    await jwks.start();
    const env = (node: string) => ({
      JWT_SECRET: '',
      JWT_JWKS_URL: jwks.url(node),
      JWT_ISSUER: 'https://idp.test/',
      JWT_AUDIENCE: 'livegate-app',
      JWT_JWKS_REFETCH_INTERVAL_MS: String(REFETCH_INTERVAL_MS),
      REDIS_URL: inject('redisUrl'),
    });
    [a, b] = await Promise.all([startGateway(env('a')), startGateway(env('b'))]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await jwks.stop();
  });

  const claims = (sub: string) => ({ sub, iss: 'https://idp.test/', aud: 'livegate-app' });

  it('fetches the key set once per node at start and accepts its tokens on both dialects', async () => {
    expect(jwks.hitsOf('a')).toBe(1);
    expect(jwks.hitsOf('b')).toBe(1);
    for (const [, gw] of nodes()) {
      expect(await verdict(gw, await signWith(k1, claims('alice')))).toBe('ok:alice');
      const socket = sioConnect(gw.http, { token: await signWith(k1, claims('alice')) });
      await sioConnected(socket);
      expect(await socket.emitWithAck('session:info', {})).toMatchObject({ userId: 'alice' });
      socket.close();
      expect(await metric(gw, 'livegate_jwks_keys')).toBe(1);
    }
    // Verifying tokens with a known kid fetched nothing.
    expect(jwks.hitsOf('a') + jwks.hitsOf('b')).toBe(2);
  });

  it('accepts tokens of a rotated-in key without a restart; made-up kids cost at most one refetch per interval', async () => {
    // Rotation: the provider publishes the new key beside the old one.
    jwks.keys = [k2, k1];
    await windowPassed(
      Math.max(
        ...a.logs
          .concat(b.logs)
          .filter((l) => l.msg === 'listening')
          .map((l) => Date.parse(l['time'] as string)),
      ),
      REFETCH_INTERVAL_MS,
    );
    for (const [node, gw] of nodes()) {
      const before = jwks.hitsOf(node);
      // At once: 5 tokens with the new key and 20 with kids nobody published.
      const tokens = [
        ...(await Promise.all(Array.from({ length: 5 }, (_, i) => signWith(k2, claims(`new-${i}`))))),
        ...(await Promise.all(Array.from({ length: 20 }, (_, i) => signWith(stranger, claims(`forger-${i}`), { kid: `made-up-${i}` })))),
      ];
      const verdicts = await Promise.all(tokens.map((t) => verdict(gw, t)));
      expect(verdicts.slice(0, 5)).toEqual(Array.from({ length: 5 }, (_, i) => `ok:new-${i}`));
      expect(new Set(verdicts.slice(5))).toEqual(new Set(['unauthorized: token key id (kid) is not in the key set']));
      expect(jwks.hitsOf(node) - before).toBe(1);
      // Within the interval, more made-up kids fetch nothing; the new key keeps working.
      const more = await Promise.all(Array.from({ length: 10 }, (_, i) => signWith(stranger, claims(`again-${i}`), { kid: `again-${i}` })));
      for (const t of more) expect(await verdict(gw, t)).toMatch(/kid/);
      expect(await verdict(gw, await signWith(k2, claims('carol')))).toBe('ok:carol');
      expect(jwks.hitsOf(node) - before).toBe(1);
      expect(await metric(gw, 'livegate_jwks_rotations_total')).toBe(1);
      expect(await metric(gw, 'livegate_jwks_fetches_total', { trigger: 'unknown_kid', outcome: 'ok' })).toBe(1);
      expect(await metric(gw, 'livegate_auth_failures_total', { reason: 'unknown_key' })).toBe(30);
      expect(await metric(gw, 'livegate_jwks_keys')).toBe(2);
    }
  });

  it('keeps accepting tokens signed with the keys it had while the JWKS server is down', async () => {
    await jwks.stop();
    const lastFetch = Date.now();
    await windowPassed(lastFetch, REFETCH_INTERVAL_MS);
    for (const [, gw] of nodes()) {
      // A made-up kid after the interval asks the provider again: that fetch fails, the last good set stays.
      expect(await verdict(gw, await signWith(stranger, claims('mallory'), { kid: 'made-up-while-down' }))).toMatch(/kid/);
      const warned = await gw.waitForLog((l) => l.msg === 'JWKS fetch failed; keeping the last good key set');
      expect(warned).toMatchObject({ keys: 2, trigger: 'unknown_kid' });
      expect(await metric(gw, 'livegate_jwks_stale')).toBe(1);
      expect(await metric(gw, 'livegate_jwks_fetches_total', { outcome: 'error' })).toBeGreaterThanOrEqual(1);
      expect(await verdict(gw, await signWith(k1, claims('old-key-user')))).toBe('ok:old-key-user');
      expect(await verdict(gw, await signWith(k2, claims('new-key-user')))).toBe('ok:new-key-user');
      expect(await verdict(gw, await signWith(stranger, claims('mallory'), { kid: 'k1' }))).toMatch(/signature/);
      const ready = (await (await fetch(`${gw.http}/readyz`)).json()) as { checks: Record<string, boolean> };
      expect(ready.checks['jwks']).toBe(true);
    }
  });
});

describe('background refresh as the response headers allow', () => {
  const jwks = new JwksServer();
  let gw: GatewayProcess;
  let k1: SigningKey;
  let k3: SigningKey;

  beforeAll(async () => {
    [k1, k3] = await Promise.all([makeSigningKey('RS256', 'k1'), makeSigningKey('RS256', 'k3')]);
    jwks.keys = [k1];
    jwks.headers = { 'cache-control': 'public, max-age=1' };
    await jwks.start();
    gw = await startGateway({ JWT_SECRET: '', JWT_JWKS_URL: jwks.url('solo'), JWT_JWKS_MIN_CACHE_SEC: '1', JWT_JWKS_REFETCH_INTERVAL_MS: '60000' });
  });
  afterAll(async () => {
    await gw?.stop();
    await jwks.stop();
  });

  it('revalidates with the ETag every max-age, and picks up a rotation before any token needs it', async () => {
    await jwks.nextRequest('solo', 304);
    expect(await metric(gw, 'livegate_jwks_fetches_total', { trigger: 'scheduled', outcome: 'not_modified' })).toBeGreaterThanOrEqual(1);
    jwks.keys = [k3];
    await jwks.nextRequest('solo', 200);
    await gw.waitForLog((l) => l.msg === 'JWKS key set rotated', 10_000);
    expect(await verdict(gw, await signWith(k3, { sub: 'rotated' }))).toBe('ok:rotated');
    // The old key is gone from the set: its tokens are refused, and no refetch was needed for either.
    expect(await verdict(gw, await signWith(k1, { sub: 'stale' }))).toMatch(/kid/);
    expect(await metric(gw, 'livegate_jwks_fetches_total', { trigger: 'unknown_kid' })).toBe(0);
  });
});
