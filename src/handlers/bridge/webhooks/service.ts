/**
 * The webhook service: `emit` appends to the durable queue (never awaited by the caller); the one
 * node holding the deliverer lease reads the queue and delivers through the per-source scheduler.
 * Built by the composition root (app.ts) and handed to every module as `core.webhooks`.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { WebhookConfig } from '../../../config.js';
import { WEBHOOK_TYPES, type WebhookEvent, type WebhookSink, type WebhookType } from '../../../kernel/webhooks.js';
import { createLease, type Lease } from '../lease.js';
import { WebhookMetrics } from './metrics.js';
import { MemoryWebhookQueue } from './queue-memory.js';
import { RedisWebhookQueue } from './queue-redis.js';
import type { QueuedWebhook, WebhookQueue } from './queue.js';
import { SourceScheduler } from './scheduler.js';
import { postWebhook } from './sender.js';

export interface WebhookService extends WebhookSink {
  start(): void;
  stop(): Promise<void>;
}

export interface WebhookDeps {
  config: WebhookConfig;
  nodeId: string;
  log: Logger;
  registry: Registry;
  redis: Redis | undefined;
}

const READ_BATCH = 100;
const READ_BLOCK_MS = 1000;
const LEASE_KEY = 'livegate:webhooks:deliverer';

export function createWebhooks(deps: WebhookDeps): WebhookService {
  const { config } = deps;
  const receivers = new Map<WebhookType, string>();
  for (const type of WEBHOOK_TYPES) {
    const url = config.urls[type] ?? config.url;
    if (url && (config.events.length === 0 || config.events.includes(type))) receivers.set(type, url);
  }
  if (receivers.size === 0 || !config.secret) {
    const metrics = new WebhookMetrics(deps.registry, async () => 0);
    return {
      isEnabled: () => false,
      emit: (type) => metrics.emitted.inc({ type, outcome: 'disabled' }),
      start: () => {},
      stop: async () => {},
    };
  }
  const queue: WebhookQueue = deps.redis ? new RedisWebhookQueue(deps.redis, deps.nodeId, config.queueMax) : new MemoryWebhookQueue(config.queueMax);
  return new DeliveringWebhooks(deps, receivers, config.secret, queue);
}

class DeliveringWebhooks implements WebhookService {
  private readonly metrics: WebhookMetrics;
  private readonly lease: Lease;
  private readonly log: Logger;
  /** Bumped whenever delivery starts or stops, so a stale read loop ends. */
  private generation = 0;
  private scheduler: SourceScheduler | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: WebhookDeps,
    private readonly receivers: Map<WebhookType, string>,
    private readonly secret: string,
    private readonly queue: WebhookQueue,
  ) {
    this.metrics = new WebhookMetrics(deps.registry, () => queue.depth());
    this.lease = createLease(deps.redis, LEASE_KEY, deps.nodeId, deps.log);
    this.log = deps.log.child({ component: 'webhooks' });
  }

  isEnabled(type: WebhookType): boolean {
    return this.receivers.has(type);
  }

  emit(type: WebhookType, data: Record<string, unknown>, source: string = type): void {
    if (!this.receivers.has(type)) {
      this.metrics.emitted.inc({ type, outcome: 'disabled' });
      return;
    }
    const event: WebhookEvent = { id: randomUUID(), type, source, createdAt: new Date().toISOString(), data };
    this.queue.append(event).then(
      (queued) => {
        this.metrics.emitted.inc({ type, outcome: queued ? 'queued' : 'queue_full' });
        if (!queued) this.log.warn({ type, source, id: event.id }, 'webhook queue full; event refused');
      },
      (err: unknown) => {
        this.metrics.emitted.inc({ type, outcome: 'error' });
        this.log.error({ err: (err as Error).message, type, source, id: event.id }, 'webhook not queued');
      },
    );
  }

  start(): void {
    this.lease.start((held) => (held ? this.begin() : this.end()));
  }

  async stop(): Promise<void> {
    await this.lease.stop();
    this.end();
    await this.loop;
    await this.queue.close();
  }

  private begin(): void {
    this.end();
    const generation = ++this.generation;
    const { config } = this.deps;
    const scheduler = new SourceScheduler(
      {
        concurrency: config.concurrency,
        retryBaseMs: config.retryBaseMs,
        retryMaxMs: config.retryMaxMs,
        maxAttempts: config.maxAttempts,
        maxBacklog: READ_BATCH * 10,
      },
      {
        attempt: (entry, attempt) => this.attempt(entry, attempt),
        finished: async (entry, result) => {
          if (result.kind === 'delivered') await this.queue.ack(entry);
          else await this.queue.deadLetter(entry, result.reason);
          this.metrics.deliveries.inc({ type: entry.event.type, outcome: result.kind === 'delivered' ? 'delivered' : 'failed' });
          if (result.kind === 'dead')
            this.log.warn({ id: entry.event.id, type: entry.event.type, attempts: result.attempts, reason: result.reason }, 'webhook moved to dead letters');
          else this.log.debug({ id: entry.event.id, type: entry.event.type, attempts: result.attempts }, 'webhook delivered');
        },
        retrying: (entry, attempt, delayMs, reason) => {
          this.metrics.retries.inc({ type: entry.event.type });
          this.log.info({ id: entry.event.id, type: entry.event.type, source: entry.event.source, attempt, delayMs, reason }, 'webhook retry scheduled');
        },
      },
    );
    this.scheduler = scheduler;
    this.loop = this.read(generation, scheduler);
  }

  private end(): void {
    this.generation++;
    this.scheduler?.stop();
    this.scheduler = undefined;
  }

  private async read(generation: number, scheduler: SourceScheduler): Promise<void> {
    const live = (): boolean => generation === this.generation;
    let recovered = false;
    while (live()) {
      try {
        if (!recovered) {
          const pending = await this.queue.recover();
          if (!live()) return;
          if (pending.length > 0) this.log.info({ count: pending.length }, 'resuming unacknowledged webhooks');
          for (const entry of pending) scheduler.add(entry);
          recovered = true;
        }
        await scheduler.room();
        if (!live()) return;
        const entries = await this.queue.read(READ_BATCH, READ_BLOCK_MS);
        if (!live()) return;
        for (const entry of entries) scheduler.add(entry);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'webhook queue read failed; retrying in 1 s');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private async attempt(entry: QueuedWebhook, attempt: number) {
    const url = this.receivers.get(entry.event.type);
    const outcome = url
      ? await postWebhook(url, this.secret, entry.event, attempt, this.deps.config.timeoutMs)
      : ({ kind: 'reject', reason: `type ${entry.event.type} is no longer configured` } as const);
    this.metrics.attempts.inc({ type: entry.event.type, outcome: outcome.kind });
    return outcome;
  }
}
