/**
 * What every domain module gets from the composition root, and what it gives back.
 * A domain (chat, presence, gifts, ...) is one DomainModule: its socket handlers, its HTTP
 * routes, its connection hooks and its lifecycle. app.ts wires them; src/modules.ts lists them.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { AuthMetrics } from './gateway/auth/metrics.js';
import type { RevocationList } from './gateway/auth/revocations.js';
import type { TokenVerifier } from './gateway/auth.js';
import type { CloseReason } from './gateway/close-codes.js';
import type { EmittedEvents, EventFallback, HandlerTable, PayloadAliases } from './gateway/handler.js';
import type { RouteDef } from './gateway/http/types.js';
import type { GatewayMetrics } from './gateway/metrics.js';
import type { NodePressure } from './kernel/pressure.js';
import type { Readiness } from './kernel/readiness.js';
import type { Principal, Session } from './kernel/session.js';
import type { WebhookSink } from './kernel/webhooks.js';
import type { RoomAccess } from './rooms/access.js';
import type { Bus } from './rooms/bus.js';
import type { RoomHub } from './rooms/hub.js';
import type { NodeLiveness } from './rooms/liveness.js';
import type { RoomState } from './rooms/room-state.js';
import type { Documents } from './store/documents.js';
import type { WriteQueue } from './store/write-queue.js';

/** This node's sockets, as domains may address them. */
export interface LocalSockets {
  /** Sessions of a user connected to this node. */
  sessionsOf(userId: string): Session[];
  /**
   * Puts every local connection of a user into a room (server-managed membership, e.g. a team the
   * backend authorised). Connections opened later are not included. Returns how many joined.
   */
  joinUser(userId: string, room: string): number;
  /** Takes every local connection of a user out of a room. Returns how many left. */
  leaveUser(userId: string, room: string): number;
  /** Closes every local connection of a user (ban, admin disconnect). Returns how many. */
  disconnectUser(userId: string, reason: CloseReason, detail?: string): number;
  /** Closes (4105 `revoked`) the user's local connections whose token has an `iat` before `notBefore`, or none. Returns how many. */
  closeRevoked(userId: string, notBefore: number): number;
  /** Replaces the verified token of one local connection of the user (`session:refresh`). False if it is gone. */
  reauthenticate(userId: string, connectionId: string, principal: Principal): boolean;
  connectionCount(): number;
  /** How many connections of a user are open on this node (authenticated ones). */
  countOf(userId: string): number;
  /** Users with at least one connection on this node. */
  users(): IterableIterator<string>;
  userCount(): number;
}

export interface Core {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly readiness: Readiness;
  readonly bus: Bus;
  readonly hub: RoomHub;
  /** Who may read which room kind (domains register theirs; used by `room:resume`). */
  readonly roomAccess: RoomAccess;
  /**
   * Keyed room state (viewer counts, PK scores, gift totals...): at most one frame per key per
   * ROOM_STATE_INTERVAL_MS per room cluster-wide, always the latest; `snapshot` for joiners.
   */
  readonly roomState: RoomState;
  /** How loaded this node is (room chat budgets shrink under pressure). */
  readonly pressure: NodePressure;
  /** Node heartbeats: cleanups for the shared state of nodes that died. */
  readonly liveness: NodeLiveness;
  /** Redis for shared state and scripts (the first REDIS_URL); undefined in single-node mode. */
  readonly redis: Redis | undefined;
  /** MongoDB reads, the one seam to the system of record (writes go through `queue`). */
  readonly documents: Documents;
  /** The durable write pipeline to MongoDB: enqueue idempotent ops, never wait for the database. */
  readonly queue: WriteQueue;
  readonly sockets: LocalSockets;
  /** The token verifier the sockets use; HTTP routes are guarded by the same one. */
  readonly verifier: TokenVerifier;
  /**
   * Outbound webhooks to the backend: `webhooks.emit('gift.sent', {...}, 'livestream:<id>')`.
   * Fire and forget (durable queue, signed, retried); see docs/BRIDGE.md for the types.
   */
  readonly webhooks: WebhookSink;
  /** Key fetch, refresh, expiry and revocation metrics (src/gateway/auth/metrics.ts). */
  readonly authMetrics: AuthMetrics;
  /** Revoked tokens per user; the verifier refuses them (kept in step by the sessions module). */
  readonly revocations: RevocationList;
}

export interface DomainModule {
  readonly name: string;
  readonly handlers?: HandlerTable;
  /** Payload rewrites for events of any module, applied before their schema check (compat aliases). */
  readonly payloadAliases?: PayloadAliases;
  /** Takes the events no module registered that it claims (the event proxy); one module at most. */
  readonly fallback?: EventFallback;
  /** The server-to-client events this domain sends, with their schemas (described in /asyncapi.json). */
  readonly emits?: EmittedEvents;
  /** HTTP routes, built with defineRoute (src/gateway/http/route.ts) so /openapi.json describes them. */
  readonly routes?: RouteDef[];
  /** An authenticated connection opened on this node. */
  onConnect?(session: Session): void;
  /** An authenticated connection closed; `rooms` are the rooms it was in. */
  onDisconnect?(session: Session, rooms: ReadonlySet<string>): void;
  /** Runs before the node listens (indexes, caches, background workers). */
  start?(): Promise<void>;
  /** Runs at shutdown, after clients were told to reconnect, in reverse module order. */
  stop?(): Promise<void>;
}

export type ModuleFactory = (core: Core) => DomainModule;
