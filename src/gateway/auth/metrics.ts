import { Counter, Gauge, type Registry } from 'prom-client';

/** Key fetches, rotations, token refreshes, expiries and revocations (docs/AUTH.md lists them). */
export class AuthMetrics {
  readonly jwksFetches: Counter<'url' | 'trigger' | 'outcome'>;
  readonly jwksRotations: Counter<'url'>;
  readonly jwksKeys: Gauge<'url'>;
  readonly jwksStale: Gauge<'url'>;
  readonly jwksLastSuccess: Gauge<'url'>;
  readonly refreshes: Counter<'outcome'>;
  readonly expiring: Counter;
  readonly expired: Counter;
  readonly revocations: Counter<'origin'>;
  readonly revokedClosed: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.jwksFetches = new Counter({
      name: 'livegate_jwks_fetches_total',
      help: 'JWKS fetches by URL, trigger (start, scheduled, unknown_kid, retry) and outcome (ok, not_modified, error)',
      labelNames: ['url', 'trigger', 'outcome'] as const,
      registers,
    });
    this.jwksRotations = new Counter({
      name: 'livegate_jwks_rotations_total',
      help: 'Fetched key sets whose key ids differ from the previous set',
      labelNames: ['url'] as const,
      registers,
    });
    this.jwksKeys = new Gauge({ name: 'livegate_jwks_keys', help: 'Keys in the key set in use, by URL', labelNames: ['url'] as const, registers });
    this.jwksStale = new Gauge({
      name: 'livegate_jwks_stale',
      help: '1 while the last fetch of the URL failed and the last good key set is in use',
      labelNames: ['url'] as const,
      registers,
    });
    this.jwksLastSuccess = new Gauge({
      name: 'livegate_jwks_last_success_timestamp_seconds',
      help: 'When the URL last answered with a usable key set (or 304)',
      labelNames: ['url'] as const,
      registers,
    });
    this.refreshes = new Counter({
      name: 'livegate_session_refreshes_total',
      help: 'session:refresh requests by outcome (ok, or the refusal reason)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.expiring = new Counter({ name: 'livegate_session_expiring_total', help: 'session:expiring notices sent', registers });
    this.expired = new Counter({ name: 'livegate_session_expired_total', help: 'Connections closed with 4104 past their token exp plus the grace', registers });
    this.revocations = new Counter({
      name: 'livegate_revocations_total',
      help: 'Revocations applied on this node, by origin (api: asked here; cluster: from another node; store: loaded at start)',
      labelNames: ['origin'] as const,
      registers,
    });
    this.revokedClosed = new Counter({
      name: 'livegate_revoked_sessions_closed_total',
      help: 'Connections closed with 4105 because their token was revoked',
      registers,
    });
  }
}
