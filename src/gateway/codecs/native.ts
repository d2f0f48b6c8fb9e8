/**
 * The native envelope, in JSON text frames or msgpack binary frames:
 *   client -> server  {event, id?, data?}
 *   server -> client  {ack, data} | {ack, error} | {event, data, room?, seq?} | {error}
 */
import { Packr } from 'msgpackr';
import { AppError, type ErrorBody } from '../../kernel/errors.js';
import type { AckId, DecodeResult, EventMeta, Frame, FrameEncoder } from './types.js';

/** Event names, the same rule for client frames and for server publishes (bridge). */
export const MAX_EVENT_NAME = 64;
export const EVENT_NAME = /^[A-Za-z0-9_:.-]+$/;

// Plain maps and no record extension: frames are readable by any msgpack library (Dart, JS, Go).
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

export function decodeJson(text: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: new AppError('bad_request', 'frame is not valid JSON'), ackId: undefined };
  }
  return toRequest(parsed);
}

export function decodeMsgpack(bytes: Uint8Array): DecodeResult {
  let parsed: unknown;
  try {
    parsed = packr.unpack(bytes);
  } catch {
    return { ok: false, error: new AppError('bad_request', 'frame is not valid msgpack'), ackId: undefined };
  }
  return toRequest(parsed);
}

function isAckId(value: unknown): value is AckId {
  return (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'string' && value.length > 0 && value.length <= 64);
}

/** Validates the envelope shape shared by both encodings. */
export function toRequest(parsed: unknown): DecodeResult {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, error: new AppError('bad_request', 'frame must be an object {event, id?, data?}'), ackId: undefined };
  }
  const env = parsed as Record<string, unknown>;
  const id = env['id'];
  if (id !== undefined && !isAckId(id)) {
    return { ok: false, error: new AppError('bad_request', 'id must be an integer or a string of at most 64 characters'), ackId: undefined };
  }
  const event = env['event'];
  if (typeof event !== 'string' || event.length === 0 || event.length > MAX_EVENT_NAME || !EVENT_NAME.test(event)) {
    return { ok: false, error: new AppError('bad_request', 'event must be a name of 1-64 characters [A-Za-z0-9_:.-]'), ackId: id };
  }
  return { ok: true, request: { event, data: env['data'] ?? {}, ackId: id } };
}

function eventEnvelope(event: string, data: unknown, meta?: EventMeta): Record<string, unknown> {
  return meta ? { event, data, room: meta.room, seq: meta.seq } : { event, data };
}

function errorEnvelope(ackId: AckId | undefined, error: ErrorBody): Record<string, unknown> {
  return ackId === undefined ? { error } : { ack: ackId, error };
}

export const jsonEncoder: FrameEncoder = {
  name: 'json',
  binary: false,
  event: (event, data, meta) => JSON.stringify(eventEnvelope(event, data, meta)),
  ack: (ackId, result) => JSON.stringify({ ack: ackId, data: result ?? null }),
  error: (ackId, error) => JSON.stringify(errorEnvelope(ackId, error)),
};

export const msgpackEncoder: FrameEncoder = {
  name: 'msgpack',
  binary: true,
  event: (event, data, meta): Frame => packr.pack(eventEnvelope(event, data, meta)),
  ack: (ackId, result): Frame => packr.pack({ ack: ackId, data: result ?? null }),
  error: (ackId, error): Frame => packr.pack(errorEnvelope(ackId, error)),
};

/** msgpack helpers for tests and bench clients (same settings as the server). */
export const msgpack = {
  pack: (value: unknown): Uint8Array => packr.pack(value),
  unpack: (bytes: Uint8Array): unknown => packr.unpack(bytes),
};
