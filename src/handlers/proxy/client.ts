/**
 * One signed POST to the backend, classified. The signature is the webhooks' recipe
 * (src/kernel/signature.ts): `x-livegate-signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * The timeout covers the whole exchange, body included; the body is read up to a bound.
 */
import { SIGNATURE_HEADER, signWebhook } from '../../kernel/signature.js';
import type { ProxyRequestBody } from './schemas.js';

export type CallOutcome =
  /** The backend answered 2xx or 4xx with a JSON body. */
  | { kind: 'answered'; status: number; body: unknown }
  /** No answer in time. */
  | { kind: 'timeout' }
  /** Connection refused, reset, DNS, TLS: the backend is not there. */
  | { kind: 'unreachable'; reason: string }
  | { kind: 'server_error'; status: number }
  /** Something that is not the contract: not JSON, too large, a 4xx without a JSON body, a redirect. */
  | { kind: 'bad_reply'; reason: string };

export interface ProxyTarget {
  url: string;
  secret: string;
  timeoutMs: number;
  maxReplyBytes: number;
}

export async function callBackend(target: ProxyTarget, request: ProxyRequestBody): Promise<CallOutcome> {
  const body = JSON.stringify(request);
  const signal = AbortSignal.timeout(target.timeoutMs);
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'livegate-proxy/1',
        'x-livegate-event': request.event,
        'x-livegate-delivery': request.id,
        [SIGNATURE_HEADER]: signWebhook(target.secret, body),
      },
      signal,
      redirect: 'manual',
    });
    if (res.status >= 500) {
      await res.body?.cancel().catch(() => undefined);
      return { kind: 'server_error', status: res.status };
    }
    const text = await readBounded(res, target.maxReplyBytes);
    if (text === undefined) return { kind: 'bad_reply', reason: `reply larger than ${target.maxReplyBytes} bytes` };
    if (res.status < 200 || (res.status >= 300 && res.status < 400)) return { kind: 'bad_reply', reason: `status ${res.status}` };
    try {
      return { kind: 'answered', status: res.status, body: JSON.parse(text) as unknown };
    } catch {
      return { kind: 'bad_reply', reason: `status ${res.status} with a body that is not JSON` };
    }
  } catch (err) {
    if (signal.aborted) return { kind: 'timeout' };
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { kind: 'unreachable', reason: cause ?? (err as Error).message };
  }
}

/** The body as text, or undefined once it exceeds `max` bytes (the rest is not read). */
async function readBounded(res: Response, max: number): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
