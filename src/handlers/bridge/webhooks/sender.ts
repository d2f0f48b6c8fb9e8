import { SIGNATURE_HEADER, signWebhook } from '../../../kernel/signature.js';
import type { WebhookEvent } from '../../../kernel/webhooks.js';
import type { AttemptOutcome } from './scheduler.js';

/** Statuses worth retrying; any other non-2xx means the receiver refused the event for good. */
const RETRYABLE = new Set([408, 425, 429]);

/**
 * One signed POST. The signature is computed per attempt (fresh timestamp), so a receiver's
 * replay window applies to each attempt, not to the age of the event.
 */
export async function postWebhook(url: string, secret: string, event: WebhookEvent, attempt: number, timeoutMs: number): Promise<AttemptOutcome> {
  const body = JSON.stringify(event);
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'livegate-webhooks/1',
        'x-livegate-event': event.type,
        'x-livegate-delivery': event.id,
        'x-livegate-attempt': String(attempt),
        [SIGNATURE_HEADER]: signWebhook(secret, body),
      },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { kind: 'delivered' };
    if (res.status >= 500 || RETRYABLE.has(res.status)) return { kind: 'retry', reason: `status ${res.status}` };
    return { kind: 'reject', reason: `status ${res.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { kind: 'retry', reason: cause ?? (err as Error).name ?? 'network error' };
  }
}
