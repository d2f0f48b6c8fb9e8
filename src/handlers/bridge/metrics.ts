import { Counter, type Registry } from 'prom-client';

/** Server publishes and the emitter relay, on the gateway registry. */
export class BridgeMetrics {
  readonly publishes: Counter<'kind' | 'outcome'>;
  readonly publishNodes: Counter<'kind'>;
  readonly emitter: Counter<'op' | 'outcome'>;

  constructor(registry: Registry) {
    this.publishes = new Counter({
      name: 'livegate_bridge_publishes_total',
      help: 'Server publishes by target kind (user, users, room, all, batch, emitter) and outcome (accepted, refused)',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    });
    this.publishNodes = new Counter({
      name: 'livegate_bridge_publish_nodes_total',
      help: 'Sum of the nodes that took each accepted server publish (the bus reply)',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
    this.emitter = new Counter({
      name: 'livegate_bridge_emitter_messages_total',
      help: '@socket.io/redis-emitter messages by operation and outcome (relayed, ignored, refused, unsupported)',
      labelNames: ['op', 'outcome'] as const,
      registers: [registry],
    });
  }
}
