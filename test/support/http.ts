/** A small fetch wrapper for HTTP tests: JSON in, parsed JSON out, status and headers kept. */
import type { GatewayProcess } from './gateway.js';

export interface HttpOptions {
  token?: string | undefined;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with content-type application/json (for malformed JSON tests). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface HttpReply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function http<T = unknown>(gw: Pick<GatewayProcess, 'http'>, method: string, path: string, opts: HttpOptions = {}): Promise<HttpReply<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  let payload: string | undefined;
  if (method !== 'GET' && method !== 'DELETE') {
    if (opts.raw !== undefined) payload = opts.raw;
    else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${gw.http}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: body as T };
}

/** The `error.code` of an error reply (undefined for a success). */
export const errorCode = (reply: HttpReply): string | undefined => (reply.body as { error?: { code?: string } } | undefined)?.error?.code;
