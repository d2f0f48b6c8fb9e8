/** The JWKS cache rules, key selection and the last-good-set behaviour, with an injected fetch; and the revocation list. */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadConfig, type JwksFetchConfig } from '../../src/config.js';
import { RemoteKeySets, cacheLifetimeSec, urlLabel } from '../../src/gateway/auth/jwks.js';
import { AuthMetrics } from '../../src/gateway/auth/metrics.js';
import { RevocationList, notBeforeOf } from '../../src/gateway/auth/revocations.js';
import { createTokenVerifier, AuthError } from '../../src/gateway/auth.js';
import { makeSigningKey, signWith } from '../support/jwks-server.js';

const bounds = { cacheSec: 600, minCacheSec: 60, maxCacheSec: 86_400 };
const h = (headers: Record<string, string>): Headers => new Headers(headers);
const NOW = Date.parse('2026-12-02T08:00:00Z');

describe('cacheLifetimeSec', () => {
  it.each([
    ['max-age', { 'cache-control': 'public, max-age=19809, must-revalidate, no-transform' }, 19_809],
    ['max-age less Age', { 'cache-control': 'max-age=3600', age: '600' }, 3000],
    ['max-age below the floor', { 'cache-control': 'max-age=5' }, 60],
    ['max-age above the ceiling', { 'cache-control': 'max-age=9999999' }, 86_400],
    ['no-cache', { 'cache-control': 'no-cache' }, 60],
    ['no-store beside max-age', { 'cache-control': 'no-store, max-age=3600' }, 60],
    ['Expires against Date', { expires: 'Wed, 02 Dec 2026 09:00:00 GMT', date: 'Wed, 02 Dec 2026 08:30:00 GMT' }, 1800],
    ['Expires against the clock', { expires: 'Wed, 02 Dec 2026 08:20:00 GMT' }, 1200],
    ['an invalid Expires ("0")', { expires: '0' }, 60],
    ['nothing', {}, 600],
    ['Cache-Control without max-age falls back to Expires', { 'cache-control': 'public', expires: 'Wed, 02 Dec 2026 08:10:00 GMT' }, 600],
  ] as const)('%s', (_name, headers, expected) => {
    expect(cacheLifetimeSec(h(headers), bounds, NOW)).toBe(expected);
  });

  it('labels a URL by origin and path only', () => {
    expect(urlLabel('https://user:pw@idp.example/keys.json?tenant=1')).toBe('https://idp.example/keys.json');
  });
});

const fetchConfig: JwksFetchConfig = { cacheSec: 600, minCacheSec: 60, maxCacheSec: 86_400, refetchIntervalMs: 30_000, timeoutMs: 1000 };

/** A scripted provider: `answer` decides each response; `calls` counts them. */
function provider() {
  const state = { calls: 0, answer: (): Response => new Response('{}', { status: 500 }) };
  const fetchImpl = (async () => {
    state.calls++;
    return state.answer();
  }) as unknown as typeof fetch;
  return { state, fetchImpl };
}

describe('RemoteKeySets', () => {
  async function setup(now: { t: number }) {
    const { state, fetchImpl } = provider();
    const registry = new Registry();
    const sets = new RemoteKeySets(['https://idp.example/jwks'], {
      config: fetchConfig,
      metrics: new AuthMetrics(registry),
      log: pino({ level: 'silent' }),
      fetch: fetchImpl,
      now: () => now.t,
    });
    const config = loadConfig({ JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ALGORITHMS: 'RS256,ES256' }).jwt;
    const verifier = await createTokenVerifier(config, { keySets: [sets.getKey] });
    const reason = (token: string): Promise<string> =>
      verifier.verify(token).then(
        (p) => `ok:${p.userId}`,
        (e: unknown) => (e instanceof AuthError ? e.reason : `thrown ${String(e)}`),
      );
    return { state, sets, reason, registry };
  }
  const json = (body: unknown): Response => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });

  it('a provider down at start: no key set (not loaded), tokens refused, then one fetch per interval finds the keys', async () => {
    const now = { t: NOW };
    const { state, sets, reason } = await setup(now);
    const key = await makeSigningKey('RS256', 'a');
    await sets.start();
    expect(sets.loaded).toBe(false);
    expect(await reason(await signWith(key, { sub: 'u' }))).toBe('unknown_key');
    expect(state.calls).toBe(1);
    state.answer = () => json({ keys: [key.jwk] });
    now.t += 30_000;
    expect(await reason(await signWith(key, { sub: 'u' }))).toBe('ok:u');
    expect(state.calls).toBe(2);
    expect(sets.loaded).toBe(true);
    sets.stop();
  });

  it('keeps the last good set on an error page, an empty set or an HTTP 503', async () => {
    const now = { t: NOW };
    const { state, sets, reason, registry } = await setup(now);
    const key = await makeSigningKey('ES256', 'e1');
    state.answer = () => json({ keys: [key.jwk] });
    await sets.start();
    for (const bad of [() => new Response('<html>oops</html>', { status: 200 }), () => json({ keys: [] }), () => new Response('', { status: 503 })]) {
      state.answer = bad;
      now.t += 30_000;
      expect(await reason(await signWith(key, { sub: 'x' }, { kid: 'unknown' }))).toBe('unknown_key');
      expect(await reason(await signWith(key, { sub: 'still' }))).toBe('ok:still');
    }
    expect(state.calls).toBe(4);
    expect(await registry.getSingleMetricAsString('livegate_jwks_stale')).toMatch(/ 1$/m);
    sets.stop();
  });

  it('honours use, alg and key_ops of the published keys, and tries every fitting key for a token without kid', async () => {
    const now = { t: NOW };
    const { state, sets, reason } = await setup(now);
    const [sig, enc, es, noVerify, second] = await Promise.all([
      makeSigningKey('RS256', 'sig'),
      makeSigningKey('RS256', 'enc'),
      makeSigningKey('ES256', 'es'),
      makeSigningKey('RS256', 'ops'),
      makeSigningKey('RS256', 'second'),
    ]);
    state.answer = () =>
      json({
        keys: [
          sig.jwk,
          { ...enc.jwk, use: 'enc' },
          // An RS256 token naming this ES256 key's kid must not be checked with it.
          es.jwk,
          { ...noVerify.jwk, key_ops: ['encrypt'] },
          second.jwk,
        ],
      });
    await sets.start();
    expect(await reason(await signWith(sig, { sub: 'a' }))).toBe('ok:a');
    expect(await reason(await signWith(enc, { sub: 'b' }))).toBe('unknown_key');
    expect(await reason(await signWith(sig, { sub: 'c' }, { kid: 'es' }))).toBe('unknown_key');
    expect(await reason(await signWith(noVerify, { sub: 'd' }))).toBe('unknown_key');
    // Without kid: both RS256 signing keys fit; the second one's token verifies.
    expect(await reason(await signWith(second, { sub: 'e' }, { kid: null }))).toBe('ok:e');
    sets.stop();
  });
});

describe('RevocationList', () => {
  it('refuses older tokens (and tokens without iat) until it lapses, and merges to the later values', () => {
    const now = { t: NOW };
    const list = new RevocationList(() => now.t);
    const notBefore = notBeforeOf(NOW + 300);
    expect(notBefore).toBe(NOW / 1000 + 1);
    list.apply({ userId: 'u', notBefore, until: NOW + 60_000 });
    expect(list.refuses('u', NOW / 1000)).toBe(true);
    expect(list.refuses('u', undefined)).toBe(true);
    expect(list.refuses('u', NOW / 1000 + 1)).toBe(false);
    expect(list.refuses('other', NOW / 1000)).toBe(false);
    list.apply({ userId: 'u', notBefore: notBefore - 100, until: NOW + 120_000 });
    expect(list.get('u')).toEqual({ userId: 'u', notBefore, until: NOW + 120_000 });
    now.t += 120_000;
    expect(list.refuses('u', NOW / 1000)).toBe(false);
    expect(list.size).toBe(0);
  });
});
