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
  /** Returns the ack payload; throw AppError for a typed error. */
  handle(ctx: HandlerContext, data: Static<S>): unknown;
}

/** Keeps the schema and the handler's parameter type tied together. */
export function defineHandler<S extends TSchema>(schema: S, handle: (ctx: HandlerContext, data: Static<S>) => unknown): EventHandler<S> {
  return { schema, handle };
}

export type HandlerTable = Readonly<Record<string, EventHandler>>;

/** Ack payload schemas by event name, for the AsyncAPI document and the client types (not checked at run time). */
export type AckSchemas = Readonly<Record<string, TSchema>>;

/** Who a server-to-client event reaches. */
export type Receivers = 'connection' | 'room' | 'user';

/** A server-to-client event a domain sends: its payload schema and who receives it (AsyncAPI, client types). */
export interface EmittedEvent {
  readonly schema: TSchema;
  readonly to: Receivers;
  readonly description: string;
}

export type EmittedEvents = Readonly<Record<string, EmittedEvent>>;
