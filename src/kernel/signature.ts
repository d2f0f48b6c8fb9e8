/**
 * HMAC-SHA256 signatures of livegate's outbound requests: the webhooks and the event proxy (docs/BRIDGE.md).
 * Webhook signatures: `x-livegate-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * Receivers verify with `verifyWebhookSignature` (or the same steps in their language):
 *   1. parse t and every v1 from the header,
 *   2. refuse if |now - t| exceeds the tolerance (replay window, default 300 s),
 *   3. compute the HMAC over `${t}.${rawBody}` (the exact bytes received, before JSON parsing),
 *   4. compare with each v1 in constant time; any match is valid (several v1 allow secret rotation).
 * The event id in the body is stable across retries: deduplicate on it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-livegate-signature';
export const DEFAULT_TOLERANCE_SEC = 300;

export type SignatureFailure = 'missing' | 'malformed' | 'too_old' | 'in_future' | 'mismatch';
export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: SignatureFailure };

function hmacHex(secret: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The header value for `body` signed at `timestamp` (unix seconds). */
export function signWebhook(secret: string, body: string | Uint8Array, timestamp: number = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

export interface VerifyOptions {
  /** Accepted clock distance in seconds (both directions). */
  toleranceSec?: number;
  /** Now, in unix seconds (tests). */
  now?: number;
}

export function verifyWebhookSignature(secret: string, body: string | Uint8Array, header: string | undefined, opts: VerifyOptions = {}): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing' };
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, reason: 'malformed' };
  const tolerance = opts.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (now - timestamp > tolerance) return { ok: false, reason: 'too_old' };
  if (timestamp - now > tolerance) return { ok: false, reason: 'in_future' };
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  // Check every candidate (no early exit) so timing does not reveal which one matched.
  let match = false;
  for (const candidate of signatures) match = timingSafeEqual(candidate, expected) || match;
  return match ? { ok: true, timestamp } : { ok: false, reason: 'mismatch' };
}
