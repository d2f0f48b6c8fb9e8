/**
 * Sessions outlive tokens only by permission: `session:refresh` swaps a connection's token in
 * place, and the server API revokes a user's sessions on every node.
 *
 * Revocation: the asking node stores it (Redis, or nothing to store on a single node), applies
 * it to its RevocationList (the verifier refuses older tokens from then on), closes the user's
 * local connections with older tokens (4105), and publishes it on `sys:sessions:revocations`;
 * every other node does the same on receipt. Each node also re-reads the stored revocations at
 * start and every RESYNC_MS, so a node that missed the publish (a bus hiccup) catches up.
 */
import type { Logger } from 'pino';
import type { LocalSockets } from '../../core.js';
import type { AuthMetrics } from '../../gateway/auth/metrics.js';
import { notBeforeOf, type Revocation, type RevocationList } from '../../gateway/auth/revocations.js';
import { AuthError, type TokenVerifier } from '../../gateway/auth.js';
import { AppError } from '../../kernel/errors.js';
import type { Session } from '../../kernel/session.js';
import type { RoomMessage } from '../../rooms/bus.js';
import type { RoomHub } from '../../rooms/hub.js';
import type { RevocationStore } from './revocations.js';

export const REVOCATIONS_ROOM = 'sys:sessions:revocations';
/** How often each node re-reads the stored revocations. */
export const RESYNC_MS = 15_000;

export interface SessionServiceDeps {
  verifier: TokenVerifier;
  sockets: LocalSockets;
  revocations: RevocationList;
  store: RevocationStore;
  hub: RoomHub;
  metrics: AuthMetrics;
  log: Logger;
  nodeId: string;
  /** SESSION_REVOCATION_TTL_SEC. */
  revocationTtlSec: number;
  /** JWT_CLOCK_TOLERANCE_SEC: how far in the future `issuedBefore` may be. */
  clockToleranceSec: number;
  now?: () => number;
}

export interface RefreshResult {
  userId: string;
  expiresAt: string;
}

export interface RevokeResult {
  userId: string;
  issuedBefore: string;
  expiresAt: string;
  closed: number;
  nodes: number;
}

const isRevocation = (data: unknown): data is Revocation => {
  const r = data as Partial<Revocation> | null;
  return typeof r === 'object' && r !== null && typeof r.userId === 'string' && Number.isFinite(r.notBefore) && Number.isFinite(r.until);
};

export class SessionService {
  private readonly now: () => number;
  private unwatch: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SessionServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Verifies `token` and makes it the connection's: same user, later `exp`; rooms are kept. */
  async refresh(session: Session, token: string): Promise<RefreshResult> {
    const { metrics } = this.deps;
    let principal;
    try {
      principal = await this.deps.verifier.verify(token);
    } catch (err) {
      const reason = err instanceof AuthError ? err.reason : 'malformed';
      metrics.refreshes.inc({ outcome: reason });
      throw new AppError('unauthorized', `token refused: ${reason}`);
    }
    if (principal.userId !== session.userId) {
      metrics.refreshes.inc({ outcome: 'other_user' });
      throw new AppError('forbidden', 'the token is for another user');
    }
    try {
      if (!this.deps.sockets.reauthenticate(session.userId, session.connectionId, principal)) throw new AppError('not_found', 'the connection is closing');
    } catch (err) {
      metrics.refreshes.inc({ outcome: err instanceof AppError ? err.code : 'internal' });
      throw err;
    }
    metrics.refreshes.inc({ outcome: 'ok' });
    return { userId: principal.userId, expiresAt: new Date(principal.expiresAt * 1000).toISOString() };
  }

  /** Revokes the user's tokens issued before `issuedBeforeMs` (default: now) on every node. */
  async revoke(userId: string, issuedBeforeMs?: number): Promise<RevokeResult> {
    const now = this.now();
    const at = issuedBeforeMs ?? now;
    if (at > now + this.deps.clockToleranceSec * 1000) throw new AppError('validation_failed', 'issuedBefore must not be in the future');
    const notBefore = notBeforeOf(at);
    const requested: Revocation = { userId, notBefore, until: notBefore * 1000 + this.deps.revocationTtlSec * 1000 };
    let stored: Revocation;
    try {
      stored = await this.deps.store.save(requested);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, user: userId }, 'revocation not stored');
      throw new AppError('unavailable', 'the revocation could not be stored; retry');
    }
    const closed = this.apply(stored, 'api');
    // Stored already: a node the publish does not reach applies it at its next re-read (RESYNC_MS).
    const published = await this.deps.hub.publish(REVOCATIONS_ROOM, 'revoke', stored).catch((err: unknown) => {
      this.deps.log.warn({ err: (err as Error).message, user: userId }, 'revocation not published; other nodes apply it at their next re-read');
      return { nodes: 1 };
    });
    this.deps.log.info({ user: userId, notBefore: stored.notBefore, until: stored.until, closed, nodes: published.nodes }, 'user sessions revoked');
    return {
      userId,
      issuedBefore: new Date(stored.notBefore * 1000).toISOString(),
      expiresAt: new Date(stored.until).toISOString(),
      closed,
      nodes: Math.max(1, published.nodes),
    };
  }

  async start(): Promise<void> {
    this.unwatch = this.deps.hub.watch(REVOCATIONS_ROOM, (m) => this.onMessage(m));
    await this.deps.hub.ready(REVOCATIONS_ROOM);
    await this.resync('store');
    this.timer = setInterval(() => void this.resync('store'), RESYNC_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.unwatch?.();
  }

  /** Applies a revocation here: the verifier refuses older tokens, older sessions are closed. */
  private apply(revocation: Revocation, origin: 'api' | 'cluster' | 'store'): number {
    const merged = this.deps.revocations.apply(revocation);
    this.deps.metrics.revocations.inc({ origin });
    const closed = this.deps.sockets.closeRevoked(merged.userId, merged.notBefore);
    if (closed > 0) this.deps.metrics.revokedClosed.inc(closed);
    return closed;
  }

  private onMessage(message: RoomMessage): void {
    if (message.origin === this.deps.nodeId || message.event !== 'revoke') return;
    if (!isRevocation(message.data)) {
      this.deps.log.warn({ origin: message.origin }, 'malformed revocation ignored');
      return;
    }
    const closed = this.apply(message.data, 'cluster');
    if (closed > 0) this.deps.log.info({ user: message.data.userId, closed, by: message.origin }, 'user sessions revoked');
  }

  private async resync(origin: 'store'): Promise<void> {
    this.deps.revocations.sweep();
    try {
      for (const revocation of await this.deps.store.loadAll()) {
        // Applied once per node: a later re-read only acts on one a missed publish left out.
        const known = this.deps.revocations.get(revocation.userId);
        if (known && known.notBefore >= revocation.notBefore && known.until >= revocation.until) continue;
        this.apply(revocation, origin);
      }
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'revocations not re-read; keeping the ones in memory');
    }
  }
}
