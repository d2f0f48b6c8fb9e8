/**
 * A connection lives as long as its token. SESSION_EXPIRING_LEAD_MS before the token's `exp`
 * the client is sent `session:expiring {expiresAt, closesAt}` (once per token); a
 * `session:refresh {token}` (src/handlers/session/) replaces the token in place; once `exp` plus
 * SESSION_EXPIRY_GRACE_MS has passed, the connection is closed with 4104 `token_expired`
 * (Socket.IO: `41` first). Checked by the gateway's one-second sweeper, so each step happens
 * within a second of its time and an idle connection costs no timer.
 */
import type { SessionConfig } from '../config.js';
import type { AuthMetrics } from './auth/metrics.js';
import type { Connection } from './connection.js';

export class SessionLifetime {
  constructor(
    private readonly config: SessionConfig,
    private readonly metrics: AuthMetrics,
  ) {}

  /** One sweep step for one authenticated connection. */
  check(conn: Connection, now: number): void {
    const principal = conn.principal;
    if (!principal || conn.closed) return;
    const expiresAtMs = principal.expiresAt * 1000;
    const closesAtMs = expiresAtMs + this.config.expiryGraceMs;
    if (now >= closesAtMs) {
      this.metrics.expired.inc();
      conn.end('token_expired');
      return;
    }
    if (now >= expiresAtMs - this.config.expiringLeadMs && conn.expiryNoticeFor !== principal.expiresAt) {
      conn.expiryNoticeFor = principal.expiresAt;
      this.metrics.expiring.inc();
      conn.emit('session:expiring', { expiresAt: new Date(expiresAtMs).toISOString(), closesAt: new Date(closesAtMs).toISOString() });
    }
  }
}
