/**
 * The provider configurations of docs/AUTH.md, as written there: each `env` block is loaded with
 * loadConfig, its JWKS URL is served (same path) by a local node:http server, and the documented
 * token shape (`json` block) is signed with the provider's algorithm and verified.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { RemoteKeySets } from '../../src/gateway/auth/jwks.js';
import { AuthMetrics } from '../../src/gateway/auth/metrics.js';
import { AuthError, createTokenVerifier } from '../../src/gateway/auth.js';
import { JwksServer, makeSigningKey, signWith, type SigningKey } from '../support/jwks-server.js';
import { ROOT } from '../support/services.js';

const doc = readFileSync(join(ROOT, 'docs', 'AUTH.md'), 'utf8');
const blocks = (lang: string): Map<string, string> =>
  new Map([...doc.matchAll(new RegExp('```' + lang + ' (\\w+)\\n([\\s\\S]*?)```', 'g'))].map((m) => [m[1]!, m[2]!]));
const envs = blocks('env');
const shapes = blocks('json');

/** What livegate should make of each documented token. */
const EXPECTED: Record<string, { alg: string; userId: string; role: string }> = {
  firebase: { alg: 'RS256', userId: 'kXq3ZsR7aTbQm2nV9cYw1eLp8Hf2', role: 'admin' },
  auth0: { alg: 'RS256', userId: 'u-1001', role: 'admin' },
  cognito: { alg: 'RS256', userId: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0', role: 'admin' },
  supabase: { alg: 'ES256', userId: '7d3f1c2a-9b8e-4d6c-a5f4-3e2d1c0b9a87', role: 'admin' },
  oidc: { alg: 'RS256', userId: 'f47ac10b-58cc-4372-a567-0e02b2c3d479', role: 'admin' },
};

const parseEnv = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

const reasonOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (err: unknown) => (err instanceof AuthError ? err.reason : `thrown ${String(err)}`),
  );

describe('documented provider configurations (docs/AUTH.md)', () => {
  it('documents exactly the providers checked here', () => {
    expect([...envs.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
    expect([...shapes.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [provider, expected] of Object.entries(EXPECTED)) {
    describe(provider, () => {
      const documented = parseEnv(envs.get(provider) ?? '');
      const server = new JwksServer(new URL(documented['JWT_JWKS_URL'] ?? 'http://x/').pathname);
      let key: SigningKey;
      let other: SigningKey;
      let sets: RemoteKeySets;
      let verify: (token: string) => Promise<unknown>;

      beforeAll(async () => {
        [key, other] = await Promise.all([makeSigningKey(expected.alg), makeSigningKey(expected.alg)]);
        server.keys = [key];
        await server.start();
        const config = loadConfig({ ...documented, JWT_JWKS_URL: server.url() }).jwt;
        sets = new RemoteKeySets(config.jwksUrls, { config: config.jwks, metrics: new AuthMetrics(new Registry()), log: pino({ level: 'silent' }) });
        await sets.start();
        const verifier = await createTokenVerifier(config, { keySets: [sets.getKey] });
        verify = (token) => verifier.verify(token);
      });
      afterAll(async () => {
        sets?.stop();
        await server.stop();
      });

      it(`derives user ${expected.userId} with role ${expected.role} from the documented token`, async () => {
        const shape = JSON.parse(shapes.get(provider)!) as Record<string, unknown>;
        expect(await verify(await signWith(key, shape))).toMatchObject({ userId: expected.userId, role: expected.role });
        expect(server.hitsOf()).toBe(1);
      });

      it('refuses the same shape for another audience, from another issuer, or signed by an unpublished key', async () => {
        const shape = JSON.parse(shapes.get(provider)!) as Record<string, unknown>;
        expect(await reasonOf(verify(await signWith(key, { ...shape, aud: 'someone-else' })))).toBe('wrong_audience');
        expect(await reasonOf(verify(await signWith(key, { ...shape, iss: 'https://evil.example/' })))).toBe('wrong_issuer');
        expect(await reasonOf(verify(await signWith(other, shape, { kid: key.kid })))).toBe('bad_signature');
      });

      it('takes the role from the documented claim only: without it the user is a plain user', async () => {
        const shape = JSON.parse(shapes.get(provider)!) as Record<string, unknown>;
        const roleClaim = documented['JWT_ROLE_CLAIM'] ?? 'role';
        const stripped = structuredClone(shape);
        const path = Object.hasOwn(stripped, roleClaim) ? [roleClaim] : roleClaim.split('.');
        let holder: Record<string, unknown> = stripped;
        for (const part of path.slice(0, -1)) holder = holder[part] as Record<string, unknown>;
        delete holder[path.at(-1)!];
        expect(await verify(await signWith(key, stripped))).toMatchObject({ userId: expected.userId, role: 'user' });
      });
    });
  }
});
