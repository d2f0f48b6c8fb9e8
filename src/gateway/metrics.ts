import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LANES, SHEDDABLE, type Lane, type SheddableLane } from './lanes.js';

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
  readonly laneFrames = new Counter({
    name: 'livegate_lane_frames_total',
    help: 'Room frames handed to sockets by lane (control, money, chat, ambient); a topic publish counts its subscribers',
    labelNames: ['lane'] as const,
    registers: [this.registry],
  });
  readonly laneShed = new Counter({
    name: 'livegate_lane_shed_total',
    help: 'Room frames skipped by lane and scope (connection: that socket was behind; node: node pressure, every local socket)',
    labelNames: ['lane', 'scope'] as const,
    registers: [this.registry],
  });
  readonly skipMarkers = new Counter({
    name: 'livegate_skip_markers_total',
    help: 'room:skipped markers sent to single sockets (node-wide markers count once per topic publish)',
    registers: [this.registry],
  });
  readonly laneTransitions = new Counter({
    name: 'livegate_lane_transitions_total',
    help: 'Sockets that left their room topics for one-by-one delivery (to="direct", buffer over LANE_WATCH_BYTES) or rejoined them (to="topic")',
    labelNames: ['to'] as const,
    registers: [this.registry],
  });
  readonly socketsShedding = new Gauge({
    name: 'livegate_sockets_shedding',
    help: 'Sockets over LANE_WATCH_BYTES whose room frames are weighed by lane one by one',
    registers: [this.registry],
  });
  readonly publishesRefused = new Counter({
    name: 'livegate_publishes_refused_total',
    help: 'Requests refused with `overloaded` under node pressure, by the lane they publish into',
    labelNames: ['lane'] as const,
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'livegate_connections_refused_total',
    help: 'WebSocket connections refused by reason (admission: over ADMISSION_PER_SEC, closed with 4013)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly pressureLevel = new Gauge({
    name: 'livegate_pressure_level',
    help: 'Node pressure: 0 normal, 1 elevated (ambient refused and shed), 2 critical (chat refused too)',
    registers: [this.registry],
  });
  readonly eventLoopLag = new Gauge({
    name: 'livegate_event_loop_lag_seconds',
    help: 'Event-loop delay p99 over the last LANE_CHECK_MS window (what node pressure reads)',
    registers: [this.registry],
  });
  readonly outboundBuffered = new Gauge({
    name: 'livegate_outbound_buffered_bytes',
    help: 'Bytes buffered over all sockets of the node at the last check',
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

  /** Per-lane children of the lane counters, bound once: the one-by-one delivery path counts every frame. */
  readonly laneSent = Object.fromEntries(LANES.map((lane) => [lane, this.laneFrames.labels(lane)])) as Record<Lane, Counter.Internal>;
  readonly laneShedHere = Object.fromEntries(SHEDDABLE.map((lane) => [lane, this.laneShed.labels(lane, 'connection')])) as Record<
    SheddableLane,
    Counter.Internal
  >;

  constructor(nodeId: string) {
    this.registry.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }
}
