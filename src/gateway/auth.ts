/**
 * Token verification. A token's `sub` is the user id, `role: "admin"` marks administrators
 * (`role: "service"` marks backend credentials), `exp` is required.
 *
 * HS256/384/512 with JWT_SECRET are checked with node:crypto (HMAC over a KeyObject made once,
 * constant-time compare) and the same claim rules as jose; jose handles everything else
 * (RS/ES/PS/EdDSA keys, JWKS, and any unusual HMAC token: `crit`, `b64`, padded or
 * whitespace-laden base64). jose verifies HMAC through WebCrypto, which imports the key again
 * on every call: a third of the CPU a connection costs, and most of its garbage.
 */
import { readFileSync } from 'node:fs';
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, importSPKI, jwtVerify, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey, type CryptoKey } from 'jose';
import type { Principal } from '../kernel/session.js';
import type { JwtConfig } from '../config.js';

export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'bad_signature'
  | 'alg_not_allowed'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim';

const REASON_TEXT: Record<AuthFailureReason, string> = {
  missing: 'no token given',
  malformed: 'token is not a valid JWT',
  expired: 'token expired',
  bad_signature: 'token signature is invalid',
  alg_not_allowed: 'token algorithm is not allowed',
  wrong_issuer: 'token issuer is not accepted',
  wrong_audience: 'token audience is not accepted',
  missing_claim: 'token lacks a required claim (sub, exp)',
};

export class AuthError extends Error {
  constructor(readonly reason: AuthFailureReason) {
    super(REASON_TEXT[reason]);
    this.name = 'AuthError';
  }
}

export interface TokenVerifier {
  verify(token: string | undefined): Promise<Principal>;
}

type Key = KeyObject | CryptoKey | JWTVerifyGetKey | HmacSecret;

export async function createTokenVerifier(cfg: JwtConfig): Promise<TokenVerifier> {
  const keys: Key[] = [];
  if (cfg.secret) keys.push(new HmacSecret(createSecretKey(Buffer.from(cfg.secret, 'utf8'))));
  if (cfg.publicKey) {
    const asymmetric = cfg.algorithms.filter((a) => !a.startsWith('HS'));
    // A PEM key is bound to one algorithm family; try each configured one until it imports.
    let imported: CryptoKey | undefined;
    for (const alg of asymmetric) {
      try {
        imported = await importSPKI(cfg.publicKey, alg);
        break;
      } catch {
        // not this algorithm's key type; the next one may fit
      }
    }
    if (!imported) throw new Error(`JWT_PUBLIC_KEY could not be imported for any of ${asymmetric.join(', ')}`);
    keys.push(imported);
  }
  if (cfg.jwksFile) keys.push(createLocalJWKSet(JSON.parse(readFileSync(cfg.jwksFile, 'utf8'))));

  const options = {
    algorithms: cfg.algorithms,
    requiredClaims: ['exp', 'sub'],
    ...(cfg.issuer ? { issuer: cfg.issuer } : {}),
    ...(cfg.audience ? { audience: cfg.audience } : {}),
  };

  async function verifyWith(key: Key, token: string): Promise<JWTPayload> {
    if (key instanceof HmacSecret) return key.verify(token, options) ?? (await jwtVerify(token, key.key, options)).payload;
    // jose's overloads split on the key kind; both shapes take the same options.
    const result = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
    return result.payload;
  }

  return {
    async verify(token) {
      if (!token) throw new AuthError('missing');
      let lastError: unknown;
      for (const key of keys) {
        try {
          const payload = await verifyWith(key, token);
          return toPrincipal(payload);
        } catch (err) {
          lastError = err;
          // With several keys configured, a signature or key-selection failure may be another key's token.
          if (!(err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey || err instanceof TypeError)) break;
        }
      }
      throw new AuthError(classify(lastError));
    },
  };
}

function toPrincipal(payload: JWTPayload): Principal {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128 || typeof payload.exp !== 'number') {
    throw new AuthError('missing_claim');
  }
  const role = payload['role'] === 'admin' ? 'admin' : payload['role'] === 'service' ? 'service' : 'user';
  return { userId: payload.sub, role, expiresAt: payload.exp };
}

function classify(err: unknown): AuthFailureReason {
  if (err instanceof AuthError) return err.reason;
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) return 'bad_signature';
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) return 'alg_not_allowed';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'wrong_issuer';
    if (err.claim === 'aud') return 'wrong_audience';
    if (err.claim === 'exp' || err.claim === 'sub') return 'missing_claim';
    return 'malformed';
  }
  if (err instanceof TypeError) return 'bad_signature';
  return 'malformed';
}

interface ClaimOptions {
  algorithms: string[];
  issuer?: string;
  audience?: string;
}

const HMAC_HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JWT_SECRET key with its own HS256/384/512 verification: the checks and errors of jose's
 * jwtVerify (alg allowed, signature, then iss, aud, sub, exp present; iss, aud match; iat, nbf,
 * exp numeric; nbf not in the future; exp in the future), so callers cannot tell the two apart.
 */
export class HmacSecret {
  constructor(readonly key: KeyObject) {}

  /**
   * The verified payload; throws what jose would; undefined for a token this path does not
   * take (not a plain compact HMAC JWS): the caller hands those to jose with `key`.
   */
  verify(token: string, options: ClaimOptions): JWTPayload | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every(plainBase64url)) return undefined;
    const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
    let header: unknown;
    try {
      header = JSON.parse(strictUtf8.decode(Buffer.from(encodedHeader, 'base64url')));
    } catch {
      return undefined;
    }
    if (!isPlainObject(header) || 'crit' in header || 'b64' in header) return undefined;
    const alg = header['alg'];
    const hash = typeof alg === 'string' ? HMAC_HASH[alg] : undefined;
    if (typeof alg !== 'string' || hash === undefined) return undefined;
    if (!options.algorithms.includes(alg)) throw new joseErrors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    const expected = createHmac(hash, this.key).update(`${encodedHeader}.${encodedPayload}`).digest();
    const signature = Buffer.from(encodedSignature, 'base64url');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw new joseErrors.JWSSignatureVerificationFailed();
    let claims: unknown;
    try {
      claims = JSON.parse(strictUtf8.decode(Buffer.from(encodedPayload, 'base64url')));
    } catch {
      throw new joseErrors.JWTInvalid('JWT Claims Set must be a top-level JSON object');
    }
    if (!isPlainObject(claims)) throw new joseErrors.JWTInvalid('JWT Claims Set must be a top-level JSON object');
    checkClaims(claims, options, Math.floor(Date.now() / 1000));
    return claims as JWTPayload;
  }
}

/** Unpadded base64url that atob-based decoders accept too (a length of 4n+1 is not). */
function plainBase64url(part: string): boolean {
  return part.length % 4 !== 1 && BASE64URL.test(part);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** jose's validateClaimsSet for the options used here, in its order. */
function checkClaims(claims: Record<string, unknown>, options: ClaimOptions, now: number): void {
  const fail = (claim: string, reason: string, message: string): never => {
    throw new joseErrors.JWTClaimValidationFailed(message, claims, claim, reason);
  };
  const required = ['exp', 'sub', ...(options.audience !== undefined ? ['aud'] : []), ...(options.issuer !== undefined ? ['iss'] : [])].reverse();
  for (const claim of required) if (!Object.hasOwn(claims, claim)) fail(claim, 'missing', `missing required "${claim}" claim`);
  if (options.issuer !== undefined && claims['iss'] !== options.issuer) fail('iss', 'check_failed', 'unexpected "iss" claim value');
  if (options.audience !== undefined) {
    const aud = claims['aud'];
    const ok = typeof aud === 'string' ? aud === options.audience : Array.isArray(aud) && aud.includes(options.audience);
    if (!ok) fail('aud', 'check_failed', 'unexpected "aud" claim value');
  }
  for (const claim of ['iat', 'nbf']) {
    if (claims[claim] !== undefined && typeof claims[claim] !== 'number') fail(claim, 'invalid', `"${claim}" claim must be a number`);
  }
  const nbf = claims['nbf'];
  if (typeof nbf === 'number' && nbf > now) fail('nbf', 'check_failed', '"nbf" claim timestamp check failed');
  const exp = claims['exp'];
  if (exp !== undefined && typeof exp !== 'number') fail('exp', 'invalid', '"exp" claim must be a number');
  if (typeof exp === 'number' && exp <= now) throw new joseErrors.JWTExpired('"exp" claim timestamp check failed', claims, 'exp', 'check_failed');
}
