/**
 * The @socket.io/redis-emitter path: a backend that already does
 * `new Emitter(redis).to(room).emit(event, ...args)` reaches livegate's clients unchanged.
 *
 * Wire format (read from the package): broadcasts are PUBLISHed as msgpack
 * `[uid, {type: 2, data: [event, ...args], nsp}, {rooms, except, flags}]` on `<key>#<nsp>#`, or on
 * `<key>#<nsp>#<room>#` when exactly one room is targeted; socketsJoin/Leave, disconnectSockets and
 * serverSideEmit are JSON requests `{type, opts, ...}` on `<key>-request#<nsp>#`.
 *
 * Every node subscribes; broadcasts are relayed by the one node holding the relay lease (through
 * the same Publisher as the HTTP API, so each event is sequenced and delivered exactly once per
 * room), while disconnectSockets acts on each node's own sockets. Only the default namespace "/".
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import type { Logger } from 'pino';
import type { LocalSockets } from '../../core.js';
import { BROADCAST_ROOM, userRoom } from '../../kernel/rooms.js';
import { createLease, type Lease } from './lease.js';
import type { BridgeMetrics } from './metrics.js';
import type { Publisher, PublishRequest } from './publisher.js';
import { EventName, RoomName } from './schemas.js';

export interface EmitterOptions {
  key: string;
  nodeId: string;
  userPrefixes: string[];
}

/** Socket.IO request types (socket.io-adapter's RequestType). */
const REQUEST_TYPES: Record<number, string> = { 2: 'sockets_join', 3: 'sockets_leave', 4: 'disconnect_sockets', 6: 'server_side_emit' };
const PACKET_EVENT = 2;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const Broadcast = Type.Tuple([
  Type.Unknown(),
  Type.Object({ type: Type.Number(), nsp: Type.String(), data: Type.Array(Type.Unknown(), { minItems: 1 }) }),
  Type.Object({ rooms: Type.Optional(Type.Array(Type.String())), except: Type.Optional(Type.Array(Type.String())) }),
]);
const Request = Type.Object({
  type: Type.Number(),
  /** socketsJoin / socketsLeave: the rooms to join or leave. */
  rooms: Type.Optional(Type.Array(Type.String())),
  opts: Type.Optional(Type.Object({ rooms: Type.Optional(Type.Array(Type.String())), except: Type.Optional(Type.Array(Type.String())) })),
});
const checkBroadcast = TypeCompiler.Compile(Broadcast);
const checkRequest = TypeCompiler.Compile(Request);
const checkEvent = TypeCompiler.Compile(EventName);
const checkRoom = TypeCompiler.Compile(RoomName);

const escapeGlob = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');

function hasBinary(value: unknown, depth = 0): boolean {
  if (depth > 32) return false;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return true;
  if (Array.isArray(value)) return value.some((v) => hasBinary(v, depth + 1));
  if (value && typeof value === 'object') return Object.values(value).some((v) => hasBinary(v, depth + 1));
  return false;
}

type Outcome = 'relayed' | 'ignored' | 'refused' | 'unsupported';

export class EmitterRelay {
  private sub: Redis | undefined;
  private readonly lease: Lease;
  private leader = false;
  private readonly broadcastPattern: string;
  private readonly requestChannel: string;

  constructor(
    private readonly redis: Redis,
    private readonly opts: EmitterOptions,
    private readonly publisher: Publisher,
    private readonly sockets: LocalSockets,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
  ) {
    this.broadcastPattern = `${escapeGlob(opts.key)}#/#*`;
    this.requestChannel = `${opts.key}-request#/#`;
    this.lease = createLease(redis, 'livegate:bridge:emitter-relay', opts.nodeId, log);
  }

  async start(): Promise<void> {
    const sub = this.redis.duplicate({ connectionName: `livegate:${this.opts.nodeId}:emitter` });
    this.sub = sub;
    sub.on('error', (err: Error) => this.log.warn({ err: err.message }, 'emitter subscriber error'));
    sub.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, message: Buffer) => this.onBroadcast(message));
    sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.onRequest(message));
    await sub.psubscribe(this.broadcastPattern);
    await sub.subscribe(this.requestChannel);
    this.lease.start((held) => (this.leader = held));
    this.log.info({ pattern: this.broadcastPattern, requests: this.requestChannel }, 'listening to @socket.io/redis-emitter');
  }

  async stop(): Promise<void> {
    await this.lease.stop();
    this.sub?.disconnect();
  }

  private count(op: string, outcome: Outcome): void {
    this.metrics.emitter.inc({ op, outcome });
  }

  /** Emitter rooms -> livegate rooms: none = everyone, `<user prefix><id>` = the user's room, else the same name. */
  private mapRoom(room: string): string | undefined {
    const prefix = this.opts.userPrefixes.find((p) => room.startsWith(p) && room.length > p.length);
    if (prefix) return userRoom(room.slice(prefix.length));
    return checkRoom.Check(room) ? room : undefined;
  }

  private onBroadcast(message: Buffer): void {
    if (!this.leader) return;
    let decoded: unknown;
    try {
      decoded = packr.unpack(message);
    } catch {
      decoded = undefined;
    }
    if (!checkBroadcast.Check(decoded)) {
      this.count('emit', 'refused');
      this.log.warn({ bytes: message.length }, 'emitter message is not a Socket.IO broadcast; ignored');
      return;
    }
    const [, packet, options] = decoded;
    if (packet.type !== PACKET_EVENT || packet.nsp !== '/') {
      this.count('emit', 'unsupported');
      return;
    }
    const [event, ...args] = packet.data;
    if (typeof event !== 'string' || !checkEvent.Check(event)) return this.refuse('emit', `event name ${JSON.stringify(event)} is not allowed`);
    if ((options.except ?? []).length > 0) return this.refuse('emit', 'except() is not supported');
    if (hasBinary(args)) return this.refuse('emit', 'binary arguments are not supported');
    const data = args.length === 0 ? null : args.length === 1 ? args[0] : args;
    const rooms = options.rooms ?? [];
    const targets = rooms.length === 0 ? [BROADCAST_ROOM] : [...new Set(rooms.map((r) => this.mapRoom(r)))];
    if (targets.some((r) => r === undefined)) return this.refuse('emit', `room name not allowed in ${JSON.stringify(rooms)}`);
    const requests: PublishRequest[] = (targets as string[]).map((room) => ({ target: { kind: 'room', room }, event, data }));
    try {
      requests.forEach((r) => this.publisher.check(r));
    } catch (err) {
      return this.refuse('emit', (err as Error).message);
    }
    for (const request of requests) {
      this.publisher.publish(request).then(
        () => this.count('emit', 'relayed'),
        (err: unknown) => {
          this.count('emit', 'refused');
          this.log.warn({ err: (err as Error).message, event }, 'emitter event not published');
        },
      );
    }
  }

  private onRequest(message: Buffer): void {
    let decoded: unknown;
    try {
      decoded = JSON.parse(message.toString('utf8'));
    } catch {
      decoded = undefined;
    }
    if (!checkRequest.Check(decoded)) return this.count('request', 'refused');
    const op = REQUEST_TYPES[decoded.type] ?? 'other';
    const action = this.requestActions[op];
    if (!action) {
      // Server-side events have no listener in livegate.
      if (this.leader) this.count(op, 'unsupported');
      return;
    }
    // Every node acts on its own sockets; the targets must be user rooms (socket ids and other
    // rooms cannot be resolved to connections here).
    const rooms = decoded.opts?.rooms ?? [];
    const users = rooms.map((r) => this.mapRoom(r)).map((r) => (r?.startsWith('user:') ? r.slice('user:'.length) : undefined));
    if (rooms.length === 0 || users.some((u) => u === undefined) || (decoded.opts?.except ?? []).length > 0) {
      if (this.leader) this.refuse(op, `${op} is supported for user rooms only`);
      return;
    }
    const affected = action(users as string[], decoded);
    if (affected > 0) this.log.info({ op, users, affected }, 'emitter request applied');
    this.count(op, 'relayed');
  }

  private readonly requestActions: Record<string, ((users: string[], request: Static<typeof Request>) => number) | undefined> = {
    disconnect_sockets: (users) => users.reduce((n, user) => n + this.sockets.disconnectUser(user, 'kicked', 'disconnected by the backend'), 0),
    sockets_join: (users, request) => this.membership(users, request, (user, room) => this.sockets.joinUser(user, room)),
    sockets_leave: (users, request) => this.membership(users, request, (user, room) => this.sockets.leaveUser(user, room)),
  };

  private membership(users: string[], request: Static<typeof Request>, apply: (user: string, room: string) => number): number {
    const rooms = (request.rooms ?? []).filter((r) => checkRoom.Check(r));
    return users.reduce((n, user) => n + rooms.reduce((m, room) => m + apply(user, room), 0), 0);
  }

  private refuse(op: string, reason: string): void {
    this.count(op, 'refused');
    this.publisher.refused('emitter');
    this.log.warn({ op, reason }, 'emitter message refused');
  }
}
