import type { Static, TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Session } from '../kernel/session.js';
import type { ReplayResult } from '../rooms/hub.js';

/** What a handler may do to its own connection. Rooms are joined and left only through here. */
export interface HandlerContext {
  readonly session: Session;
  readonly log: Logger;
  join(room: string): void;
  leave(room: string): void;
  isMember(room: string): boolean;
  /**
   * Joins a room with replay: sends the room events after `afterSeq` (or a `room:gap` event when
   * they are no longer kept), then live events, each exactly once and in seq order.
   */
  resume(room: string, afterSeq: number): Promise<ReplayResult>;
  /** Sends an event to this connection only. */
  emit(event: string, data: unknown): void;
}

export interface EventHandler<S extends TSchema = TSchema> {
  readonly schema: S;
  /** The ack payload's schema: published in /asyncapi.json and /openapi.json (`x-livegate-events`), and the SDK's types. */
  readonly ack: TSchema;
  /** Returns the ack payload; throw AppError for a typed error. */
  handle(ctx: HandlerContext, data: Static<S>): unknown;
}

/**
 * Keeps the request schema, the handler and its ack schema together: the handler's result is typed
 * by the ack schema. Every event declares its ack (the event contract, docs/PROTOCOL.md).
 */
export function defineHandler<S extends TSchema, A extends TSchema>(
  schema: S,
  handle: (ctx: HandlerContext, data: Static<S>) => Static<A> | Promise<Static<A>>,
  ack: A,
): EventHandler<S> {
  return { schema, ack, handle };
}

/** One event's contract as the registry holds it: the payload schema and the ack's. */
export interface EventContract {
  payload: TSchema;
  ack: TSchema;
}

export type HandlerTable = Readonly<Record<string, EventHandler>>;

/** Rewrites of another module's inbound payloads, by event, applied before its schema check (src/handlers/compat/). */
export type PayloadAliases = Readonly<Record<string, (data: unknown) => unknown>>;

/** Handles events outside the handler table that it claims (the event proxy, src/handlers/proxy/). */
export interface EventFallback {
  /** The `event` label of the metrics for the events it claims. */
  readonly label: string;
  claims(event: string): boolean;
  /** Returns the ack payload; throws AppError for a typed error. `args`: every argument of the event (InboundRequest.args). */
  handle(ctx: HandlerContext, event: string, data: unknown, args: readonly unknown[]): Promise<unknown>;
}

/** Who a server-to-client event reaches. */
export type Receivers = 'connection' | 'room' | 'user';

/** A server-to-client event a domain sends: its payload schema and who receives it (AsyncAPI, client types). */
export interface EmittedEvent {
  readonly schema: TSchema;
  readonly to: Receivers;
  readonly description: string;
}

export type EmittedEvents = Readonly<Record<string, EmittedEvent>>;
