import { Counter, Gauge, type Registry } from 'prom-client';

/** Webhook emission, delivery attempts, retries, outcomes and queue depth. */
export class WebhookMetrics {
  readonly emitted: Counter<'type' | 'outcome'>;
  readonly attempts: Counter<'type' | 'outcome'>;
  readonly retries: Counter<'type'>;
  readonly deliveries: Counter<'type' | 'outcome'>;
  readonly queueDepth: Gauge;

  constructor(registry: Registry, depth: () => Promise<number>) {
    this.emitted = new Counter({
      name: 'livegate_webhook_emitted_total',
      help: 'webhooks.emit calls by type and outcome (queued, disabled, queue_full, error)',
      labelNames: ['type', 'outcome'] as const,
      registers: [registry],
    });
    this.attempts = new Counter({
      name: 'livegate_webhook_attempts_total',
      help: 'Webhook delivery attempts by type and outcome (delivered, retry, reject)',
      labelNames: ['type', 'outcome'] as const,
      registers: [registry],
    });
    this.retries = new Counter({
      name: 'livegate_webhook_retries_total',
      help: 'Webhook deliveries scheduled for another attempt',
      labelNames: ['type'] as const,
      registers: [registry],
    });
    this.deliveries = new Counter({
      name: 'livegate_webhook_deliveries_total',
      help: 'Webhooks finished by type and outcome (delivered, failed = moved to the dead-letter stream)',
      labelNames: ['type', 'outcome'] as const,
      registers: [registry],
    });
    this.queueDepth = new Gauge({
      name: 'livegate_webhook_queue_depth',
      help: 'Undelivered webhooks in the queue (cluster-wide with Redis)',
      registers: [registry],
      async collect() {
        this.set(await depth().catch(() => -1));
      },
    });
  }
}
