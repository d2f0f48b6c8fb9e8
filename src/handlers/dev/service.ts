/**
 * Signs development tokens: an HS256 JWT for any user id, no password. Only the dev module's
 * route calls it, and only when DEV_TOKENS=true. The claims are the ones the shared verifier
 * checks (sub, role, exp, iss/aud when configured), so sockets and HTTP accept the token as they
 * accept the backend's.
 */
import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { JwtConfig } from '../../config.js';
import { AppError } from '../../kernel/errors.js';
import type { DevToken } from './schemas.js';

/** Lifetime of a development token: long enough for a demo session. */
export const DEV_TOKEN_TTL_MS = 12 * 60 * 60 * 1000;

export class DevTokenSigner {
  private readonly key: KeyObject | undefined;

  constructor(
    private readonly jwt: Pick<JwtConfig, 'secret' | 'publicKey' | 'jwksFile' | 'algorithms' | 'issuer' | 'audience'>,
    private readonly clock: () => number = Date.now,
  ) {
    this.key = jwt.secret && jwt.algorithms.includes('HS256') ? createSecretKey(Buffer.from(jwt.secret, 'utf8')) : undefined;
  }

  async sign(userId: string, name: string): Promise<DevToken> {
    if (!this.key) throw new AppError('unavailable', 'development tokens need JWT_SECRET with HS256 accepted');
    const expiresAtMs = this.clock() + DEV_TOKEN_TTL_MS;
    const jwt = new SignJWT({ role: 'user', name })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt(Math.floor(this.clock() / 1000))
      .setJti(randomUUID())
      .setExpirationTime(Math.floor(expiresAtMs / 1000));
    if (this.jwt.issuer) jwt.setIssuer(this.jwt.issuer);
    if (this.jwt.audience) jwt.setAudience(this.jwt.audience);
    const token = await jwt.sign(this.key);
    return { token, tokenType: 'Bearer', userId, name, expiresAt: new Date(Math.floor(expiresAtMs / 1000) * 1000).toISOString() };
  }
}
