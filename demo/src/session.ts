/**
 * Signing in (the development token endpoint) and the one LivegateClient of the page, with untyped
 * `call` / `listen` wrappers: the page reads payloads defensively (wire.ts) rather than by the
 * generated types, which follow the server's renames.
 */
import { LivegateClient, type LivegateError } from '@livegate/client';
import type { Json } from './wire.js';

export interface Me {
  userId: string;
  name: string;
  token: string;
}

/** A user id from a display name: what the dev token endpoint accepts ([A-Za-z0-9_.:-]{1,64}). */
export function userIdFor(name: string): string {
  const id = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return id || `guest-${Math.random().toString(36).slice(2, 8)}`;
}

export async function devToken(userId: string, name: string): Promise<Me> {
  const res = await fetch('/api/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, name }) });
  const body = (await res.json()) as Json;
  if (!res.ok) {
    const error = (body['error'] ?? {}) as Json;
    throw new Error(`sign-in refused: ${String(error['message'] ?? res.status)}`);
  }
  return { userId: String(body['userId']), name: String(body['name']), token: String(body['token']) };
}

export class Session {
  readonly client: LivegateClient;

  constructor(public me: Me) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.client = new LivegateClient({
      urls: [`${scheme}://${location.host}/ws`],
      // A fresh token on every connect after the first, and before the current one expires.
      token: async (reason) => {
        if (reason !== 'connect') this.me = await devToken(this.me.userId, this.me.name);
        return this.me.token;
      },
      requestTimeoutMs: 15_000,
    });
  }

  call<T = Json>(event: string, data: unknown = {}): Promise<T> {
    return this.client.request(event, data) as Promise<T>;
  }

  listen(event: string, handler: (data: Json) => void): void {
    this.client.on(event, (data: unknown) => handler((data ?? {}) as Json));
  }

  /** HTTP with the session's token (the stream list). */
  async http<T = Json>(path: string): Promise<T> {
    const res = await fetch(path, { headers: { authorization: `Bearer ${this.me.token}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return (await res.json()) as T;
  }
}

export function errorText(err: unknown): string {
  const e = err as Partial<LivegateError> & { message?: string };
  return e.code ? `${e.code}: ${e.message ?? ''}` : String(e.message ?? err);
}
