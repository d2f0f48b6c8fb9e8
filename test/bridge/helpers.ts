/** Test-side backend: calls to the server API, and clients that record every event they receive. */
import type { Socket } from 'socket.io-client';
import { sioConnect, sioConnected } from '../support/clients.js';

export const API_KEY = 'bridge-test-key-0123456789';

export interface ApiReply<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export async function api<T = Record<string, unknown>>(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = { 'x-api-key': API_KEY },
): Promise<ApiReply<T>> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

export interface Received {
  event: string;
  data: unknown;
  meta: unknown;
}

/** A Socket.IO client that keeps every event it receives, in order. */
export class RecordingSio {
  readonly received: Received[] = [];
  private waiters: Array<{ match: (r: Received) => boolean; resolve: (r: Received) => void }> = [];

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string, data: unknown, meta: unknown) => {
      const r = { event, data, meta };
      this.received.push(r);
      for (const w of [...this.waiters]) {
        if (w.match(r)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(r);
        }
      }
    });
  }

  static async connect(baseHttp: string, token: string): Promise<RecordingSio> {
    const socket = sioConnect(baseHttp, { token });
    const client = new RecordingSio(socket);
    await sioConnected(socket);
    return client;
  }

  waitFor(match: (r: Received) => boolean, timeoutMs = 10_000): Promise<Received> {
    const found = this.received.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event in ${timeoutMs} ms; got ${JSON.stringify(this.received.slice(-5))}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  count(event: string): number {
    return this.received.filter((r) => r.event === event).length;
  }

  close(): void {
    this.socket.close();
  }
}

/** Reads one counter or gauge value from /metrics text. */
export async function metric(base: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(new URL('/metrics', base))).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labelText = m[3] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[4]);
  }
  return sum;
}
