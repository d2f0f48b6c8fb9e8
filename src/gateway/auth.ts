/**
 * Token verification with jose. A token's `sub` is the user id, `role: "admin"` marks
 * administrators (`role: "service"` marks backend credentials), `exp` is required.
 */
import { readFileSync } from 'node:fs';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, importSPKI, jwtVerify, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey, type CryptoKey } from 'jose';
import type { JwtConfig } from '../config.js';

export type Role = 'user' | 'admin' | 'service';

export interface Principal {
  userId: string;
  role: Role;
  /** Seconds since epoch. */
  expiresAt: number;
}

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

type Key = KeyObject | CryptoKey | JWTVerifyGetKey;

export async function createTokenVerifier(cfg: JwtConfig): Promise<TokenVerifier> {
  const keys: Key[] = [];
  if (cfg.secret) keys.push(createSecretKey(Buffer.from(cfg.secret, 'utf8')));
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
