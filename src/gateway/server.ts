/**
 * The uWS app: WebSocket routes for both dialects, the HTTP route table, local fan-out of room
 * messages through uWS topics, the slow-consumer and heartbeat sweeper, and shutdown.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, us_socket_context_t } from 'uWebSockets.js';
import type { Config } from '../config.js';
import { PRESSURE_LEVELS } from '../kernel/pressure.js';
import { BROADCAST_ROOM, USER_ROOM_PREFIX } from '../kernel/rooms.js';
import type { WireFormat } from '../kernel/session.js';
import type { RoomMessage } from '../rooms/bus.js';
import type { RoomHub } from '../rooms/hub.js';
import type { AuthMetrics } from './auth/metrics.js';
import type { TokenVerifier } from './auth.js';
import { jsonEncoder, msgpackEncoder } from './codecs/native.js';
import { sio, sioEncoder } from './codecs/socketio.js';
import type { Frame, FrameEncoder } from './codecs/types.js';
import { Connection, ROOM_SKIPPED, topicFor, type ConnectionDeps, type UserData } from './connection.js';
import { nativeDialect, type Dialect, type UpgradeInfo } from './dialects.js';
import type { Dispatcher } from './dispatcher.js';
import { HttpGuard } from './http/guard.js';
import { endResponse, requested } from './http/persistence.js';
import { mountRoutes } from './http/router.js';
import { type RouteDef } from './http/types.js';
import { InFlight } from './inflight.js';
import { isSheddable, laneOf } from './lanes.js';
import type { GatewayMetrics } from './metrics.js';
import { MultiMap } from './multi-map.js';
import type { PressureMonitor } from './pressure.js';
import { ShedPolicy } from './pressure.js';
import { KeyedLimiter, TokenBucket } from './rate-limit.js';
import { SessionLifetime } from './session-lifetime.js';
import { socketIoDialect } from './sio/dialect.js';
import type { RecoveryRooms } from './sio/recovery.js';
import type { SioSessions } from './sio/sessions.js';
import { SkipLedger } from './skips.js';
import type { Uws } from './uws.js';

export interface GatewayDeps {
  uws: Uws;
  config: Config;
  log: Logger;
  metrics: GatewayMetrics;
  verifier: TokenVerifier;
  dispatcher: Dispatcher;
  hub: RoomHub;
  routes: RouteDef[];
  authMetrics: AuthMetrics;
  /** Where Socket.IO sessions that asked for connection state recovery are recorded. */
  sioSessions: SioSessions;
  /** Node pressure (event-loop delay, send buffers); the gateway feeds it the buffered bytes. */
  pressure: PressureMonitor;
  onAuthenticated(conn: Connection): void;
  onClosed(conn: Connection, rooms: ReadonlySet<string>): void;
}

const SIO_PING_TOPIC = 'eio:ping';
const FORMATS: WireFormat[] = ['json', 'msgpack', 'sio'];
const ENCODERS: Record<WireFormat, FrameEncoder> = { json: jsonEncoder, msgpack: msgpackEncoder, sio: sioEncoder };
const SUBPROTOCOLS: Record<string, FrameEncoder> = { 'livegate.json': jsonEncoder, 'livegate.msgpack': msgpackEncoder };

export class Gateway {
  readonly app: TemplatedApp;
  readonly connections = new Set<Connection>();
  /** Authenticated connections by user id. */
  readonly byUser = new MultiMap<string, Connection>();
  private listenSocket: us_listen_socket | undefined;
  private timers: NodeJS.Timeout[] = [];
  private draining = false;
  private readonly connDeps: ConnectionDeps;
  /** Socket and HTTP requests being handled; shutdown lets them finish before closing clients. */
  readonly inflight = new InFlight();
  /** Rooms of connections with Socket.IO recovery, which get room events one by one (ConnectionDeps.directRoom). */
  private readonly directMembers = new MultiMap<string, Connection>();
  private readonly httpLimiter: KeyedLimiter;
  private readonly userLimiter: KeyedLimiter;
  private readonly lifetime: SessionLifetime;
  private readonly shed: ShedPolicy;
  /** Room frames the node skipped for every topic subscriber (node pressure), told before the room's next publish. */
  private readonly roomSkips = new SkipLedger();
  /** Admission control: new WebSocket connections per second (ADMISSION_PER_SEC, ADMISSION_BURST). */
  private readonly admission: TokenBucket;
  /** When the last refused connection was told to come back (admit). */
  private nextAdmissionSlot = 0;

  constructor(private readonly deps: GatewayDeps) {
    const { uws, config } = deps;
    this.app = uws.App();
    this.lifetime = new SessionLifetime(config.sessions, deps.authMetrics);
    this.userLimiter = new KeyedLimiter(config.rateLimit.user.perSecond, config.rateLimit.user.burst);
    this.shed = new ShedPolicy(config.overload, deps.pressure);
    this.admission = new TokenBucket(config.overload.admitPerSec, config.overload.admitBurst, Date.now());
    this.connDeps = {
      shed: this.shed,
      roomSkip: (room) => this.roomSkips.peek(room),
      config,
      metrics: deps.metrics,
      log: deps.log,
      dispatcher: deps.dispatcher,
      hub: deps.hub,
      userLimiter: this.userLimiter,
      inflight: this.inflight,
      isDraining: () => this.draining,
      onAuthenticated: (conn) => this.track(conn),
      onClosed: (conn, rooms) => this.untrack(conn, rooms),
      directRoom: (conn, room, on) => {
        if (on) this.directMembers.add(room, conn);
        else this.directMembers.delete(room, conn);
      },
      flushLater: (conn) => {
        if (this.outboxes.size === 0) setImmediate(this.flushOutboxes);
        this.outboxes.add(conn);
      },
    };
    const common = { verifier: deps.verifier, metrics: deps.metrics, log: deps.log };
    this.mountWebSocket('/ws', nativeDialect({ ...common, maxPayload: config.ws.maxPayload }), 'native');
    this.mountWebSocket(
      '/socket.io/',
      socketIoDialect({
        ...common,
        maxPayload: config.socketIo.maxPayload,
        pingIntervalMs: config.socketIo.pingIntervalMs,
        pingTimeoutMs: config.socketIo.pingTimeoutMs,
        attachments: { maxAttachments: config.socketIo.maxAttachments, maxBytes: config.socketIo.maxAttachmentBytes },
        recovery: {
          sessions: deps.sioSessions,
          rooms: this.recoveryRooms(),
          onError: (err, what) => deps.log.warn({ err: (err as Error).message, what }, 'Socket.IO recovery record failed'),
        },
      }),
      'sio',
    );
    // Engine.IO's polling transport is not served: answer its handshake the way Engine.IO does.
    this.app.get('/socket.io/*', (res, req) => {
      const persistence = requested(req.getHeader('connection'));
      res.cork(() => {
        res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json');
        endResponse(res, persistence, JSON.stringify({ code: 0, message: 'Transport unknown: only EIO=4 with transport=websocket is served' }));
      });
    });
    this.httpLimiter = new KeyedLimiter(config.http.rateLimit.perSecond, config.http.rateLimit.burst);
    const guard = new HttpGuard({ verifier: deps.verifier, serviceApiKeys: config.serviceApiKeys, limiter: this.httpLimiter, metrics: deps.metrics });
    mountRoutes(this.app, deps.routes, {
      maxBody: config.http.maxBody,
      corsOrigins: config.http.corsOrigins,
      trustProxy: config.http.trustProxy,
      metrics: deps.metrics,
      log: deps.log,
      guard,
      inflight: this.inflight,
    });
  }

  /** Connections with room frames waiting for the end of this iteration (Connection.deliverRoomFrame). */
  private readonly outboxes = new Set<Connection>();

  private readonly flushOutboxes = (): void => {
    for (const conn of this.outboxes) conn.flushRoomFrames();
    this.outboxes.clear();
  };

  /**
   * Local fan-out of one room message: encoded once per wire format that has receivers here,
   * published to the uWS topic of that format, and sent directly to the connections that get
   * the room without a topic (their own user room, the broadcast room: see Connection.ownRoomLive).
   */
  readonly fanout = (message: RoomMessage): void => {
    const meta = { room: message.room, seq: message.seq };
    const frames: Partial<Record<WireFormat, Frame>> = {};
    const frameFor = (format: WireFormat): Frame => (frames[format] ??= ENCODERS[format].event(message.event, message.data, meta));
    const lane = laneOf(message.event);
    // Under node pressure a lane may be skipped for every topic subscriber at once: no publish, one marker later.
    const skipTopics = isSheddable(lane) && this.shed.shedsEverywhere(lane);
    for (const format of FORMATS) {
      const topic = topicFor(format, message.room);
      const subscribers = this.app.numSubscribers(topic);
      if (subscribers === 0) continue;
      if (skipTopics) {
        this.deps.metrics.laneShed.inc({ lane, scope: 'node' }, subscribers);
        continue;
      }
      // Room frames queued earlier (deliverRoomFrame) go out ahead of this publish, as they were issued.
      if (this.outboxes.size > 0) this.flushOutboxes();
      this.tellRoomSkipped(message.room);
      this.publishFrame(topic, format, frameFor(format));
      this.deps.metrics.laneSent[lane].inc(subscribers);
    }
    if (skipTopics) this.roomSkips.add(message.room, message.seq, lane);
    const own = (conn: Connection): void => conn.deliverRoomFrame(message, conn.recovery ? undefined : frameFor(conn.format));
    if (message.room === BROADCAST_ROOM) {
      for (const conn of this.connections) if (conn.broadcastLive) own(conn);
    } else if (message.room.startsWith(USER_ROOM_PREFIX)) {
      for (const conn of this.byUser.get(message.room.slice(USER_ROOM_PREFIX.length))) if (conn.ownRoomLive) own(conn);
    }
    for (const conn of this.directMembers.get(message.room)) own(conn);
  };

  private publishFrame(topic: string, format: WireFormat, frame: Frame): void {
    if (typeof frame === 'string' || frame instanceof Uint8Array) this.app.publish(topic, frame, ENCODERS[format].binary);
    else for (const part of frame) this.app.publish(topic, part, ENCODERS[format].binary || typeof part !== 'string');
  }

  /** Publishes the room's `room:skipped` marker to its topics, when the node owes one. */
  private tellRoomSkipped(room: string): void {
    const marker = this.roomSkips.take(room);
    if (!marker) return;
    for (const format of FORMATS) {
      const topic = topicFor(format, room);
      if (this.app.numSubscribers(topic) === 0) continue;
      this.publishFrame(topic, format, ENCODERS[format].event(ROOM_SKIPPED, marker));
      this.deps.metrics.skipMarkers.inc();
    }
  }

  /**
   * Every LANE_CHECK_MS: each socket's send buffer decides whether it gets room frames by topic or
   * one by one, shed by lane (Connection.watch); their sum and the event-loop delay set the node's
   * pressure level; markers the node owes go out.
   */
  private checkLanes(): void {
    const { metrics, pressure } = this.deps;
    let buffered = 0;
    let shedding = 0;
    for (const conn of this.connections) {
      const ws = conn.ws;
      if (!ws || conn.closed) continue;
      const bytes = ws.getBufferedAmount();
      buffered += bytes;
      conn.watch(bytes);
      if (conn.shedding) shedding++;
    }
    const level = pressure.update(buffered);
    metrics.socketsShedding.set(shedding);
    metrics.outboundBuffered.set(buffered);
    metrics.eventLoopLag.set(pressure.lagMs / 1000);
    metrics.pressureLevel.set(PRESSURE_LEVELS.indexOf(level));
    if (this.roomSkips.size > 0) {
      if (this.outboxes.size > 0) this.flushOutboxes();
      for (const room of this.roomSkips.rooms()) this.tellRoomSkipped(room);
    }
  }

  /** What Socket.IO recovery reads of the rooms: latest seqs, and whether a history still holds what a client missed. */
  private recoveryRooms(): RecoveryRooms {
    const hub = this.deps.hub;
    const historySize = this.deps.config.rooms.historySize;
    return {
      latestSeq: async (room) => {
        const h = await hub.history(room, Number.MAX_SAFE_INTEGER);
        return h.kind === 'gap' ? h.latestSeq : 0;
      },
      resumeFrom: async (room, afterSeq) => {
        const h = await hub.history(room, afterSeq);
        if (h.kind === 'messages') return afterSeq;
        // Empty at join (0): all of it was missed, which is recoverable when none was trimmed.
        if (afterSeq === 0 && h.latestSeq - h.oldestSeq + 1 < historySize) return h.oldestSeq - 1;
        return undefined;
      },
    };
  }

  get isDraining(): boolean {
    return this.draining;
  }

  listen(): Promise<number> {
    const { host, port } = this.deps.config;
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port}`));
          return;
        }
        this.listenSocket = socket;
        this.startTimers();
        resolve(this.deps.uws.us_socket_local_port(socket));
      });
    });
  }

  /**
   * Stops accepting, lets requests in flight finish (at most `settleMs`; new ones get `unavailable`),
   * then tells every client to reconnect elsewhere and closes it with 4000.
   */
  async drain(settleMs: number): Promise<void> {
    this.draining = true;
    if (this.listenSocket) {
      this.deps.uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = undefined;
    }
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    const settled = await this.inflight.idle(settleMs);
    if (!settled) this.deps.log.warn({ inflight: this.inflight.size }, 'requests still in flight at shutdown');
    for (const conn of [...this.connections, ...this.pendingConnections]) {
      if (conn.authenticated) conn.emit('session:reconnect', { reason: 'shutdown', nodeId: this.deps.config.nodeId });
      conn.end('reconnect_elsewhere');
    }
  }

  /** Connections open but not yet authenticated (Socket.IO before CONNECT). */
  private readonly pendingConnections = new Set<Connection>();

  private track(conn: Connection): void {
    this.pendingConnections.delete(conn);
    this.connections.add(conn);
    const userId = conn.principal?.userId;
    if (!userId) return;
    this.byUser.add(userId, conn);
    this.deps.onAuthenticated(conn);
  }

  private untrack(conn: Connection, rooms: ReadonlySet<string>): void {
    this.connections.delete(conn);
    const userId = conn.principal?.userId;
    if (userId) this.byUser.delete(userId, conn);
    for (const room of rooms) this.directMembers.delete(room, conn);
    this.deps.onClosed(conn, rooms);
    // A Socket.IO client that left its namespace may CONNECT again on the same socket.
    if (!conn.closed) {
      conn.pendingSince = Date.now();
      this.pendingConnections.add(conn);
    }
  }

  private mountWebSocket(path: string, dialect: Dialect, kind: 'native' | 'sio'): void {
    const { config, metrics, log } = this.deps;
    const sioIdle = Math.ceil((config.socketIo.pingIntervalMs + config.socketIo.pingTimeoutMs) / 1000) + 4;
    this.app.ws<UserData>(path, {
      // Frames up to twice the limit are read so the client gets a typed error and a 1009 close with
      // a reason; anything larger is cut off by uWS itself (abrupt close, clients see 1006).
      maxPayloadLength: dialect.maxPayload * 2,
      idleTimeout: kind === 'native' ? config.ws.idleTimeoutSec : Math.min(960, Math.max(12, sioIdle)),
      sendPingsAutomatically: kind === 'native',
      maxBackpressure: config.ws.maxBackpressure,
      closeOnBackpressureLimit: 0,
      upgrade: (res, req, context) => this.upgrade(res, req, context, kind),
      open: (ws) => {
        const data = ws.getUserData();
        const conn = data.conn;
        conn.ws = ws;
        metrics.connections.inc({ dialect: conn.format });
        metrics.connectionsOpened.inc({ dialect: conn.format });
        if (this.draining) {
          conn.end('reconnect_elsewhere');
          return;
        }
        if (data.refusedFor !== undefined) {
          // Admission control: closed before any authentication or room work (docs/PROTOCOL.md, 4013).
          metrics.connectionsRefused.inc({ reason: 'admission' });
          conn.end('overloaded', `overloaded; retryAfterMs=${data.refusedFor}`);
          return;
        }
        this.pendingConnections.add(conn);
        if (kind === 'sio') ws.subscribe(SIO_PING_TOPIC);
        const upgrade: UpgradeInfo = { token: data.token };
        data.token = undefined;
        dialect.open(conn, upgrade);
        if (!conn.closed && log.isLevelEnabled('info'))
          log.info({ conn: conn.id, user: conn.principal?.userId, dialect: conn.format, remote: conn.remoteAddress }, 'connection open');
      },
      message: (ws, message, isBinary) => {
        const conn = ws.getUserData().conn;
        if (message.byteLength > dialect.maxPayload) {
          dialect.oversize(conn, message, isBinary);
          return;
        }
        dialect.message(conn, message, isBinary);
      },
      drain: (ws) => {
        const conn = ws.getUserData().conn;
        if (ws.getBufferedAmount() < config.ws.maxBackpressure) conn.overLimitSince = 0;
      },
      close: (ws, code, message) => {
        const conn = ws.getUserData().conn;
        this.pendingConnections.delete(conn);
        metrics.connections.dec({ dialect: conn.format });
        conn.markClosed();
        if (log.isLevelEnabled('info'))
          log.info(
            { conn: conn.id, user: conn.lastUserId, code, reason: Buffer.from(message).toString('utf8').slice(0, 120), ms: Date.now() - conn.openedAt },
            'connection closed',
          );
      },
    });
  }

  /**
   * Both dialects upgrade synchronously, inside uWS's own callback; authentication happens after
   * open (native: the token from the request; Socket.IO: the CONNECT packet).
   */
  private upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t, kind: 'native' | 'sio'): void {
    const key = req.getHeader('sec-websocket-key');
    const protocolHeader = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const query = new URLSearchParams(req.getQuery() ?? '');
    const authorization = req.getHeader('authorization');
    const token = query.get('token') ?? (authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined) ?? undefined;

    if (this.draining) {
      res.writeStatus('503 Service Unavailable').end('draining');
      return;
    }

    if (kind === 'sio') {
      if (query.get('EIO') !== '4' || query.get('transport') !== 'websocket') {
        res.cork(() =>
          res
            .writeStatus('400 Bad Request')
            .writeHeader('content-type', 'application/json')
            .end(JSON.stringify({ code: 0, message: 'Transport unknown: only EIO=4 with transport=websocket is served' })),
        );
        return;
      }
      // A sid names a polling session to upgrade; livegate serves none, so every sid is unknown (Engine.IO's answer).
      if (query.has('sid')) {
        res.cork(() =>
          res
            .writeStatus('400 Bad Request')
            .writeHeader('content-type', 'application/json')
            .end(JSON.stringify({ code: 1, message: 'Session ID unknown' })),
        );
        return;
      }
      const conn = new Connection(randomId(), sioEncoder, true, this.connDeps);
      res.upgrade<UserData>({ conn, token, refusedFor: this.admit() }, key, protocolHeader, extensions, context);
      return;
    }

    const offered = protocolHeader
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const chosenProtocol = offered.find((p) => p in SUBPROTOCOLS);
    const queryEncoding = query.get('encoding');
    const encoder = chosenProtocol ? SUBPROTOCOLS[chosenProtocol]! : queryEncoding === 'msgpack' ? msgpackEncoder : jsonEncoder;
    const fixed = chosenProtocol !== undefined || queryEncoding === 'msgpack' || queryEncoding === 'json';
    const conn = new Connection(randomId(), encoder, fixed, this.connDeps);
    // Upgrade synchronously; the native dialect verifies the token right after open.
    res.upgrade<UserData>({ conn, token, refusedFor: this.admit() }, key, chosenProtocol ?? '', extensions, context);
  }

  /**
   * Admission control: undefined when a new connection may come in, else the retry-after (ms) it is
   * closed with. Refused connections are handed successive slots at the admission rate (a storm of
   * N comes back spread over N / ADMISSION_PER_SEC seconds instead of all at once), never sooner
   * than ADMISSION_RETRY_AFTER_MS, plus up to that much jitter.
   */
  private admit(): number | undefined {
    const now = Date.now();
    if (this.admission.take(now).ok) return undefined;
    const { admitPerSec, admitRetryAfterMs } = this.deps.config.overload;
    this.nextAdmissionSlot = Math.max(now, this.nextAdmissionSlot) + 1000 / admitPerSec;
    return Math.ceil(Math.max(admitRetryAfterMs, this.nextAdmissionSlot - now) + Math.random() * admitRetryAfterMs);
  }

  private startTimers(): void {
    const { config, metrics } = this.deps;
    // Idle rate-limit buckets (HTTP clients, socket users) are dropped once they would have refilled anyway.
    this.timers.push(
      setInterval(() => {
        this.httpLimiter.sweep(Date.now());
        this.userLimiter.sweep(Date.now());
      }, 30_000),
    );
    // Engine.IO heartbeat: one publish reaches every Socket.IO socket.
    this.timers.push(setInterval(() => this.app.publish(SIO_PING_TOPIC, sio.ping, false), config.socketIo.pingIntervalMs));
    // Sweeper: slow consumers, missed heartbeats, Socket.IO sockets that never sent CONNECT.
    const sweepEvery = Math.min(1000, config.ws.slowConsumerGraceMs || 1000);
    this.timers.push(
      setInterval(() => {
        const now = Date.now();
        const heartbeatDeadline = config.socketIo.pingIntervalMs + config.socketIo.pingTimeoutMs;
        let over = 0;
        for (const conn of this.connections) {
          const ws = conn.ws;
          if (!ws || conn.closed) continue;
          if (ws.getBufferedAmount() > config.ws.maxBackpressure) {
            over++;
            if (conn.overLimitSince === 0) conn.overLimitSince = now;
          }
          if (conn.overLimitSince !== 0 && now - conn.overLimitSince >= config.ws.slowConsumerGraceMs) {
            if (ws.getBufferedAmount() > config.ws.maxBackpressure) {
              metrics.slowConsumersClosed.inc();
              conn.end('slow_consumer');
              continue;
            }
            conn.overLimitSince = 0;
          }
          if (conn.format === 'sio' && now - conn.lastHeartbeat > heartbeatDeadline) conn.end('heartbeat_timeout');
          this.lifetime.check(conn, now);
        }
        metrics.overBackpressure.set(over);
        for (const conn of this.pendingConnections) {
          // Engine.IO's heartbeat holds from the open packet on, not from CONNECT.
          if (conn.format === 'sio' && now - conn.lastHeartbeat > heartbeatDeadline) conn.end('heartbeat_timeout');
          else if (now - conn.pendingSince > Math.max(10_000, config.socketIo.pingTimeoutMs)) conn.end('unauthorized', 'no CONNECT packet in time');
        }
      }, sweepEvery),
    );
    // Socket.IO recovery records of live sessions stay for another window (a dead node's expire).
    this.timers.push(
      setInterval(
        () => {
          const pids: string[] = [];
          for (const conn of this.connections) if (conn.recovery && !conn.closed) pids.push(conn.recovery.pid);
          this.deps.sioSessions.refresh(pids).catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message }, 'Socket.IO recovery refresh failed'));
        },
        Math.max(1000, Math.floor(config.socketIo.recoveryWindowMs / 3)),
      ),
    );
    this.timers.push(setInterval(() => this.checkLanes(), config.overload.checkMs));
    for (const timer of this.timers) timer.unref();
  }
}

function randomId(): string {
  return randomBytes(12).toString('base64url');
}
