/** The WebSocket class: the platform's (browsers, Node 22+), else the `ws` package (Node 20). */

/** The part of the WebSocket API the client uses; browsers' and `ws`'s both fit. */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | ArrayBuffer | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = new (url: string) => SocketLike;

export const OPEN = 1;

let cached: Promise<SocketFactory> | undefined;

export function defaultSocketFactory(): Promise<SocketFactory> {
  const native = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof native === 'function') return Promise.resolve(native as SocketFactory);
  // A variable specifier keeps bundlers from pulling `ws` into browser builds.
  const name = 'ws';
  cached ??= import(/* @vite-ignore */ name).then((mod: { default?: unknown; WebSocket?: unknown }) => (mod.WebSocket ?? mod.default) as SocketFactory);
  return cached;
}
