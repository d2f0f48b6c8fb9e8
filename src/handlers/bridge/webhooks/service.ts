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
import { MemoryStreamQueue } from '../../../store/stream-queue-memory.js';
import { RedisStreamQueue } from '../../../store/stream-queue-redis.js';
import type { Batch, QueueCodec, StreamQueue } from '../../../store/stream-queue.js';
import { createLease, type Lease } from '../lease.js';
import { WebhookMetrics } from './metrics.js';
import { SourceScheduler, type QueuedWebhook } from './scheduler.js';
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
/** The queue's stream (`<stream>:dead` holds the dead letters) and consumer group. */
const STREAM = 'livegate:webhooks';
const GROUP = 'livegate-webhooks';
const DEAD_MAX = 10_000;

/** Webhooks on the store's stream queue: one JSON event per entry (field `e`). */
const webhookCodec: QueueCodec<WebhookEvent> = {
  encode: (event) => JSON.stringify(event),
  decode: (raw) => {
    const event = JSON.parse(raw) as Partial<WebhookEvent> | null;
    if (typeof event?.id !== 'string' || typeof event.type !== 'string' || typeof event.source !== 'string') throw new Error('not a webhook event');
    return event as WebhookEvent;
  },
};

/**
 * The durable queue between `emit` and delivery: a Redis Stream with a consumer group (any node
 * appends, the deliverer reads), or this process' memory. The deliverer that takes over claims
 * every entry a previous one read and never acknowledged at once (claimIdleMs 0): only the lease
 * holder reads.
 */
function webhookQueue(deps: WebhookDeps): StreamQueue<WebhookEvent> {
  const bounds = { claimIdleMs: 0, maxLength: deps.config.queueMax, deadMaxLength: DEAD_MAX };
  if (!deps.redis) return new MemoryStreamQueue<WebhookEvent>(bounds);
  const reader = deps.redis.duplicate({ connectionName: `livegate:${deps.nodeId}:webhooks` });
  reader.on('error', () => {});
  return new RedisStreamQueue(deps.redis, reader, webhookCodec, { ...bounds, stream: STREAM, group: GROUP, consumer: deps.nodeId, field: 'e' });
}

const queued = (batch: Batch<WebhookEvent>): QueuedWebhook[] => batch.entries.map((e) => ({ id: e.id, event: e.value }));

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
  return new DeliveringWebhooks(deps, receivers, config.secret, webhookQueue(deps));
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
    private readonly queue: StreamQueue<WebhookEvent>,
  ) {
    this.metrics = new WebhookMetrics(deps.registry, async () => (await queue.stats()).length);
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
          if (result.kind === 'delivered') await this.queue.ack([entry.id]);
          else await this.queue.deadLetter([{ id: entry.id, raw: webhookCodec.encode(entry.event), reason: result.reason }]);
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
          const pending = await this.recover();
          if (!live()) return;
          if (pending.length > 0) this.log.info({ count: pending.length }, 'resuming unacknowledged webhooks');
          for (const entry of pending) scheduler.add(entry);
          recovered = true;
        }
        await scheduler.room();
        if (!live()) return;
        const batch = await this.queue.next(READ_BATCH, READ_BLOCK_MS);
        await this.setAside(batch);
        if (!live()) return;
        for (const entry of queued(batch)) scheduler.add(entry);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'webhook queue read failed; retrying in 1 s');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /** Every entry a previous deliverer (this node before a restart included) read and never acknowledged, in queue order. */
  private async recover(): Promise<QueuedWebhook[]> {
    const found = new Map<string, QueuedWebhook>();
    for (let more = true; more;) {
      const batch = await this.queue.reclaim(500);
      await this.setAside(batch);
      for (const entry of queued(batch)) found.set(entry.id, entry);
      more = batch.more === true;
    }
    return [...found.values()].sort((a, b) => compareIds(a.id, b.id));
  }

  /** An entry that is not a webhook (written by hand, truncated) is set aside instead of blocking the queue. */
  private async setAside(batch: Batch<WebhookEvent>): Promise<void> {
    if (batch.bad.length === 0) return;
    this.log.warn({ ids: batch.bad.map((b) => b.id) }, 'unreadable webhook entries moved to dead letters');
    await this.queue.deadLetter(batch.bad.map((b) => ({ ...b, reason: 'unreadable entry' })));
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

/** Stream entry ids (`<ms>-<seq>`) in queue order. */
function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}
