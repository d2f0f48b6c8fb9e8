/**
 * Who may call an HTTP route, and how often. A route declares `auth`:
 *   none    anyone; rate limited per client address
 *   user    a valid Bearer token (role user or admin)
 *   admin   a valid Bearer token with role admin
 *   service an API key from SERVICE_API_KEYS (X-API-Key or Authorization: Bearer <key>), or a
 *           Bearer token with role service
 * Tokens go through the same jose verifier as the sockets. Authenticated callers are rate
 * limited per user id (per node), anonymous ones per address; over the limit answers 429.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../kernel/errors.js';
import { type Principal, type Role } from '../../kernel/session.js';
import { AuthError, type TokenVerifier } from '../auth.js';
import type { GatewayMetrics } from '../metrics.js';
import type { KeyedLimiter } from '../rate-limit.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export type AuthMode = 'none' | 'user' | 'admin' | 'service';

/** A 429 that knows when to come back (the router turns `retryAfterMs` into Retry-After). */
export class RateLimitError extends AppError {
  constructor(retryAfterMs: number) {
    super('rate_limited', `too many requests; retry after ${retryAfterMs} ms`, { retryAfterMs });
  }
}

const ROLES_ALLOWED: Record<Exclude<AuthMode, 'none'>, readonly Role[]> = {
  user: ['user', 'admin'],
  admin: ['admin'],
  service: ['service'],
};

const FORBIDDEN_TEXT: Record<Exclude<AuthMode, 'none'>, string> = {
  user: 'this endpoint is for user tokens',
  admin: 'this endpoint requires the admin role',
  service: 'this endpoint requires service credentials',
};

export interface HttpGuardDeps {
  verifier: TokenVerifier;
  serviceApiKeys: readonly string[];
  limiter: KeyedLimiter;
  metrics: GatewayMetrics;
}

export class HttpGuard {
  private readonly apiKeys: Buffer[];

  constructor(private readonly deps: HttpGuardDeps) {
    this.apiKeys = deps.serviceApiKeys.map(digest);
  }

  /** Resolves the caller for a route, or throws 401/403/429 as AppError. */
  async admit(auth: AuthMode, headers: Readonly<Record<string, string>>, remoteAddress: string, rateLimit: boolean): Promise<Principal | undefined> {
    const principal = auth === 'none' ? undefined : await this.authenticate(auth, headers);
    if (rateLimit) this.limit(principal ? `u:${principal.userId}` : `a:${remoteAddress}`);
    return principal;
  }

  private async authenticate(auth: Exclude<AuthMode, 'none'>, headers: Readonly<Record<string, string>>): Promise<Principal> {
    if (auth === 'service' && (this.isServiceKey(headers['x-api-key']) || this.isServiceKey(bearer(headers['authorization'])))) {
      return { userId: 'service', role: 'service', expiresAt: Number.MAX_SAFE_INTEGER };
    }
    let principal: Principal;
    try {
      principal = await this.deps.verifier.verify(bearer(headers['authorization']));
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      this.deps.metrics.authFailures.inc({ reason: err.reason });
      throw new AppError('unauthorized', err.message);
    }
    if (!ROLES_ALLOWED[auth].includes(principal.role)) throw new AppError('forbidden', FORBIDDEN_TEXT[auth]);
    return principal;
  }

  private limit(key: string): void {
    const outcome = this.deps.limiter.take(key, Date.now());
    if (!outcome.ok) {
      this.deps.metrics.rateLimited.inc({ scope: 'http' });
      throw new RateLimitError(outcome.retryAfterMs);
    }
  }

  /** Compares SHA-256 digests (equal lengths, so no length leak) against every key, without early exit. */
  private isServiceKey(given: string | undefined): boolean {
    if (!given) return false;
    const candidate = digest(given);
    let found = false;
    for (const key of this.apiKeys) found = timingSafeEqual(key, candidate) || found;
    return found;
  }
}

/** The token of an `Authorization: Bearer <token>` header; undefined when absent or another scheme. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
  return match?.[1];
}
