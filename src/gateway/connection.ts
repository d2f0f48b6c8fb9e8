import type { Logger } from 'pino';
import type { WebSocket } from 'uWebSockets.js';
import type { Config } from '../config.js';
import { AppError, toErrorBody } from '../kernel/errors.js';
import { BROADCAST_ROOM, userRoom } from '../kernel/rooms.js';
import type { Principal, WireFormat, Session } from '../kernel/session.js';
import type { RoomMessage } from '../rooms/bus.js';
import type { ReplayResult, RoomHub, RoomMember } from '../rooms/hub.js';
import { RoomSet } from '../rooms/room-set.js';
import { CLOSE_CODES, type CloseReason } from './close-codes.js';
import { sio } from './codecs/socketio.js';
import type { FrameEncoder, Frame, InboundRequest } from './codecs/types.js';
import type { Dispatcher } from './dispatcher.js';
import type { HandlerContext } from './handler.js';
import type { InFlight } from './inflight.js';
import { directLane, isSheddable, laneOf, requestLane, type Lane } from './lanes.js';
import type { GatewayMetrics } from './metrics.js';
import type { ShedPolicy } from './pressure.js';
import { TokenBucket, type KeyedLimiter } from './rate-limit.js';
import type { SioRecovery } from './sio/recovery.js';
import { SkipLedger, type SkipRange } from './skips.js';

export interface UserData {
  conn: Connection;
  /** The token the upgrade request carried; cleared (not deleted: that would slow the object) once read. */
  token: string | undefined;
  /** Set when admission control refused the connection: the retry-after (ms) of its 4013 close. */
  refusedFor: number | undefined;
}

/** The uWS send status codes (see uWebSockets.js docs: send()). */
const SEND_BACKPRESSURE = 0;
const SEND_DROPPED = 2;

/** How long a Socket.IO client has to close the socket itself after a server DISCONNECT (`41`). */
const SIO_DISCONNECT_GRACE_MS = 1000;

export interface ConnectionDeps {
  config: Config;
  metrics: GatewayMetrics;
  log: Logger;
  dispatcher: Dispatcher;
  hub: RoomHub;
  /** Per-user token buckets, shared by all of a user's connections on this node. */
  userLimiter: KeyedLimiter;
  inflight: InFlight;
  /** True once the node is shutting down: new requests are refused with `unavailable`. */
  isDraining(): boolean;
  /** Called once the connection is authenticated (native: on open; Socket.IO: on CONNECT). */
  onAuthenticated(conn: Connection): void;
  /** Called once when an authenticated connection goes away (closed, or its Socket.IO namespace left). */
  onClosed(conn: Connection, rooms: ReadonlySet<string>): void;
  /**
   * A connection with Socket.IO recovery joined (`on`) or left a room: such connections get room
   * events through Gateway.fanout one by one (each frame carries their own offset), not through
   * a uWS topic.
   */
  directRoom(conn: Connection, room: string, on: boolean): void;
  /** Asks for flushRoomFrames() at the end of this event-loop iteration. */
  flushLater(conn: Connection): void;
  /** Priority lanes: which frames are skipped, which publishes refused (node pressure, send buffers). */
  shed: ShedPolicy;
  /** What the node skipped of a room for all its topic subscribers and has not told them yet. */
  roomSkip(room: string): SkipRange | undefined;
}

/** A room frame waiting for the end of the iteration: the message (lane, seq) and its shared encoding (none under Socket.IO recovery). */
interface RoomDelivery {
  message: RoomMessage;
  frame: Frame | undefined;
}

export const ROOM_SKIPPED = 'room:skipped';

/** A connection's rooms; joins and leaves are told to its Socket.IO recovery record, if it has one. */
class ConnectionRooms extends RoomSet {
  recovery: SioRecovery | undefined;

  override add(room: string): this {
    if (this.has(room)) return this;
    super.add(room);
    this.recovery?.joined(room);
    return this;
  }

  override delete(room: string): boolean {
    const had = super.delete(room);
    if (had) this.recovery?.left(room);
    return had;
  }
}

/** How a Socket.IO connection with recovery starts: its recovery state, and the rooms it gets back. */
export interface RecoveryStart {
  recovery: SioRecovery;
  /** Rooms recovered, each with the seq after which the client missed events. */
  resumeAt: ReadonlyMap<string, number> | undefined;
}

/**
 * One client socket, whatever its dialect: rooms, rate limits, backpressure, request handling.
 * The dialect-specific framing lives in ./dialects.
 *
 * Memory: an idle connection is most of what a node holds, so what is not needed until the
 * client sends something (rate-limit bucket, handler context) is made on first use, and the two
 * rooms every connection is in are delivered by the gateway without a uWS topic (see
 * `ownRoomLive`): a topic subscription costs uWS about 0.2 KB per socket and a topic of its own
 * (the user room) about 0.4 KB.
 */
export class Connection implements RoomMember {
  readonly rooms = new ConnectionRooms();
  ws: WebSocket<UserData> | undefined;
  principal: Principal | undefined;
  closed = false;
  /** When the send buffer first went over the backpressure limit (0 = not over). */
  overLimitSince = 0;
  /** Socket.IO: last pong (set on open); native: unused. */
  lastHeartbeat = 0;
  readonly openedAt = Date.now();
  /** Since when the connection waits for authentication (open, or a Socket.IO namespace left). */
  pendingSince = this.openedAt;
  /** The token `exp` that `session:expiring` was sent for (0: none yet); see SessionLifetime. */
  expiryNoticeFor = 0;
  /**
   * The rooms this connection receives without a uWS topic: its own user room and the broadcast
   * room. The hub still sees ordinary membership and calls subscribeTopic/unsubscribeTopic (e.g.
   * around a resume); these flags are that "topic", and Gateway.fanout honours them.
   */
  ownRoomLive = false;
  broadcastLive = false;
  /** The user this connection was last authenticated as (kept after a Socket.IO namespace is left, for logs). */
  lastUserId: string | undefined;
  /** `user:<id>` of the principal, once authenticated. */
  private ownRoom: string | undefined;
  /** Room frames of this iteration waiting for flushRoomFrames (see deliverRoomFrame). */
  private outbox: RoomDelivery[] | undefined;
  /** Room frames skipped by lane and not yet told (`room:skipped`); made on the first skip. */
  private skips: SkipLedger | undefined;
  /**
   * While the send buffer is over LANE_WATCH_BYTES: the rooms taken off their uWS topics, whose
   * frames come one by one through deliverRoomFrame (and so can be shed by lane). See watch().
   */
  private watched: Set<string> | undefined;
  /** Made on the first request. */
  private bucket: TokenBucket | undefined;
  private context: HandlerContext | undefined;

  constructor(
    readonly id: string,
    public encoder: FrameEncoder,
    /** True when the client chose the encoding explicitly (subprotocol or query). */
    readonly formatFixed: boolean,
    private readonly deps: ConnectionDeps,
  ) {}

  /** The peer address, for logs; read from the socket when asked (undefined before open and after close). */
  get remoteAddress(): string | undefined {
    return this.ws && !this.closed ? Buffer.from(this.ws.getRemoteAddressAsText()).toString() : undefined;
  }

  get format(): WireFormat {
    return this.encoder.name;
  }

  get authenticated(): boolean {
    return this.principal !== undefined;
  }

  /** Socket.IO connection state recovery of this connection, when the client asked for it. */
  get recovery(): SioRecovery | undefined {
    return this.rooms.recovery;
  }

  /**
   * Marks the connection authenticated and joins the user's own room and `broadcast`; a recovered
   * Socket.IO session instead gets back the rooms it had, with what it missed in them.
   */
  authenticate(principal: Principal, start?: RecoveryStart): void {
    this.principal = principal;
    this.lastUserId = principal.userId;
    this.ownRoom = userRoom(principal.userId);
    this.rooms.recovery = start?.recovery;
    const resumeAt = start?.resumeAt;
    if (resumeAt) {
      for (const [room, seq] of resumeAt) start.recovery.seed(room, seq);
      for (const [room, seq] of resumeAt)
        this.resumeRoom(room, seq).catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message, conn: this.id, room }, 'recovery replay failed'));
    }
    for (const room of [this.ownRoom, BROADCAST_ROOM]) if (!resumeAt?.has(room)) this.deps.hub.join(this, room);
    this.deps.onAuthenticated(this);
  }

  /**
   * The client left its Socket.IO namespace (DISCONNECT `41`): rooms left, the session ends (and
   * cannot be recovered), the socket stays open for a new CONNECT.
   */
  detach(): void {
    if (!this.principal) return;
    this.rooms.recovery?.drop();
    const rooms = new Set(this.rooms);
    for (const room of rooms) this.deps.hub.leave(this, room);
    this.rooms.recovery = undefined;
    this.ownRoomLive = this.broadcastLive = false;
    this.deps.onClosed(this, rooms);
    this.principal = undefined;
    this.ownRoom = undefined;
    this.context = undefined;
  }

  /** Adopts a refreshed token of the same user (`session:refresh`): later `exp`, rooms kept. */
  reauthenticate(principal: Principal): void {
    if (principal.userId !== this.principal?.userId) throw new AppError('forbidden', 'a refreshed token must be for the same user');
    if (principal.expiresAt <= this.principal.expiresAt) throw new AppError('conflict', 'a refreshed token must expire later than the current one');
    this.principal = principal;
    // Handlers made from now on see the new role.
    this.context = undefined;
  }

  /** Switches between JSON and msgpack (first-frame detection), moving topic subscriptions along. */
  switchEncoder(encoder: FrameEncoder): void {
    if (encoder === this.encoder) return;
    for (const room of this.rooms) this.unsubscribeTopic(room);
    this.encoder = encoder;
    for (const room of this.rooms) this.subscribeTopic(room);
  }

  subscribeTopic(room: string): void {
    if (room === this.ownRoom) this.ownRoomLive = true;
    else if (room === BROADCAST_ROOM) this.broadcastLive = true;
    else if (this.recovery) this.deps.directRoom(this, room, true);
    else if (this.watched) {
      this.watched.add(room);
      this.deps.directRoom(this, room, true);
    } else this.ws?.subscribe(topicFor(this.encoder.name, room));
  }

  unsubscribeTopic(room: string): void {
    if (room === this.ownRoom) this.ownRoomLive = false;
    else if (room === BROADCAST_ROOM) this.broadcastLive = false;
    else if (this.recovery) this.deps.directRoom(this, room, false);
    else if (this.watched) {
      this.watched.delete(room);
      this.deps.directRoom(this, room, false);
    } else if (!this.closed) this.ws?.unsubscribe(topicFor(this.encoder.name, room));
  }

  /** True while room frames come one by one, shed by lane (send buffer over LANE_WATCH_BYTES). */
  get shedding(): boolean {
    return this.watched !== undefined;
  }

  /**
   * Called every LANE_CHECK_MS with the bytes buffered for this socket. Over LANE_WATCH_BYTES the
   * socket leaves its uWS topics (uWS would write every room frame to it, or drop them silently
   * once over WS_MAX_BACKPRESSURE) and gets room frames through deliverRoomFrame, where each is
   * sent or skipped by its lane; once the buffer is back under, the skip markers still owed go out
   * and it rejoins the topics. Markers owed while the buffer has room go out now, so a client that
   * gets no further frame of a room still learns what it missed.
   */
  watch(buffered: number): void {
    const ws = this.ws;
    if (!ws || this.closed) return;
    const { watchBytes, ambientMaxBytes } = this.deps.config.overload;
    if (!this.watched && buffered > watchBytes && !this.recovery) this.leaveTopics(ws);
    else if (this.watched && buffered <= watchBytes) this.rejoinTopics(ws);
    else if (this.skips && this.skips.size > 0 && buffered <= ambientMaxBytes) ws.cork(() => this.tellSkipped(ws));
  }

  private leaveTopics(ws: WebSocket<UserData>): void {
    // An unsubscribe drops what uWS still holds for this socket from this iteration's publishes; a
    // ping makes uWS write those first (any send does). Over WS_MAX_BACKPRESSURE nothing is written:
    // frames may already be lost, so the client must resume.
    if (ws.ping() === SEND_DROPPED) {
      this.slowConsumer();
      return;
    }
    const watched = (this.watched = new Set<string>());
    const prefix = topicFor(this.encoder.name, '');
    for (const topic of ws.getTopics()) {
      if (!topic.startsWith(prefix)) continue;
      const room = topic.slice(prefix.length);
      ws.unsubscribe(topic);
      watched.add(room);
      this.deps.directRoom(this, room, true);
      // What the node skipped for the topic and not yet told would now never reach this socket.
      const pending = this.deps.roomSkip(room);
      if (pending) (this.skips ??= new SkipLedger()).merge(room, pending);
    }
    this.deps.metrics.laneTransitions.inc({ to: 'direct' });
  }

  private rejoinTopics(ws: WebSocket<UserData>): void {
    const rooms = this.watched!;
    ws.cork(() => {
      this.flushRoomFrames();
      this.tellSkipped(ws);
    });
    if (this.closed) return;
    this.watched = undefined;
    for (const room of rooms) {
      this.deps.directRoom(this, room, false);
      ws.subscribe(topicFor(this.encoder.name, room));
    }
    this.deps.metrics.laneTransitions.inc({ to: 'topic' });
  }

  /** Sends every `room:skipped` marker still owed. */
  private tellSkipped(ws: WebSocket<UserData>): void {
    for (const room of this.skips?.rooms() ?? []) this.tellSkippedRoom(ws, room);
  }

  /** Sends the marker of `room` if one is owed; false when the socket had to be closed. */
  private tellSkippedRoom(ws: WebSocket<UserData>, room: string): boolean {
    const marker = this.skips?.take(room);
    if (!marker) return true;
    this.deps.metrics.skipMarkers.inc();
    return this.writeLane(ws, this.recovery ? this.recovery.eventFrame(ROOM_SKIPPED, marker) : this.encoder.event(ROOM_SKIPPED, marker), 'control');
  }

  /**
   * A room frame for a room delivered without a topic (see `ownRoomLive`): sent like a topic
   * publish (no per-frame counter), skipped while the socket is over the backpressure limit.
   * Like uWS's own topic publishes, the frames of one event-loop iteration go out together at its
   * end: a group chat message and the conversation update that follows it are one write to each
   * member, not two (a loopback write costs far more than the frame). Order is kept: a direct
   * send, a close, or a topic publish (Gateway.fanout) flushes what is queued first.
   */
  deliverRoomFrame(message: RoomMessage, frame: Frame | undefined): void {
    if (!this.ws || this.closed) return;
    if (this.outbox) {
      this.outbox.push({ message, frame });
      return;
    }
    this.outbox = [{ message, frame }];
    this.deps.flushLater(this);
  }

  /**
   * Sends the queued room frames in one corked write, in the order they were delivered. Each is
   * weighed by its lane against the bytes buffered at that moment: a sheddable one over its
   * threshold is skipped and counted for the room's next `room:skipped` marker, which goes out
   * right before the room's next frame that is sent.
   */
  flushRoomFrames(): void {
    const queued = this.outbox;
    this.outbox = undefined;
    const ws = this.ws;
    if (!queued || !ws || this.closed) return;
    const { shed, metrics } = this.deps;
    ws.cork(() => {
      for (const { message, frame } of queued) {
        if (this.closed) return;
        const lane = laneOf(message.event);
        // Under Socket.IO recovery nothing is skipped: the client's offset must never pass a frame
        // it did not get; a frame that no longer fits halts the socket and recovery replays it.
        if (!this.recovery && isSheddable(lane) && shed.sheds(lane, ws.getBufferedAmount())) {
          (this.skips ??= new SkipLedger()).add(message.room, message.seq, lane);
          metrics.laneShedHere[lane].inc();
          continue;
        }
        if (!this.tellSkippedRoom(ws, message.room)) return;
        const out = this.recovery
          ? this.recovery.roomFrame(message)
          : (frame ?? this.encoder.event(message.event, message.data, { room: message.room, seq: message.seq }));
        if (!this.writeLane(ws, out, lane)) return;
        metrics.laneSent[lane].inc();
      }
    });
  }

  /**
   * Writes a frame of `lane`. uWS drops frames once the buffer is over WS_MAX_BACKPRESSURE: a
   * sheddable frame is then counted as shed, a control or money frame closes the socket (4008),
   * since those are never skipped while it lives: the client resumes and gets it from history.
   */
  private writeLane(ws: WebSocket<UserData>, frame: Frame, lane: Lane): boolean {
    if (this.write(ws, frame)) return true;
    if (isSheddable(lane)) {
      this.deps.metrics.laneShedHere[lane].inc();
      return true;
    }
    this.slowConsumer();
    return false;
  }

  private slowConsumer(): void {
    this.deps.metrics.slowConsumersClosed.inc();
    this.end('slow_consumer');
  }

  /** Sends one frame, honouring backpressure. Returns false if it was not sent. */
  send(frame: Frame, label: string): boolean {
    const ws = this.ws;
    if (!ws || this.closed) {
      this.deps.metrics.dropped.inc({ reason: 'closed' });
      return false;
    }
    if (this.outbox) this.flushRoomFrames(); // frames leave in the order they were issued
    if (this.closed) return false;
    if (!this.writeLane(ws, frame, directLane(label))) return false;
    this.deps.metrics.framesOut.inc({ event: label });
    return true;
  }

  /** ws.send with the backpressure bookkeeping; false when uWS dropped the frame (or a part of it). */
  private write(ws: WebSocket<UserData>, frame: Frame): boolean {
    if (typeof frame !== 'string' && !(frame instanceof Uint8Array)) {
      for (const part of frame) if (!this.write(ws, part)) return false;
      return true;
    }
    if (this.recovery?.halted) return false;
    const status = ws.send(frame, this.encoder.binary || typeof frame !== 'string');
    if (status === SEND_DROPPED) {
      this.deps.metrics.dropped.inc({ reason: 'backpressure' });
      if (this.overLimitSince === 0) this.overLimitSince = Date.now();
      // Socket.IO recovery: no later frame may carry an offset past the lost one (SioRecovery.halt).
      this.recovery?.halt(() => {
        this.deps.metrics.slowConsumersClosed.inc();
        this.end('slow_consumer');
      });
      return false;
    }
    if (status === SEND_BACKPRESSURE && this.overLimitSince === 0 && ws.getBufferedAmount() > this.deps.config.ws.maxBackpressure) {
      this.overLimitSince = Date.now();
    }
    return true;
  }

  /** Sends after asynchronous work: corked, and only if still open. */
  sendLater(frame: Frame, label: string): void {
    const ws = this.ws;
    if (!ws || this.closed) {
      this.deps.metrics.dropped.inc({ reason: 'closed' });
      return;
    }
    ws.cork(() => this.send(frame, label));
  }

  emit(event: string, data: unknown): void {
    this.sendLater(this.recovery ? this.recovery.eventFrame(event, data) : this.encoder.event(event, data), event);
  }

  /**
   * Closes the socket. A close the client should not retry (kick, ban, revoked, expired: the
   * codes marked reconnect: false) sends a Socket.IO client its DISCONNECT packet (`41`) first, so
   * it reports `io server disconnect` and stays disconnected; such a session is not recoverable.
   */
  end(reason: CloseReason, detail?: string): void {
    if (this.closed || !this.ws) return;
    this.flushRoomFrames();
    const { code, description, reconnect } = CLOSE_CODES[reason];
    // The close reason must fit in a control frame (123 bytes).
    const close = (): void => {
      if (!this.closed) this.ws?.end(code, (detail ?? description).slice(0, 120));
    };
    if (!reconnect && this.format === 'sio' && this.authenticated) {
      // The session ends now (rooms left, nothing more is sent); the client closes the socket
      // itself when it reads the DISCONNECT (a close frame right behind it races the packet in
      // clients that handle packets on another thread, e.g. python-socketio), else the server does.
      this.write(this.ws, sio.disconnect);
      this.detach();
      setTimeout(close, SIO_DISCONNECT_GRACE_MS).unref();
      return;
    }
    close();
  }

  /** Runs one decoded request: rate limits, dispatch, then an ack or a typed error. */
  handle(request: InboundRequest): void {
    const { dispatcher, metrics } = this.deps;
    const label = dispatcher.label(request.event);
    metrics.framesIn.inc({ event: label });
    const now = Date.now();
    const { perSecond, burst } = this.deps.config.rateLimit.connection;
    // A bucket made now is full, exactly like one made at connect and refilled since.
    const limit = (this.bucket ??= new TokenBucket(perSecond, burst, now)).take(now);
    const userId = this.principal?.userId;
    const userLimit = limit.ok && userId !== undefined ? this.deps.userLimiter.take(userId, now) : limit;
    if (!limit.ok || !userLimit.ok) {
      const retry = !limit.ok ? limit.retryAfterMs : userLimit.ok ? 0 : userLimit.retryAfterMs;
      metrics.rateLimited.inc({ scope: limit.ok ? 'user' : 'connection' });
      this.replyError(request.ackId, new AppError('rate_limited', `rate limit exceeded; retry in ${retry} ms`));
      return;
    }
    if (this.deps.isDraining()) {
      this.replyError(request.ackId, new AppError('unavailable', 'node shutting down; reconnect to another node'));
      return;
    }
    const lane = requestLane(request.event);
    if (this.deps.shed.refuses(lane)) {
      const retryAfterMs = this.deps.shed.retryAfterMs();
      metrics.publishesRefused.inc({ lane: lane! });
      this.replyError(
        request.ackId,
        new AppError('overloaded', `node under pressure: ${lane!} publishes refused; retry in ${retryAfterMs} ms`, { retryAfterMs }),
      );
      return;
    }
    const stop = metrics.handlerDuration.startTimer({ event: label });
    void this.deps.inflight.track(
      dispatcher
        .dispatch(this.handlerContext(), request.event, request.data, request.args)
        .then((result) => {
          if (request.ackId !== undefined) this.sendLater(this.encoder.ack(request.ackId, result), 'ack');
        })
        .catch((err: unknown) => this.replyError(request.ackId, err))
        .finally(() => stop()),
    );
  }

  replyError(ackId: InboundRequest['ackId'], err: unknown): void {
    const body = toErrorBody(err, (e) => this.deps.log.error({ err: e, conn: this.id }, 'handler failed'));
    this.deps.metrics.errors.inc({ code: body.code });
    this.sendLater(this.encoder.error(ackId, body), 'error');
  }

  /** Called from the uWS close handler. */
  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    const rooms = new Set(this.rooms);
    this.deps.hub.leaveAll(this);
    this.ownRoomLive = this.broadcastLive = false;
    if (this.principal) this.deps.onClosed(this, rooms);
  }

  session(): Session {
    const principal = this.principal;
    if (!principal) throw new AppError('unauthorized', 'not authenticated');
    return { connectionId: this.id, userId: principal.userId, role: principal.role, nodeId: this.deps.config.nodeId, dialect: this.encoder.name };
  }

  /** Joins with replay (RoomHub.replay): missed events or `room:gap`, then live. */
  private resumeRoom(room: string, afterSeq: number): Promise<ReplayResult> {
    // Replayed and then live frames take the lane path of every room frame (deliverRoomFrame).
    return this.deps.hub.replay(this, room, afterSeq, {
      message: (m) => this.deliverRoomFrame(m, undefined),
      gap: (gap) => this.emit('room:gap', gap),
    });
  }

  private handlerContext(): HandlerContext {
    if (this.context) return this.context;
    const session = this.session();
    const hub = this.deps.hub;
    this.context = {
      session,
      log: this.deps.log.child({ conn: this.id, user: session.userId }),
      // A handler that awaited may outlive its connection: a closed one joins nothing (no stale membership).
      join: (room) => {
        if (!this.closed) hub.join(this, room);
      },
      leave: (room) => hub.leave(this, room),
      isMember: (room) => this.rooms.has(room),
      resume: (room, afterSeq) => this.resumeRoom(room, afterSeq),
      emit: (event, data) => this.emit(event, data),
    };
    return this.context;
  }
}

export const topicFor = (format: WireFormat, room: string): string => `${format}|${room}`;
