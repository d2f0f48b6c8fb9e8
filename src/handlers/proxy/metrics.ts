import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState } from './breaker.js';

/** Outcomes of one proxied event, as counted by livegate_proxy_events_total. */
export type ProxyOutcome = 'acked' | 'error_reply' | 'timeout' | 'unreachable' | 'server_error' | 'bad_reply' | 'overloaded' | 'circuit_open' | 'apply_failed';

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** The event proxy's metrics, on the gateway registry (docs/BRIDGE.md, "Metrics"). */
export class ProxyMetrics {
  readonly events: Counter<'rule' | 'outcome'>;
  readonly duration: Histogram<'rule'>;
  readonly inFlight: Gauge;
  readonly actions: Counter<'kind'>;
  private readonly breakerState: Gauge;
  private readonly breakerTransitions: Counter<'to'>;

  constructor(registry: Registry) {
    this.events = new Counter({
      name: 'livegate_proxy_events_total',
      help: 'Events forwarded to the backend by PROXY_EVENTS rule and outcome (acked, error_reply, timeout, unreachable, server_error, bad_reply, overloaded, circuit_open, apply_failed)',
      labelNames: ['rule', 'outcome'] as const,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'livegate_proxy_request_duration_seconds',
      help: 'Time of one backend request of the event proxy (sent requests only)',
      labelNames: ['rule'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.inFlight = new Gauge({ name: 'livegate_proxy_in_flight', help: 'Backend requests of the event proxy in flight on this node', registers: [registry] });
    this.actions = new Counter({
      name: 'livegate_proxy_actions_total',
      help: 'Room operations applied from backend replies (join, leave, publish)',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
    this.breakerState = new Gauge({
      name: 'livegate_proxy_breaker_state',
      help: "State of the event proxy's circuit breaker on this node: 0 closed, 1 half-open, 2 open",
      registers: [registry],
    });
    this.breakerTransitions = new Counter({
      name: 'livegate_proxy_breaker_transitions_total',
      help: 'Circuit breaker state changes by the state entered',
      labelNames: ['to'] as const,
      registers: [registry],
    });
  }

  breakerMoved(to: BreakerState): void {
    this.breakerState.set(STATE_VALUE[to]);
    this.breakerTransitions.inc({ to });
  }
}
