/**
 * Outbound webhooks: what livegate tells the backend. Other modules call
 * `core.webhooks.emit(type, data, source)`; delivery is durable, signed and retried
 * (see docs/BRIDGE.md).
 */

/** Every webhook type; WEBHOOK_EVENTS selects a subset. */
export const WEBHOOK_TYPES = [
  'user.online',
  'user.offline',
  'livestream.started',
  'livestream.ended',
  'livestream.viewer_milestone',
  'gift.sent',
  'pk_battle.ended',
  'message.offline',
] as const;

export type WebhookType = (typeof WEBHOOK_TYPES)[number];

export const isWebhookType = (value: string): value is WebhookType => (WEBHOOK_TYPES as readonly string[]).includes(value);

/** The JSON body a receiver gets (signed; see signature.ts). */
export interface WebhookEvent {
  /** Unique per event; stays the same across retries (receivers deduplicate on it). */
  id: string;
  type: WebhookType;
  /**
   * The ordering key: events of one source are delivered one at a time, in the order emitted
   * (e.g. `user:<id>`, `livestream:<id>`). Defaults to the type.
   */
  source: string;
  /** ISO time of emission. */
  createdAt: string;
  data: Record<string, unknown>;
}

/** What domain modules see: fire and forget, never blocks, never throws. */
export interface WebhookSink {
  emit(type: WebhookType, data: Record<string, unknown>, source?: string): void;
  /** Whether `type` is delivered at all (skip bookkeeping that only feeds a webhook). */
  isEnabled(type: WebhookType): boolean;
}
