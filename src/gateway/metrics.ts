import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The gateway's own metrics. Domain modules register theirs in the same `registry`
 * (see createDomainMetrics in their modules); `/metrics` serves that one registry.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly connections = new Gauge({
    name: 'livegate_connections',
    help: 'Open client connections',
    labelNames: ['dialect'] as const,
    registers: [this.registry],
  });
  readonly connectionsOpened = new Counter({
    name: 'livegate_connections_opened_total',
    help: 'Client connections accepted',
    labelNames: ['dialect'] as const,
    registers: [this.registry],
  });
  readonly framesIn = new Counter({
    name: 'livegate_frames_in_total',
    help: 'Frames received from clients by event (unregistered names count as "unknown")',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly framesOut = new Counter({
    name: 'livegate_frames_out_total',
    help: 'Frames sent to single clients by event (acks count as "ack")',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'livegate_errors_total',
    help: 'Typed errors returned to clients by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'livegate_dropped_frames_total',
    help: 'Frames not delivered by reason (backpressure, slow_consumer, closed)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'livegate_auth_failures_total',
    help: 'Refused authentications by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'livegate_rate_limited_total',
    help: 'Requests refused by the token buckets',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });
  readonly overBackpressure = new Gauge({
    name: 'livegate_sockets_over_backpressure',
    help: 'Sockets whose send buffer is over WS_MAX_BACKPRESSURE (room frames to them are being skipped)',
    registers: [this.registry],
  });
  readonly slowConsumersClosed = new Counter({
    name: 'livegate_slow_consumers_closed_total',
    help: 'Connections closed with 4008 for staying over the backpressure limit',
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'livegate_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly handlerDuration = new Histogram({
    name: 'livegate_handler_duration_seconds',
    help: 'Socket request handling time by event',
    labelNames: ['event'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  constructor(nodeId: string) {
    this.registry.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }
}
