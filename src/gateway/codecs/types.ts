import type { AppError, ErrorBody } from '../../kernel/errors.js';
import type { WireFormat } from '../../kernel/session.js';

export type AckId = number | string;

/** What every dialect turns a client request into; handlers only ever see this. */
export interface InboundRequest {
  event: string;
  data: unknown;
  /** Present when the client wants an ack (native `id`, Socket.IO ack id). */
  ackId: AckId | undefined;
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
