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

const INT64_MIN = -(2 ** 63);
const UINT64_END = 2 ** 64;

/** An integer outside int32/uint32, which msgpackr would write as float64. */
const isWideInteger = (n: number): boolean => Number.isInteger(n) && (n > 0xffffffff || n < -0x80000000) && n >= INT64_MIN && n < UINT64_END;

/**
 * msgpackr writes a JS number that does not fit 32 bits as float64, even when it is an integer
 * (`seq`, millisecond times); strictly typed decoders (Go, Rust, Dart) refuse a float where they
 * expect an integer. This turns such numbers into BigInt, which msgpackr writes as int64 (uint64
 * above 2^63), exactly. Objects and arrays are copied only where something changed.
 */
export function exactIntegers(value: unknown): unknown {
  if (typeof value === 'number') return isWideInteger(value) ? BigInt(value) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const mapped = exactIntegers(item);
      if (mapped !== item) (out ??= value.slice())[i] = mapped;
    }
    return out ?? value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value; // Date, Uint8Array, ...: as msgpackr writes them
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const mapped = exactIntegers(item);
    if (mapped !== item) (out ??= { ...(value as Record<string, unknown>) })[key] = mapped;
  }
  return out ?? value;
}

const packExact = (value: unknown): Uint8Array => packr.pack(exactIntegers(value));

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
  event: (event, data, meta): Frame => packExact(eventEnvelope(event, data, meta)),
  ack: (ackId, result): Frame => packExact({ ack: ackId, data: result ?? null }),
  error: (ackId, error): Frame => packExact(errorEnvelope(ackId, error)),
};

/** msgpack helpers for tests and bench clients (same settings as the server). */
export const msgpack = {
  pack: packExact,
  unpack: (bytes: Uint8Array): unknown => packr.unpack(bytes),
};
