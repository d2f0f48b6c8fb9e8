/**
 * The HMAC path of the token verifier (node:crypto, no jose) must be indistinguishable from
 * jose's jwtVerify: same payload for a good token, same error class and claim for a bad one.
 * Each token below goes through both; tokens the fast path declines must be ones jose handles.
 */
import { createHmac, createSecretKey } from 'node:crypto';
import { CompactSign, exportSPKI, generateKeyPair, jwtVerify, errors as joseErrors, type CryptoKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AuthError, HmacSecret, createTokenVerifier, type ClaimOptions } from '../../src/gateway/auth.js';

const SECRET = 'unit-secret-0123456789abcdef0123456789';
const key = createSecretKey(Buffer.from(SECRET, 'utf8'));
const now = Math.floor(Date.now() / 1000);
const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function sign(header: unknown, payload: unknown, secret = SECRET, alg = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(alg, secret).update(input).digest('base64url')}`;
}

const good = { sub: 'u1', exp: now + 600 };
const hs256 = { alg: 'HS256', typ: 'JWT' };
const validOnly = sign(hs256, good);
const [h, p, sig] = validOnly.split('.') as [string, string, string];

const TOKENS: Record<string, string> = {
  'valid HS256': validOnly,
  'valid HS384': sign({ alg: 'HS384' }, good, SECRET, 'sha384'),
  'valid HS512': sign({ alg: 'HS512' }, good, SECRET, 'sha512'),
  'valid with iat, nbf and a role': sign(hs256, { ...good, iat: now - 5, nbf: now - 5, role: 'admin' }),
  'wrong secret': sign(hs256, good, 'another-secret-0123456789abcdef0123'),
  'HS384 header, HS256 signature': sign({ alg: 'HS384' }, good),
  'tampered payload': `${h}.${b64({ ...good, sub: 'mallory' })}.${sig}`,
  'signature one character longer': `${validOnly}A`,
  'signature truncated': validOnly.slice(0, -2),
  'signature one character shorter': validOnly.slice(0, -1),
  'empty signature': `${h}.${p}.`,
  expired: sign(hs256, { ...good, exp: now - 10 }),
  'exp is now': sign(hs256, { ...good, exp: now }),
  'exp is a string': sign(hs256, { ...good, exp: String(now + 600) }),
  'no exp': sign(hs256, { sub: 'u1' }),
  'no sub': sign(hs256, { exp: now + 600 }),
  'nbf in the future': sign(hs256, { ...good, nbf: now + 600 }),
  'nbf in the future within the clock tolerance': sign(hs256, { ...good, nbf: now + 10 }),
  'exp passed within the clock tolerance': sign(hs256, { ...good, exp: now - 10 }),
  'nbf is a string': sign(hs256, { ...good, nbf: 'soon' }),
  'iat is a string': sign(hs256, { ...good, iat: 'then' }),
  'payload is an array': sign(hs256, [1, 2]),
  'payload is not JSON': sign(hs256, 'not json'),
  'header alg none': `${b64({ alg: 'none' })}.${p}.`,
  'header alg RS256': sign({ alg: 'RS256' }, good),
  'header without alg': sign({ typ: 'JWT' }, good),
  'header with crit': sign({ alg: 'HS256', crit: ['exp'] }, good),
  'header with b64 false': sign({ alg: 'HS256', b64: false, crit: ['b64'] }, good),
  'header is an array': sign([1], good),
  'padded segment': `${h}==.${p}.${sig}`,
  'two segments': `${h}.${p}`,
  garbage: 'not-a-jwt',
};

const WITH_CLAIMS: Record<string, string> = {
  'right iss and aud': sign(hs256, { ...good, iss: 'lg', aud: 'app' }),
  'aud in an array': sign(hs256, { ...good, iss: 'lg', aud: ['x', 'app'] }),
  'aud array without ours': sign(hs256, { ...good, iss: 'lg', aud: ['x'] }),
  'wrong iss': sign(hs256, { ...good, iss: 'other', aud: 'app' }),
  'no iss': sign(hs256, { ...good, aud: 'app' }),
  'wrong aud': sign(hs256, { ...good, iss: 'lg', aud: 'other' }),
  'no aud': sign(hs256, { ...good, iss: 'lg' }),
  'no iss, no aud, no sub': sign(hs256, { exp: now + 600 }),
};

type Outcome = { ok: true; payload: unknown } | { ok: false; error: string; claim?: string } | { declined: true };

function describeError(err: unknown): Outcome {
  const claim = err instanceof joseErrors.JWTClaimValidationFailed || err instanceof joseErrors.JWTExpired ? err.claim : undefined;
  return { ok: false, error: err instanceof Error ? err.constructor.name : String(err), ...(claim ? { claim } : {}) };
}

async function viaJose(token: string, options: ClaimOptions): Promise<Outcome> {
  try {
    return { ok: true, payload: (await jwtVerify(token, key, options)).payload };
  } catch (err) {
    return describeError(err);
  }
}

function viaFastPath(token: string, options: ClaimOptions): Outcome {
  try {
    const payload = new HmacSecret(key).verify(token, options);
    return payload === undefined ? { declined: true } : { ok: true, payload };
  } catch (err) {
    return describeError(err);
  }
}

describe('HMAC token verification without jose', () => {
  const plain: ClaimOptions = { algorithms: ['HS256', 'HS384', 'HS512'], requiredClaims: ['exp', 'sub'], clockTolerance: 30 };
  for (const [name, token] of Object.entries(TOKENS)) {
    it(`${name}: same outcome as jose`, async () => {
      const fast = viaFastPath(token, plain);
      if ('declined' in fast) {
        // Declined tokens go to jose unchanged; make sure the common ones are not among them.
        expect(name).toMatch(/none|RS256|without alg|crit|b64|array|padded|segments|garbage|empty signature|truncated/);
        return;
      }
      expect(fast).toEqual(await viaJose(token, plain));
    });
  }

  const strict: ClaimOptions = { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'], clockTolerance: 0, issuer: 'lg', audience: 'app' };
  for (const [name, token] of Object.entries({ ...WITH_CLAIMS, 'valid HS384 (not allowed here)': TOKENS['valid HS384']! })) {
    it(`with issuer and audience required, ${name}: same outcome as jose`, async () => {
      const fast = viaFastPath(token, strict);
      expect(fast).not.toHaveProperty('declined');
      expect(fast).toEqual(await viaJose(token, strict));
    });
  }

  it('the verifier maps the outcomes to the documented refusal reasons', async () => {
    const verifier = await createTokenVerifier(loadConfig({ JWT_SECRET: SECRET, JWT_ISSUER: 'lg', JWT_AUDIENCE: 'app' }).jwt);
    const reason = (token: string): Promise<string> =>
      verifier.verify(token).then(
        () => 'ok',
        (err: unknown) => (err instanceof AuthError ? err.reason : 'thrown'),
      );
    expect(await verifier.verify(WITH_CLAIMS['right iss and aud']!)).toEqual({ userId: 'u1', role: 'user', expiresAt: good.exp });
    expect(await reason(WITH_CLAIMS['wrong iss']!)).toBe('wrong_issuer');
    expect(await reason(WITH_CLAIMS['no aud']!)).toBe('wrong_audience');
    expect(await reason(sign(hs256, { ...good, iss: 'lg', aud: 'app', exp: now - 31 }))).toBe('expired');
    expect(await reason(sign(hs256, { iss: 'lg', aud: 'app', exp: now + 60 }))).toBe('missing_claim');
    expect(await reason(sign(hs256, { ...good, iss: 'lg', aud: 'app' }, 'another-secret-0123456789abcdef0123'))).toBe('bad_signature');
    expect(await reason(TOKENS['valid HS384']!)).toBe('alg_not_allowed');
    expect(await reason(TOKENS['header alg none']!)).toBe('alg_not_allowed');
    expect(await reason(TOKENS['garbage']!)).toBe('malformed');
  });
});

describe('precise refusal reasons (both verification paths)', () => {
  const claims = { iss: 'lg', aud: 'app' };
  const env = { JWT_ISSUER: 'lg', JWT_AUDIENCE: 'app' };
  let es: { privateKey: CryptoKey; pem: string };
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    es = { privateKey: pair.privateKey, pem: await exportSPKI(pair.publicKey) };
  });
  // The HMAC fast path (HS256 with the secret) and jose (ES256 with a PEM key) must refuse alike.
  async function outcomes(payload: Record<string, unknown>): Promise<string[]> {
    const hs = await createTokenVerifier(loadConfig({ ...env, JWT_SECRET: SECRET }).jwt);
    const ec = await createTokenVerifier(loadConfig({ ...env, JWT_PUBLIC_KEY: es.pem, JWT_ALGORITHMS: 'ES256' }).jwt);
    const esToken = await new CompactSign(new TextEncoder().encode(JSON.stringify({ ...claims, ...payload })))
      .setProtectedHeader({ alg: 'ES256' })
      .sign(es.privateKey);
    const reason = (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'ok',
        (err: unknown) => (err instanceof AuthError ? err.reason : `thrown ${String(err)}`),
      );
    return [await reason(hs.verify(sign(hs256, { ...claims, ...payload }))), await reason(ec.verify(esToken))];
  }

  it.each([
    ['nbf an hour ahead', 'not_yet_valid', { ...good, nbf: now + 3600 }],
    ['nbf 10 s ahead (inside the 30 s tolerance)', 'ok', { ...good, nbf: now + 10 }],
    ['iat a year ahead', 'issued_in_future', { ...good, iat: now + 365 * 86_400 }],
    ['iat 60 s ahead', 'issued_in_future', { ...good, iat: now + 60 }],
    ['iat 10 s ahead (inside the tolerance)', 'ok', { ...good, iat: now + 10 }],
    ['a 10,000-character sub', 'claim_too_long', { ...good, sub: 'x'.repeat(10_000) }],
    ['a 129-character sub', 'claim_too_long', { ...good, sub: 'x'.repeat(129) }],
    ['a 128-character sub', 'ok', { ...good, sub: 'x'.repeat(128) }],
    ['an empty sub', 'missing_claim', { ...good, sub: '' }],
    ['a numeric sub', 'missing_claim', { ...good, sub: 42 }],
    ['nbf not a number', 'malformed', { ...good, nbf: 'soon' }],
  ] as const)('%s -> %s', async (_name, expected, payload) => {
    expect(await outcomes(payload)).toEqual([expected, expected]);
  });

  it('JWT_CLOCK_TOLERANCE_SEC=0 refuses an nbf and an iat two seconds ahead, and an exp just passed', async () => {
    const verifier = await createTokenVerifier(loadConfig({ JWT_SECRET: SECRET, JWT_CLOCK_TOLERANCE_SEC: '0' }).jwt);
    const reason = (payload: Record<string, unknown>): Promise<string> =>
      verifier.verify(sign(hs256, payload)).then(
        () => 'ok',
        (err: unknown) => (err instanceof AuthError ? err.reason : 'thrown'),
      );
    expect(await reason({ ...good, nbf: now + 2 })).toBe('not_yet_valid');
    expect(await reason({ ...good, iat: now + 2 })).toBe('issued_in_future');
    expect(await reason({ ...good, exp: now - 1 })).toBe('expired');
  });
});
