/**
 * Token verification. A token's `sub` is the user id, `role: "admin"` marks administrators
 * (`role: "service"` marks backend credentials), `exp` is required. Which claims hold the user id
 * and the role is configurable (src/gateway/auth/claims.ts); remote key sets (JWT_JWKS_URL) come
 * from src/gateway/auth/jwks.ts, revocations from src/gateway/auth/revocations.ts.
 *
 * HS256/384/512 with JWT_SECRET are checked with node:crypto (HMAC over a KeyObject made once,
 * constant-time compare) and the same claim rules as jose; jose handles everything else
 * (RS/ES/PS/EdDSA keys, JWKS, and any unusual HMAC token: `crit`, `b64`, padded or
 * whitespace-laden base64). jose verifies HMAC through WebCrypto, which imports the key again
 * on every call: a third of the CPU a connection costs, and most of its garbage.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, importSPKI, jwtVerify, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey, type CryptoKey } from 'jose';
import type { JwtConfig, ClaimMapping } from '../config.js';
import type { Principal } from '../kernel/session.js';
import { MAX_USER_ID_LENGTH, readClaim, roleOf } from './auth/claims.js';

export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'bad_signature'
  | 'alg_not_allowed'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'claim_too_long'
  | 'unknown_key'
  | 'revoked';

const REASON_TEXT: Record<AuthFailureReason, string> = {
  missing: 'no token given',
  malformed: 'token is not a valid JWT',
  expired: 'token expired',
  bad_signature: 'token signature is invalid',
  alg_not_allowed: 'token algorithm is not allowed',
  wrong_issuer: 'token issuer is not accepted',
  wrong_audience: 'token audience is not accepted',
  missing_claim: 'token lacks a required claim (user id, exp)',
  not_yet_valid: 'token is not valid yet (nbf in the future)',
  issued_in_future: 'token issued in the future (iat beyond the clock tolerance)',
  claim_too_long: `token user id is longer than ${MAX_USER_ID_LENGTH} characters`,
  unknown_key: 'token key id (kid) is not in the key set',
  revoked: "token was revoked (issued before the user's sessions were revoked)",
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

/** What the verifier gets beside its configuration. */
export interface VerifierExtras {
  /** Remote key sets (RemoteKeySets.getKey): tried after the secret, the PEM key and the JWKS file. */
  keySets?: JWTVerifyGetKey[];
  /** True when the user's tokens issued at `issuedAt` (or without `iat`) are revoked. */
  isRevoked?: (userId: string, issuedAt: number | undefined) => boolean;
}

export async function createTokenVerifier(cfg: JwtConfig, extras: VerifierExtras = {}): Promise<TokenVerifier> {
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
  keys.push(...(extras.keySets ?? []));

  const options: ClaimOptions = {
    algorithms: cfg.algorithms,
    requiredClaims: ['exp', ...(cfg.claims.userClaim === 'sub' ? ['sub'] : [])],
    clockTolerance: cfg.clockToleranceSec,
    ...(cfg.issuer ? { issuer: cfg.issuer } : {}),
    ...(cfg.audience ? { audience: cfg.audience } : {}),
  };

  async function verifyWith(key: Key, token: string): Promise<JWTPayload> {
    if (key instanceof HmacSecret) return key.verify(token, options) ?? (await jwtVerify(token, key.key, options)).payload;
    if (typeof key !== 'function') return (await jwtVerify(token, key, options)).payload;
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (err) {
      // A token without `kid` that several keys of a set fit: jose hands back the candidates.
      if (!(err instanceof joseErrors.JWKSMultipleMatchingKeys)) throw err;
      let lastError: unknown = err;
      for await (const candidate of err) {
        try {
          return (await jwtVerify(token, candidate, options)).payload;
        } catch (e) {
          lastError = e;
          if (!(e instanceof joseErrors.JWSSignatureVerificationFailed)) break;
        }
      }
      throw lastError;
    }
  }

  return {
    async verify(token) {
      if (!token) throw new AuthError('missing');
      let lastError: unknown;
      for (const key of keys) {
        try {
          const payload = await verifyWith(key, token);
          const principal = toPrincipal(payload, cfg.claims, cfg.clockToleranceSec);
          if (extras.isRevoked?.(principal.userId, principal.issuedAt)) throw new AuthError('revoked');
          return principal;
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

/** The principal of a verified claim set (signature, iss, aud, nbf and exp already checked). */
function toPrincipal(payload: JWTPayload, claims: ClaimMapping, toleranceSec: number): Principal {
  const userId = readClaim(payload, claims.userClaim);
  if (typeof userId !== 'string' || userId.length === 0 || typeof payload.exp !== 'number') throw new AuthError('missing_claim');
  if (userId.length > MAX_USER_ID_LENGTH) throw new AuthError('claim_too_long');
  const iat = payload.iat;
  if (typeof iat === 'number' && iat > Date.now() / 1000 + toleranceSec) throw new AuthError('issued_in_future');
  const principal: Principal = { userId, role: roleOf(readClaim(payload, claims.roleClaim), claims), expiresAt: payload.exp };
  if (typeof iat === 'number') principal.issuedAt = iat;
  return principal;
}

function classify(err: unknown): AuthFailureReason {
  if (err instanceof AuthError) return err.reason;
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'unknown_key';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) return 'alg_not_allowed';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'wrong_issuer';
    if (err.claim === 'aud') return 'wrong_audience';
    if (err.claim === 'nbf' && err.reason === 'check_failed') return 'not_yet_valid';
    if (err.claim === 'exp' || err.claim === 'sub') return 'missing_claim';
    return 'malformed';
  }
  if (err instanceof TypeError) return 'bad_signature';
  return 'malformed';
}

export interface ClaimOptions {
  algorithms: string[];
  /** Claims that must be present (jose's `requiredClaims`). */
  requiredClaims: string[];
  /** Seconds of skew allowed for `nbf` and `exp` (jose's `clockTolerance`). */
  clockTolerance: number;
  issuer?: string;
  audience?: string;
}

const HMAC_HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The JWT_SECRET key with its own HS256/384/512 verification: the checks and errors of jose's
 * jwtVerify (alg allowed, signature, then the required claims, iss, aud present; iss, aud match;
 * iat, nbf, exp numeric; nbf not in the future, exp in the future, both with the clock tolerance),
 * so callers cannot tell the two apart.
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
  const required = new Set(
    [...options.requiredClaims, ...(options.audience !== undefined ? ['aud'] : []), ...(options.issuer !== undefined ? ['iss'] : [])].reverse(),
  );
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
  if (typeof nbf === 'number' && nbf > now + options.clockTolerance) fail('nbf', 'check_failed', '"nbf" claim timestamp check failed');
  const exp = claims['exp'];
  if (exp !== undefined && typeof exp !== 'number') fail('exp', 'invalid', '"exp" claim must be a number');
  if (typeof exp === 'number' && exp <= now - options.clockTolerance)
    throw new joseErrors.JWTExpired('"exp" claim timestamp check failed', claims, 'exp', 'check_failed');
}
