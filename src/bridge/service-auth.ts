/**
 * Who may use the server API: a backend with an API key (SERVICE_API_KEYS) in `x-api-key` or
 * `Authorization: Bearer <key>`, or a JWT with `role: "service"`. A user's (or admin's) token
 * is authenticated but refused with 403; no credential or a wrong one gets 401.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError, type TokenVerifier } from '../gateway/auth.js';
import { AppError } from '../gateway/errors.js';

export type ServiceCaller = { kind: 'api_key'; key: number } | { kind: 'jwt'; subject: string };

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
const looksLikeJwt = (value: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);

export class ServiceAuth {
  /** Keys are compared as SHA-256 digests: equal length, so timingSafeEqual applies to any key. */
  private readonly keys: Buffer[];

  constructor(keys: string[], private readonly verifier: TokenVerifier) {
    this.keys = keys.map(digest);
  }

  async authenticate(headers: Readonly<Record<string, string>>): Promise<ServiceCaller> {
    const authorization = headers['authorization'] ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
    const credential = headers['x-api-key']?.trim() || bearer;
    if (!credential) throw new AppError('unauthorized', 'service credential required: x-api-key or Authorization: Bearer');
    const key = this.matchKey(credential);
    if (key >= 0) return { kind: 'api_key', key };
    if (!looksLikeJwt(credential)) throw new AppError('unauthorized', 'invalid API key');
    let principal;
    try {
      principal = await this.verifier.verify(credential);
    } catch (err) {
      throw new AppError('unauthorized', err instanceof AuthError ? err.message : 'invalid token');
    }
    if (principal.role !== 'service') throw new AppError('forbidden', 'the server API needs a service credential, not a user token');
    return { kind: 'jwt', subject: principal.userId };
  }

  /** Index of the matching key or -1; every key is compared (no early exit). */
  private matchKey(credential: string): number {
    const candidate = digest(credential);
    let found = -1;
    this.keys.forEach((key, i) => {
      if (timingSafeEqual(key, candidate) && found < 0) found = i;
    });
    return found;
  }
}
