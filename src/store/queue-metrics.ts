import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueueStats, StreamQueue } from './stream-queue.js';

/** The write pipeline's metrics; queue length and lag are read from the engine at scrape time. */
export class QueueMetrics {
  readonly enqueued: Counter<'engine'>;
  readonly batchOps: Histogram;
  readonly writeDuration: Histogram<'collection'>;
  readonly ops: Counter<'result'>;
  readonly retries: Counter;
  readonly failures: Counter<'reason'>;

  constructor(registry: Registry, engine: Pick<StreamQueue<unknown>, 'name' | 'stats'>) {
    // Both gauges of one scrape share a single read of the engine (never an older one).
    let inFlight: Promise<QueueStats> | undefined;
    const stats = (): Promise<QueueStats> => {
      inFlight ??= engine.stats().finally(() => (inFlight = undefined));
      return inFlight;
    };
    new Gauge({
      name: 'livegate_write_queue_length',
      help: 'Queued write entries not yet applied to MongoDB (Redis engine: cluster-wide)',
      labelNames: ['engine'] as const,
      registers: [registry],
      async collect() {
        const s = await stats().catch(() => undefined);
        if (s) this.set({ engine: engine.name }, s.length);
      },
    });
    new Gauge({
      name: 'livegate_write_queue_lag_seconds',
      help: 'Age of the oldest queued write not yet applied (0 when the queue is empty)',
      labelNames: ['engine'] as const,
      registers: [registry],
      async collect() {
        const s = await stats().catch(() => undefined);
        if (s) this.set({ engine: engine.name }, s.oldestAgeMs / 1000);
      },
    });
    this.enqueued = new Counter({
      name: 'livegate_write_enqueued_total',
      help: 'Write operations queued by this node',
      labelNames: ['engine'] as const,
      registers: [registry],
    });
    this.batchOps = new Histogram({
      name: 'livegate_write_batch_ops',
      help: 'Operations per writer batch',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers: [registry],
    });
    this.writeDuration = new Histogram({
      name: 'livegate_write_duration_seconds',
      help: 'MongoDB bulkWrite latency per collection batch (successful attempts)',
      labelNames: ['collection'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.ops = new Counter({
      name: 'livegate_write_ops_total',
      help: "Operations applied by this node's writer by result (applied, stale = duplicate key or older version, superseded = coalesced away, dead)",
      labelNames: ['result'] as const,
      registers: [registry],
    });
    this.retries = new Counter({
      name: 'livegate_write_retries_total',
      help: 'Batch attempts that failed transiently (MongoDB unreachable) and were retried',
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'livegate_write_failures_total',
      help: 'Writer failures by reason (mongodb, queue, rejected op, bad entry, not held: entries no longer held by this writer, taken over by another or gone with a Redis that lost its data; abandoned: a part-written batch whose entries were no longer held)',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
  }
}
