/**
 * LivegateClient: one socket to the native `/ws` dialect that reconnects over a list of gateway URLs,
 * rejoins its rooms from their last `seq`, and sends requests exactly once (idempotency keys reused
 * across retries, a bounded offline queue). Wire: docs/PROTOCOL.md.
 */
import { fullJitter, type BackoffOptions } from './backoff.js';
import { json, type Codec, type WireData } from './codec.js';
import { Emitter } from './emitter.js';
import { clientError, LivegateError, type LivegateErrorCode } from './errors.js';
import { IDEMPOTENCY_FIELDS, type IdempotencyFields, type Requests, type ServerErrorCode, type ServerEvents } from './generated/events.js';
import { isRetrySafeJoin, RoomTracker, type GapInfo } from './rooms.js';
import { defaultSocketFactory, OPEN, type SocketFactory, type SocketLike } from './transport.js';

/** Why the token provider is called: the first connect or a reconnect, a `session:expiring` notice, or a refusal (4101/4104). */
export type TokenReason = 'connect' | 'expiring' | 'refused';
export type TokenProvider = (reason: TokenReason) => string | Promise<string>;

export interface LivegateClientOptions {
  /** Gateway WebSocket URLs (`ws://host:port` or `.../ws`); reconnects go round the list. */
  urls: string | readonly string[];
  /** A token, or a callback asked for a fresh one on every connect, before expiry and after a refusal. */
  token: string | TokenProvider;
  /** `'json'` (default) or the msgpack codec from `@livegate/client/msgpack`. */
  format?: 'json' | Codec;
  /** Default ack timeout of `request`, in ms, counted from the call, queue time included (default 10 000). */
  requestTimeoutMs?: number;
  /** How many requests may wait while disconnected (default 100); more fail with `queue_full`. */
  maxQueue?: number;
  backoff?: BackoffOptions;
  /**
   * Detects a dead connection that never closes (half-open TCP: a NAT or proxy that dropped it, a
   * sleeping laptop): after `intervalMs` without any frame from the server the client sends
   * `session:ping`; if still nothing arrives within `timeoutMs` it drops the socket and reconnects
   * (a `disconnected` event with reason `heartbeat timeout`). Default 25 000 / 10 000 ms; `false`: off.
   */
  heartbeat?: HeartbeatOptions | false;
  /** A WebSocket class to use instead of the platform's (or `ws` in Node 20). */
  WebSocket?: SocketFactory;
}

export interface HeartbeatOptions {
  /** Quiet time (no frame received) after which a `session:ping` goes out. */
  intervalMs?: number;
  /** How long after that ping a frame must arrive before the connection counts as dead. */
  timeoutMs?: number;
}

const HEARTBEAT_DEFAULTS = { intervalMs: 25_000, timeoutMs: 10_000 } as const;

export interface RequestOptions {
  /** Ack timeout in ms, counted from the call (queue time included). */
  timeout?: number;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Where a room event came from. */
export interface RoomMeta {
  room: string;
  seq: number;
}

export type SessionReady = ServerEvents['session:ready'];

export type SkippedInfo = ServerEvents['room:skipped'];

/** The client's own events, beside the server's. */
export interface ClientEvents {
  connecting: { url: string; attempt: number };
  /** `session:ready`: authenticated; rooms are being rejoined and the queue flushed. */
  connected: SessionReady;
  disconnected: { code: number; reason: string; willReconnect: boolean };
  /** Events of a room were missed and cannot be replayed: refetch its state. */
  gap: GapInfo;
  /**
   * The server skipped low-lane events of a room on purpose (`room:skipped`: chat and ambient frames
   * while this client or the node was behind); the seq jump is expected, no refetch needed. Show
   * e.g. "some chat was skipped"; money, battle and control frames are never skipped.
   */
  skipped: SkippedInfo;
  /** A server error frame without a request, a refused token refresh, a rejoin that failed. */
  error: LivegateError;
  /** A heartbeat `session:ping` was answered (the connection is alive); `rttMs` is its round trip. */
  heartbeat: { rttMs: number };
}

/** `D` with its field `K` optional (kept apart for each member of a union). */
type OptionalField<D, K> = D extends object ? Omit<D, K & keyof D> & Partial<Pick<D, K & keyof D>> : D;

/** A request's payload; the idempotency key may be left out (the client generates it). */
export type RequestData<E extends keyof Requests> = E extends keyof IdempotencyFields
  ? OptionalField<Requests[E]['data'], IdempotencyFields[E]>
  : Requests[E]['data'];

type ServerHandler<E extends string> = E extends keyof ServerEvents ? (data: ServerEvents[E], meta: RoomMeta | undefined) => void : never;

interface Entry {
  order: number;
  event: string;
  data: unknown;
  /** Safe to send again after a lost ack: it carries an idempotency key, or it is a room join. */
  retrySafe: boolean;
  /** Rejoins and token refreshes: sent only on the connection they were made for, never queued. */
  internal: boolean;
  id: number | undefined;
  tries: number;
  where: 'queued' | 'sent' | 'waiting';
  timer: ReturnType<typeof setTimeout>;
  resolve(value: unknown): void;
  reject(error: LivegateError): void;
}

interface AckFrame {
  ack: number | string;
  data?: unknown;
  error?: { code: ServerErrorCode; message: string; retryAfterMs?: number };
}

interface EventFrame {
  event: string;
  data?: unknown;
  room?: string;
  seq?: number;
}

/** Close codes after which reconnecting with the same token is pointless (docs/PROTOCOL.md, "Close codes"). */
const CLOSE_POLICY: Readonly<Record<number, 'refresh' | 'terminal' | 'later'>> = {
  // The node admits connections at its limit: reconnect after the retryAfterMs in the reason.
  4013: 'later',
  4101: 'refresh',
  4104: 'refresh',
  4102: 'terminal',
  4103: 'terminal',
  4105: 'terminal',
};

const RATE_LIMIT_WAIT = /retry in (\d+) ms/;
const CLOSE_RETRY_AFTER = /retryAfterMs=(\d+)/;

const ROOM_SKIPPED = 'room:skipped';

function newKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string; getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function socketUrl(base: string, token: string, codec: Codec): string {
  const url = new URL(base);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/ws';
  url.searchParams.set('token', token);
  url.searchParams.set('encoding', codec.name);
  return url.toString();
}

export class LivegateClient extends Emitter {
  private readonly urls: readonly string[];
  private readonly codec: Codec;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly backoff: BackoffOptions;
  private readonly factory: SocketFactory | undefined;
  private readonly heartbeat: Required<HeartbeatOptions> | undefined;
  /** When the current socket last delivered a frame (ms). */
  private lastHeard = 0;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private tokenSource: string | TokenProvider;
  private readonly tracker = new RoomTracker();
  private readonly queue: Entry[] = [];
  private readonly pending = new Map<number, Entry>();
  /** Rooms being rejoined: their events wait here until the rejoin's ack, then go out in seq order. */
  private readonly resuming = new Map<string, EventFrame[]>();

  private socket: SocketLike | undefined;
  private current: ConnectionState = 'idle';
  /** Requests go out directly only while live: after `session:ready` and the rooms were rejoined. */
  private live = false;
  private generation = 0;
  private attempt = 0;
  private urlIndex = 0;
  private nextId = 0;
  private nextOrder = 0;
  private refusals = 0;
  private moveOn = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The queued request being sent; the rest of the queue waits for its outcome. */
  private flushing: Entry | undefined;
  /** Server events the client acts on itself (the app sees them too). */
  private readonly control: Readonly<Record<string, (data: unknown) => void>> = {
    'session:ready': (data) => this.onReady(data as SessionReady),
    'session:expiring': () => void this.refreshToken(),
    // This node is going away: the next connect goes to another URL at once.
    'session:reconnect': () => (this.moveOn = true),
    'room:gap': (data) => this.onGap(data as ServerEvents['room:gap']),
    'room:skipped': (data) => this.onSkipped(data as SkippedInfo),
  };
  private ready: { promise: Promise<SessionReady>; resolve(s: SessionReady): void; reject(e: LivegateError): void } | undefined;

  constructor(options: LivegateClientOptions) {
    super();
    this.urls = typeof options.urls === 'string' ? [options.urls] : [...options.urls];
    if (this.urls.length === 0) throw new TypeError('LivegateClient: urls must name at least one gateway');
    this.codec = options.format === undefined || options.format === 'json' ? json : options.format;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.maxQueue = options.maxQueue ?? 100;
    this.backoff = options.backoff ?? {};
    this.factory = options.WebSocket;
    this.heartbeat = options.heartbeat === false ? undefined : { ...HEARTBEAT_DEFAULTS, ...options.heartbeat };
    this.tokenSource = options.token;
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Rooms the client rejoins after a reconnect. */
  rooms(): string[] {
    return this.tracker.rooms();
  }

  /** The last seq delivered for a room. */
  lastSeq(room: string): number | undefined {
    return this.tracker.seqOf(room);
  }

  /** Opens the connection (and keeps it open); resolves with the first `session:ready`. */
  connect(): Promise<SessionReady> {
    if (this.current === 'closed') return Promise.reject(clientError('closed'));
    if (this.ready) return this.ready.promise;
    let resolve!: (s: SessionReady) => void;
    let reject!: (e: LivegateError) => void;
    const promise = new Promise<SessionReady>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.ready = { promise, resolve, reject };
    if (this.current === 'idle') void this.open('connect');
    return promise;
  }

  /** Sends a request and resolves with its ack, or rejects with a LivegateError carrying a stable code. */
  request<E extends keyof Requests>(event: E, data: RequestData<E>, options?: RequestOptions): Promise<Requests[E]['ack']>;
  request(event: string, data?: unknown, options?: RequestOptions): Promise<unknown>;
  request(event: string, data: unknown = {}, options: RequestOptions = {}): Promise<unknown> {
    return this.enqueue(event, withKey(event, data), options.timeout ?? this.timeoutMs, false);
  }

  on<E extends keyof ClientEvents>(event: E, handler: (data: ClientEvents[E]) => void): this;
  on<E extends keyof ServerEvents & string>(event: E, handler: ServerHandler<E>): this;
  on(event: string, handler: (data: unknown, meta: RoomMeta | undefined) => void): this;
  on(event: string, handler: (data: never, meta: RoomMeta | undefined) => void): this {
    this.addHandler(event, handler);
    return this;
  }

  /** Removes one handler, or every handler of the event. */
  off(event: string, handler?: (data: never, meta: RoomMeta | undefined) => void): this {
    this.removeHandler(event, handler);
    return this;
  }

  /** Closes for good: no reconnect; waiting and queued requests fail with `closed`. */
  close(): void {
    if (this.current === 'closed') return;
    const socket = this.socket;
    this.shutdown(clientError('closed'));
    if (!socket) return;
    socket.close(1000, 'client closed');
    this.emit('disconnected', { code: 1000, reason: 'client closed', willReconnect: false });
  }

  // --- connection ---

  private async open(reason: TokenReason): Promise<void> {
    const generation = ++this.generation;
    const url = this.urls[this.urlIndex % this.urls.length]!;
    this.current = 'connecting';
    this.emit('connecting', { url, attempt: this.attempt });
    let socket: SocketLike;
    try {
      const token = await this.token(reason);
      const Factory = this.factory ?? (await defaultSocketFactory());
      if (generation !== this.generation || this.isClosed()) return;
      socket = new Factory(socketUrl(url, token, this.codec));
    } catch (err) {
      if (generation !== this.generation || this.isClosed()) return;
      this.emit('error', new LivegateError('unauthorized', `could not get a token or open a socket: ${(err as Error).message}`));
      this.onClose(generation, 1006, 'connect failed');
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => {
      if (generation !== this.generation) return;
      this.lastHeard = Date.now();
      this.onData(event.data as WireData);
    };
    this.watch(generation, socket);
    socket.onclose = (event) => this.onClose(generation, event.code, event.reason);
    socket.onerror = () => undefined;
  }

  private isClosed(): boolean {
    return this.current === 'closed';
  }

  private async token(reason: TokenReason): Promise<string> {
    return typeof this.tokenSource === 'string' ? this.tokenSource : await this.tokenSource(reason);
  }

  private onData(data: WireData): void {
    let frame: unknown;
    try {
      frame = this.codec.decode(data);
    } catch {
      this.emit('error', new LivegateError('bad_request', 'the server sent a frame that does not decode'));
      return;
    }
    if (frame === null || typeof frame !== 'object') return;
    if ('ack' in frame) this.onAck(frame as AckFrame);
    else if ('event' in frame) this.onEvent(frame as EventFrame);
    else if ('error' in frame) {
      const error = (frame as { error: { code: ServerErrorCode; message: string } }).error;
      this.emit('error', new LivegateError(error.code, error.message));
    }
  }

  private onEvent(frame: EventFrame): void {
    const data = frame.data;
    this.control[frame.event]?.(data);
    if (typeof frame.room === 'string' && typeof frame.seq === 'number') {
      const held = this.resuming.get(frame.room);
      if (held) {
        held.push(frame);
        return;
      }
      this.deliver(frame as EventFrame & RoomMeta);
      return;
    }
    this.emit(frame.event, data, undefined);
  }

  /** A room event: delivered unless its seq already was; a jump raises `gap` first. */
  private deliver(frame: EventFrame & RoomMeta): void {
    if (frame.event === ROOM_SKIPPED) {
      this.applySkipped(frame.data as SkippedInfo);
      return;
    }
    const delivery = this.tracker.accept(frame.room, frame.seq);
    if (!delivery.deliver) return;
    if (delivery.gap) this.emit('gap', delivery.gap);
    this.emit(frame.event, frame.data, { room: frame.room, seq: frame.seq });
  }

  private onReady(info: SessionReady): void {
    const generation = this.generation;
    this.current = 'connected';
    this.attempt = 0;
    this.refusals = 0;
    this.emit('connected', info);
    this.ready?.resolve(info);
    void this.rejoin(generation);
  }

  /** session:expiring: fetch a fresh token and swap it in place (same connection, same rooms). */
  private async refreshToken(): Promise<void> {
    if (typeof this.tokenSource === 'string') return;
    try {
      const token = await this.token('expiring');
      await this.enqueue('session:refresh', { token }, this.timeoutMs, true);
    } catch (err) {
      this.emit('error', err instanceof LivegateError ? err : new LivegateError('unauthorized', `token refresh failed: ${(err as Error).message}`));
    }
  }

  /** A skip marker; while its room is being rejoined it waits with the held frames, in seq order. */
  private onSkipped(marker: SkippedInfo): void {
    const held = this.resuming.get(marker.room);
    if (held) held.push({ event: ROOM_SKIPPED, data: marker, room: marker.room, seq: marker.toSeq });
    else this.applySkipped(marker);
  }

  private applySkipped(marker: SkippedInfo): void {
    const outcome = this.tracker.skipped(marker.room, marker.fromSeq, marker.toSeq);
    if (!outcome.apply) return;
    if (outcome.gap) this.emit('gap', outcome.gap);
    this.emit('skipped', marker);
  }

  private onGap(gap: ServerEvents['room:gap']): void {
    this.tracker.gap(gap.room, gap.latestSeq);
    this.emit('gap', { ...gap, source: 'server' });
  }

  /** Rejoins every remembered room from its last seq, then lets the queue go, in order. */
  private async rejoin(generation: number): Promise<void> {
    await Promise.all(
      this.tracker.rejoins().map(async ({ room, event, data }) => {
        this.resuming.set(room, []);
        try {
          await this.enqueue(event, data, this.timeoutMs, true);
        } catch (err) {
          if (!(err instanceof LivegateError) || generation !== this.generation) return;
          if (err.code === 'not_found' || err.code === 'forbidden') this.tracker.forget(room);
          this.emit('error', new LivegateError(err.code, `rejoin of ${room} failed: ${err.message}`, { event }));
        } finally {
          const held = generation === this.generation ? (this.resuming.get(room) ?? []) : [];
          if (generation === this.generation) this.resuming.delete(room);
          for (const frame of held.sort((x, y) => x.seq! - y.seq!)) this.deliver(frame as EventFrame & RoomMeta);
        }
      }),
    );
    if (generation !== this.generation || this.current !== 'connected') return;
    this.live = true;
    this.flush();
  }

  /**
   * The heartbeat of one socket: a `session:ping` after `intervalMs` of silence, and the socket given
   * up (reconnect) once nothing arrived for `intervalMs + timeoutMs`, the connect included.
   */
  private watch(generation: number, socket: SocketLike): void {
    clearInterval(this.heartbeatTimer);
    const beat = this.heartbeat;
    if (!beat) return;
    this.lastHeard = Date.now();
    let probing = false;
    this.heartbeatTimer = setInterval(
      () => {
        if (generation !== this.generation) return;
        const quiet = Date.now() - this.lastHeard;
        if (quiet >= beat.intervalMs + beat.timeoutMs) {
          this.giveUp(generation, socket);
          return;
        }
        if (quiet < beat.intervalMs || probing || this.current !== 'connected') return;
        probing = true;
        const sentAt = Date.now();
        this.enqueue('session:ping', { clientAt: new Date(sentAt).toISOString() }, beat.timeoutMs, true).then(
          () => {
            probing = false;
            if (generation === this.generation) this.emit('heartbeat', { rttMs: Date.now() - sentAt });
          },
          () => (probing = false),
        );
      },
      Math.max(20, Math.min(beat.intervalMs, beat.timeoutMs) / 4),
    );
  }

  /** A socket that went silent: stop listening to it, close it without waiting, reconnect. */
  private giveUp(generation: number, socket: SocketLike): void {
    socket.onmessage = socket.onclose = null;
    const ws = socket as SocketLike & { terminate?: () => void };
    try {
      if (typeof ws.terminate === 'function') ws.terminate();
      else socket.close(4000, 'heartbeat timeout');
    } catch {
      // Already closing: nothing to release.
    }
    this.onClose(generation, 1006, 'heartbeat timeout');
  }

  private onClose(generation: number, code: number, reason: string): void {
    if (generation !== this.generation) return;
    clearInterval(this.heartbeatTimer);
    this.generation++;
    this.socket = undefined;
    this.live = false;
    this.dropInFlight();
    this.resuming.clear();
    if (this.current === 'closed') {
      this.emit('disconnected', { code, reason, willReconnect: false });
      return;
    }
    const policy = CLOSE_POLICY[code];
    const refresh = policy === 'refresh' && typeof this.tokenSource === 'function' && this.refusals++ === 0;
    // 4013: the server already jittered its retry-after; without one, the usual backoff.
    const later = policy === 'later' ? Number(CLOSE_RETRY_AFTER.exec(reason)?.[1] ?? Number.NaN) : Number.NaN;
    if (policy === 'terminal' || (policy === 'refresh' && !refresh)) {
      const error = new LivegateError('closed', `closed by the server: ${code} ${reason}`, { closeCode: code });
      this.emit('disconnected', { code, reason, willReconnect: false });
      this.shutdown(error);
      return;
    }
    this.current = 'disconnected';
    this.emit('disconnected', { code, reason, willReconnect: true });
    this.urlIndex++;
    const delay = !Number.isNaN(later) ? later : this.moveOn || refresh ? fullJitter(0, this.backoff) : fullJitter(this.attempt, this.backoff);
    this.moveOn = false;
    this.attempt++;
    this.retryTimer = setTimeout(() => void this.open(refresh ? 'refused' : 'connect'), delay);
  }

  /** In-flight requests of the lost socket: retry-safe ones go back to the queue in order, others fail. */
  private dropInFlight(): void {
    const lost = [...this.pending.values()].sort((a, b) => a.order - b.order);
    this.pending.clear();
    for (const entry of lost) {
      entry.id = undefined;
      if (entry.retrySafe && !entry.internal) this.insert(entry);
      else this.settle(entry, clientError('connection_lost', entry.event));
    }
  }

  private shutdown(error: LivegateError): void {
    clearInterval(this.heartbeatTimer);
    this.current = 'closed';
    this.live = false;
    this.generation++;
    clearTimeout(this.retryTimer);
    this.ready?.reject(error);
    const all = [...this.pending.values(), ...this.queue];
    this.pending.clear();
    this.queue.length = 0;
    for (const entry of all)
      this.settle(entry, new LivegateError(error.code, `${entry.event}: ${error.message}`, { event: entry.event, closeCode: error.closeCode }));
  }

  // --- requests ---

  private enqueue(event: string, data: unknown, timeoutMs: number, internal: boolean): Promise<unknown> {
    if (this.current === 'closed') return Promise.reject(clientError('closed', event));
    return new Promise((resolve, reject) => {
      const entry: Entry = {
        order: this.nextOrder++,
        event,
        data,
        retrySafe: event in IDEMPOTENCY_FIELDS || isRetrySafeJoin(event),
        internal,
        id: undefined,
        tries: 0,
        where: 'queued',
        timer: setTimeout(() => this.expire(entry), timeoutMs),
        resolve,
        reject,
      };
      if (internal) {
        if (this.current === 'connected') this.transmit(entry);
        else this.settle(entry, clientError('connection_lost', event));
      } else if (this.live && this.queue.length === 0 && !this.flushing) this.transmit(entry);
      else if (this.queue.length >= this.maxQueue) this.settle(entry, clientError('queue_full', event));
      else this.queue.push(entry);
    });
  }

  /** Puts an accepted request back in the queue at its place (by the order it was made in). */
  private insert(entry: Entry): void {
    if (this.flushing === entry) this.flushing = undefined;
    entry.where = 'queued';
    const at = this.queue.findIndex((other) => other.order > entry.order);
    if (at === -1) this.queue.push(entry);
    else this.queue.splice(at, 0, entry);
  }

  /**
   * Sends the queue one request at a time, each after the previous one's outcome, so requests that
   * depend on each other (a join, then a chat in that room) run in the order they were made.
   */
  private flush(): void {
    if (this.flushing || !this.live) return;
    const entry = this.queue.shift();
    if (!entry) return;
    this.flushing = entry;
    this.transmit(entry);
  }

  /** The queue's head got its outcome (or went back to the queue): the next one may go. */
  private flushed(entry: Entry): void {
    if (this.flushing !== entry) return;
    this.flushing = undefined;
    this.flush();
  }

  private transmit(entry: Entry): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) {
      if (entry.internal) this.settle(entry, clientError('connection_lost', entry.event));
      else this.insert(entry);
      return;
    }
    entry.id = ++this.nextId;
    entry.where = 'sent';
    entry.tries++;
    this.pending.set(entry.id, entry);
    socket.send(this.codec.encode({ event: entry.event, id: entry.id, data: entry.data }));
  }

  private onAck(frame: AckFrame): void {
    if (typeof frame.ack !== 'number') return;
    const entry = this.pending.get(frame.ack);
    if (!entry) return;
    this.pending.delete(frame.ack);
    entry.id = undefined;
    if (!frame.error) {
      this.tracker.acked(entry.event, entry.data, frame.data);
      this.settle(entry, undefined, frame.data);
      return;
    }
    const wait = this.retryWait(entry, frame.error);
    if (wait === undefined) {
      this.settle(entry, new LivegateError(frame.error.code, frame.error.message, { event: entry.event }));
      return;
    }
    entry.where = 'waiting';
    setTimeout(() => {
      if (entry.where !== 'waiting') return;
      if (this.live || (entry.internal && this.current === 'connected')) this.transmit(entry);
      else if (entry.internal) this.settle(entry, clientError('connection_lost', entry.event));
      else this.insert(entry);
    }, wait);
  }

  /** How long to wait before sending again, when the server said the request did not run and may be retried. */
  private retryWait(entry: Entry, error: { code: LivegateErrorCode; message: string; retryAfterMs?: number }): number | undefined {
    // `overloaded`: the request did not run; the server says when to come back (jittered).
    if (error.code === 'overloaded') return error.retryAfterMs ?? fullJitter(entry.tries, this.backoff);
    if (error.code === 'rate_limited') return Number(RATE_LIMIT_WAIT.exec(error.message)?.[1] ?? fullJitter(entry.tries, this.backoff));
    if (error.code === 'unavailable' && entry.retrySafe) return fullJitter(entry.tries, this.backoff);
    return undefined;
  }

  private expire(entry: Entry): void {
    if (entry.where === 'sent' && entry.id !== undefined) this.pending.delete(entry.id);
    const index = this.queue.indexOf(entry);
    if (index !== -1) this.queue.splice(index, 1);
    this.settle(entry, clientError(entry.where === 'queued' ? 'queue_expired' : 'timeout', entry.event));
  }

  private settle(entry: Entry, error: LivegateError | undefined, value?: unknown): void {
    clearTimeout(entry.timer);
    this.flushed(entry);
    const { resolve, reject } = entry;
    entry.where = 'queued';
    entry.resolve = entry.reject = () => undefined;
    if (error) reject(error);
    else resolve(value);
  }
}

/** Adds a generated idempotency key to events that take one, unless the app gave its own. */
function withKey(event: string, data: unknown): unknown {
  const field = IDEMPOTENCY_FIELDS[event];
  if (field === undefined || data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const record = data as Record<string, unknown>;
  return record[field] === undefined ? { ...record, [field]: newKey() } : data;
}
