/**
 * Test clients for both dialects. NativeClient speaks the native envelope (JSON or msgpack)
 * over the `ws` package; Socket.IO tests use the official socket.io-client directly.
 */
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { msgpack } from '../../src/gateway/codecs/native.js';

export interface ServerFrame {
  ack?: number | string;
  event?: string;
  data?: unknown;
  error?: { code: string; message: string };
  room?: string;
  seq?: number;
}

export interface Closed {
  code: number;
  reason: string;
}

export class NativeClient {
  readonly frames: ServerFrame[] = [];
  private nextId = 1;
  private readonly waiters: Array<{ match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }> = [];
  readonly closed: Promise<Closed>;

  private constructor(
    readonly socket: WebSocket,
    readonly encoding: 'json' | 'msgpack',
  ) {
    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      const frame = (isBinary ? msgpack.unpack(raw) : JSON.parse(raw.toString('utf8'))) as ServerFrame;
      this.frames.push(frame);
      for (const w of [...this.waiters]) {
        if (w.match(frame)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(frame);
        }
      }
    });
    this.closed = new Promise((resolve) => socket.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
  }

  /**
   * Opens a socket; with a token, resolves once the session is ready (`session:ready`) or the token
   * was refused (then see `closed`).
   */
  static async connect(
    baseWs: string,
    opts: { token?: string; encoding?: 'json' | 'msgpack'; protocol?: string; query?: Record<string, string> } = {},
  ): Promise<NativeClient> {
    const url = new URL('/ws', baseWs);
    if (opts.token) url.searchParams.set('token', opts.token);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const socket = new WebSocket(url, opts.protocol ? [opts.protocol] : []);
    const client = new NativeClient(socket, opts.encoding ?? 'json');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    // With a token, the session is ready (the user's pushes reach this socket) once the server says
    // so, or the token was refused (an error frame, then the close the caller may check).
    if (opts.token) await Promise.race([client.waitFor((f) => f.event === 'session:ready' || (f.error !== undefined && f.ack === undefined)), client.closed]);
    return client;
  }

  sendRaw(data: string | Uint8Array): void {
    this.socket.send(data, { binary: typeof data !== 'string' });
  }

  send(event: string, data?: unknown, id?: number | string): void {
    const envelope = { event, ...(id !== undefined ? { id } : {}), ...(data !== undefined ? { data } : {}) };
    this.sendRaw(this.encoding === 'msgpack' ? msgpack.pack(envelope) : JSON.stringify(envelope));
  }

  /** Sends a request and resolves with its ack frame ({ack, data} or {ack, error}). */
  request(event: string, data: unknown = {}): Promise<ServerFrame> {
    const id = this.nextId++;
    const reply = this.waitFor((f) => f.ack === id);
    this.send(event, data, id);
    return reply;
  }

  waitFor(match: (f: ServerFrame) => boolean, timeoutMs = 10_000): Promise<ServerFrame> {
    const found = this.frames.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  waitForEvent(event: string, timeoutMs?: number): Promise<ServerFrame> {
    return this.waitFor((f) => f.event === event, timeoutMs);
  }

  close(): Promise<Closed> {
    this.socket.close();
    return this.closed;
  }
}

export function sioConnect(baseHttp: string, auth: Record<string, unknown>, opts: { reconnection?: boolean } = {}): Socket {
  return io(baseHttp, { transports: ['websocket'], auth, reconnection: opts.reconnection ?? false, forceNew: true });
}

/** Resolves on connect, rejects with the connect_error. */
export function sioConnected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}
