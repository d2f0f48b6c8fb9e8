import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metrics of the room layer and the bus (both engines). */
export class RoomMetrics {
  readonly rooms: Gauge;
  readonly subscriptions: Gauge;
  readonly published: Counter;
  readonly publishBatch: Histogram;
  readonly received: Counter;
  readonly deliveries: Counter;
  readonly deliverLatency: Histogram;
  readonly resumes: Counter<'result'>;
  readonly duplicates: Counter;
  readonly stateOffers: Counter<'key' | 'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.rooms = new Gauge({ name: 'livegate_rooms', help: 'Rooms with at least one member on this node', registers });
    this.subscriptions = new Gauge({ name: 'livegate_bus_subscriptions', help: 'Room channels this node is subscribed to on the bus', registers });
    this.published = new Counter({ name: 'livegate_bus_published_total', help: 'Room messages this node published to the bus', registers });
    this.publishBatch = new Histogram({
      name: 'livegate_bus_publish_batch_size',
      help: 'Room messages per publish call to a Redis shard (the publishes of one event-loop iteration)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.received = new Counter({ name: 'livegate_bus_received_total', help: 'Room messages this node received from the bus', registers });
    this.deliveries = new Counter({
      name: 'livegate_room_deliveries_total',
      help: 'Room messages handed to local members (one per member of the room on this node per message)',
      registers,
    });
    this.deliverLatency = new Histogram({
      name: 'livegate_bus_deliver_latency_seconds',
      help: 'From publish (RoomMessage.ts) to local fan-out on this node',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.resumes = new Counter({
      name: 'livegate_resume_total',
      help: 'Room resumes: hit = missed events replayed, miss = beyond history (room:gap sent)',
      labelNames: ['result'] as const,
      registers,
    });
    this.duplicates = new Counter({
      name: 'livegate_resume_duplicates_dropped_total',
      help: 'Live messages a resumed member had already been sent by its replay (published while the history was read, received late on the subscription)',
      registers,
    });
    this.stateOffers = new Counter({
      name: 'livegate_room_state_updates_total',
      help: 'Keyed room state changes offered by this node (key: viewers, pk, gift_totals, top_supporters, settings): publish = sent as a frame, later = conflated (another frame went out within ROOM_STATE_INTERVAL_MS; retried when it ends), same = already published, stale = a later read was already recorded',
      labelNames: ['key', 'outcome'] as const,
      registers,
    });
  }
}
