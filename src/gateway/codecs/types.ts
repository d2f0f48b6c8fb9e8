import type { AppError, ErrorBody } from '../../kernel/errors.js';
import type { WireFormat } from '../../kernel/session.js';

export type AckId = number | string;

/** What every dialect turns a client request into; handlers only ever see this. */
export interface InboundRequest {
  event: string;
  data: unknown;
  /** Present when the client wants an ack (native `id`, Socket.IO ack id). */
  ackId: AckId | undefined;
  /**
   * Socket.IO: every argument after the event name (`data` is the first), binary attachments as
   * Buffers. Catalogue events read `data`; the event proxy forwards them all. Absent: `[data]`.
   */
  args?: readonly unknown[];
}

/**
 * A result acknowledged with several arguments (Socket.IO `43<id>[a, b, ...]`): what the event
 * proxy returns when the backend answers `ackArgs`. Other dialects get the array as their ack.
 */
export class AckArgs {
  constructor(readonly args: readonly unknown[]) {}
}

/** Per-room ordering metadata carried by room events. */
export interface EventMeta {
  room: string;
  seq: number;
}

/** One WebSocket message: text or binary. */
export type FramePart = string | Uint8Array;

/**
 * What an encoder produces: one message, or several that belong together and go out in order
 * (a Socket.IO binary packet: the text header, then one binary message per attachment).
 */
export type Frame = FramePart | readonly FramePart[];

/** Turns outgoing messages into frames of one wire format. */
export interface FrameEncoder {
  readonly name: WireFormat;
  readonly binary: boolean;
  event(event: string, data: unknown, meta?: EventMeta): Frame;
  ack(ackId: AckId, result: unknown): Frame;
  error(ackId: AckId | undefined, error: ErrorBody): Frame;
}

export type DecodeResult = { ok: true; request: InboundRequest } | { ok: false; error: AppError; ackId: AckId | undefined };
