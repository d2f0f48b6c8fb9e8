/**
 * Token issuing for standalone mode. Access tokens are HS256 JWTs signed with JWT_SECRET and
 * carry the claims the shared verifier expects (sub, role, exp, iss/aud when configured), so
 * sockets and HTTP accept them like the backend issuer's tokens.
 *
 * Refresh tokens are opaque (`<id>.<secret>`), stored only as a SHA-256 of the secret, and
 * rotate: each use marks the token used and issues the next one in the same family. Presenting
 * a token that was already used (a stolen copy, or the victim after the thief) revokes the
 * whole family, so both sides have to log in again.
 */
import { createHash, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Collection, Db } from 'mongodb';
import type { Config } from '../../config.js';
import { AppError } from '../../kernel/errors.js';
import { newId } from '../../kernel/schemas.js';
import type { Role } from '../../kernel/session.js';

export interface RefreshTokenDoc {
  _id: string;
  familyId: string;
  userId: string;
  role: Role;
  hash: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** When the access token expires (ISO 8601 UTC). */
  expiresAt: string;
  /** When the refresh token expires. */
  refreshExpiresAt: string;
}

export const REFRESH_COLLECTION = 'refresh_tokens';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

export class TokenIssuer {
  private readonly key: KeyObject | undefined;

  /** `db` throws 503 when no database is configured. */
  constructor(
    private readonly config: Config,
    private readonly db: () => Db,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.key = config.jwt.secret ? createSecretKey(Buffer.from(config.jwt.secret, 'utf8')) : undefined;
  }

  private get refresh(): Collection<RefreshTokenDoc> {
    return this.db().collection<RefreshTokenDoc>(REFRESH_COLLECTION);
  }

  async accessToken(userId: string, role: Role): Promise<string> {
    if (!this.key) throw new AppError('unavailable', 'local token issuing needs JWT_SECRET (HS256)');
    const jwt = new SignJWT({ role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuedAt()
      .setJti(newId())
      .setExpirationTime(Math.floor(this.clock().getTime() / 1000) + this.config.auth.accessTtlSec);
    if (this.config.jwt.issuer) jwt.setIssuer(this.config.jwt.issuer);
    if (this.config.jwt.audience) jwt.setAudience(this.config.jwt.audience);
    return jwt.sign(this.key);
  }

  /** A new token pair; `familyId` continues a rotation chain, omitted starts one (login). */
  async issue(userId: string, role: Role, familyId: string = newId()): Promise<TokenPair> {
    const accessToken = await this.accessToken(userId, role);
    const id = newId();
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock();
    await this.refresh.insertOne({
      _id: id,
      familyId,
      userId,
      role,
      hash: sha256(secret),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.auth.refreshTtlSec * 1000),
      usedAt: null,
      revokedAt: null,
    });
    return {
      accessToken,
      refreshToken: `${id}.${secret}`,
      tokenType: 'Bearer',
      expiresAt: new Date(now.getTime() + this.config.auth.accessTtlSec * 1000).toISOString(),
      refreshExpiresAt: new Date(now.getTime() + this.config.auth.refreshTtlSec * 1000).toISOString(),
    };
  }

  /** The stored token a presented string names, if its secret matches; undefined otherwise. */
  private async find(presented: string): Promise<RefreshTokenDoc | undefined> {
    const [id, secret] = presented.split('.');
    if (!id || !secret) return undefined;
    const doc = await this.refresh.findOne({ _id: id });
    if (!doc) return undefined;
    const a = Buffer.from(doc.hash);
    const b = Buffer.from(sha256(secret));
    return a.length === b.length && timingSafeEqual(a, b) ? doc : undefined;
  }

  /** Rotates a refresh token. Reuse of a used token revokes its family; every failure is 401. */
  async rotate(presented: string): Promise<TokenPair> {
    const doc = await this.find(presented);
    const now = this.clock();
    if (!doc) throw new AppError('unauthorized', 'refresh token is not valid');
    if (doc.revokedAt) throw new AppError('unauthorized', 'refresh token was revoked');
    if (doc.expiresAt <= now) throw new AppError('unauthorized', 'refresh token expired');
    // Atomic claim: only one request can move a token from unused to used.
    const claimed = await this.refresh.findOneAndUpdate({ _id: doc._id, usedAt: null, revokedAt: null }, { $set: { usedAt: now } });
    if (!claimed) {
      await this.revokeFamily(doc.familyId);
      throw new AppError('unauthorized', 'refresh token was already used; all sessions of this login were revoked');
    }
    return this.issue(doc.userId, doc.role, doc.familyId);
  }

  /** Revokes the family of a presented token, if it is the caller's. Returns whether one was found. */
  async revoke(presented: string, userId: string): Promise<boolean> {
    const doc = await this.find(presented);
    if (!doc) return false;
    if (doc.userId !== userId) throw new AppError('forbidden', 'this refresh token belongs to another user');
    await this.revokeFamily(doc.familyId);
    return true;
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.refresh.updateMany({ familyId, revokedAt: null }, { $set: { revokedAt: this.clock() } });
  }
}
