import type { WebhookEvent } from '../../../kernel/webhooks.js';

/** One queued webhook; `id` is the queue's own id (stream entry id), `event.id` the event's. */
export interface QueuedWebhook {
  id: string;
  event: WebhookEvent;
}

/**
 * The durable queue between `emit` and delivery. Engines: memory-queue.ts (single node, lost on
 * restart) and redis-queue.ts (a Redis Stream with a consumer group).
 */
export interface WebhookQueue {
  /** Appends in emission order; resolves false when the queue is full (nothing appended). */
  append(event: WebhookEvent): Promise<boolean>;
  /**
   * Called when this node becomes the deliverer: the entries read by a previous deliverer and
   * never acknowledged come first, in queue order.
   */
  recover(): Promise<QueuedWebhook[]>;
  /** Up to `max` entries never handed out before, in queue order; waits up to `blockMs` for one. */
  read(max: number, blockMs: number): Promise<QueuedWebhook[]>;
  /** The entry is done (delivered): removed from the queue. */
  ack(entry: QueuedWebhook): Promise<void>;
  /** The entry gave up (out of attempts, or refused by the receiver): moved aside for inspection, removed from the queue. */
  deadLetter(entry: QueuedWebhook, reason: string): Promise<void>;
  /** Undelivered entries (including those being delivered). */
  depth(): Promise<number>;
  close(): Promise<void>;
}
