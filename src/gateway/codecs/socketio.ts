/**
 * The Socket.IO v5 protocol over Engine.IO v4, websocket transport only. This module only parses
 * and prints packets; the state machine (namespaces, attachments, recovery) lives in ../sio/.
 *
 * Engine.IO packet: <type digit><payload>   0 open, 1 close, 2 ping, 3 pong, 4 message, 6 noop
 * Socket.IO packet (inside an Engine.IO message):
 *   <type>[<attachments>-][<nsp>,][<ack id>][<json>]
 *   0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5 BINARY_EVENT, 6 BINARY_ACK
 * A binary packet is followed by one binary WebSocket message per attachment; the JSON carries
 * `{"_placeholder":true,"num":<i>}` where attachment i goes.
 */
import type { ErrorBody } from '../../kernel/errors.js';
import { AckArgs, type AckId, type Frame, type FrameEncoder, type FramePart } from './types.js';

export type SioPacket =
  | { kind: 'pong' }
  | { kind: 'ping' }
  | { kind: 'close' }
  | { kind: 'noop' }
  | { kind: 'connect'; nsp: string; auth: unknown }
  | { kind: 'disconnect'; nsp: string }
  | { kind: 'event'; nsp: string; ackId: number | undefined; args: unknown[]; attachments: number }
  | { kind: 'ack'; nsp: string; ackId: number; args: unknown[]; attachments: number }
  | { kind: 'invalid'; reason: string };

const invalid = (reason: string): SioPacket => ({ kind: 'invalid', reason });

const ENGINE_PACKETS: Record<string, ((s: string) => SioPacket) | undefined> = {
  '1': () => ({ kind: 'close' }),
  '2': () => ({ kind: 'ping' }),
  '3': () => ({ kind: 'pong' }),
  '4': (s) => parseSocketPacket(s.slice(1)),
  '6': () => ({ kind: 'noop' }),
};

export function parseSioFrame(text: string): SioPacket {
  const parse = ENGINE_PACKETS[text[0] ?? ''];
  return parse ? parse(text) : invalid(`unknown Engine.IO packet type ${JSON.stringify(text.slice(0, 1))}`);
}

/** Longest attachment count or ack id accepted (digits). */
const MAX_DIGITS = 15;

function digitsAt(s: string, from: number): string {
  let i = from;
  while (i < s.length && i - from <= MAX_DIGITS && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  return s.slice(from, i);
}

/** The header of a Socket.IO packet: everything before its JSON. Also read for frames too large to parse whole. */
export interface SioHeader {
  type: string;
  attachments: number;
  nsp: string;
  ackId: number | undefined;
  /** Index of the JSON payload in the packet text. */
  payloadAt: number;
}

export function parseSioHeader(s: string): SioHeader | string {
  const type = s[0] ?? '';
  let i = 1;
  let attachments = 0;
  if (type === '5' || type === '6') {
    const digits = digitsAt(s, i);
    if (digits === '' || s[i + digits.length] !== '-') return 'a binary packet needs its attachment count and "-"';
    if (digits.length > MAX_DIGITS) return 'attachment count too long';
    attachments = Number(digits);
    i += digits.length + 1;
  }
  let nsp = '/';
  if (s[i] === '/') {
    const comma = s.indexOf(',', i);
    const end = comma === -1 ? s.length : comma;
    nsp = s.slice(i, end);
    i = comma === -1 ? s.length : comma + 1;
  }
  const ackDigits = digitsAt(s, i);
  if (ackDigits.length > MAX_DIGITS) return 'ack id too long';
  i += ackDigits.length;
  return { type, attachments, nsp, ackId: ackDigits === '' ? undefined : Number(ackDigits), payloadAt: i };
}

function parseSocketPacket(s: string): SioPacket {
  const header = parseSioHeader(s);
  if (typeof header === 'string') return invalid(header);
  const { type, nsp, ackId, attachments, payloadAt } = header;
  let payload: unknown;
  if (payloadAt < s.length) {
    try {
      payload = JSON.parse(s.slice(payloadAt));
    } catch {
      return invalid('Socket.IO payload is not valid JSON');
    }
  }
  switch (type) {
    case '0':
      if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload)))
        return invalid('CONNECT payload must be an object');
      return { kind: 'connect', nsp, auth: payload };
    case '1':
      return { kind: 'disconnect', nsp };
    case '2':
    case '5':
      if (!Array.isArray(payload) || payload.length === 0) return invalid('EVENT payload must be a non-empty array');
      return { kind: 'event', nsp, ackId, args: payload, attachments };
    case '3':
    case '6':
      if (ackId === undefined || !Array.isArray(payload)) return invalid('ACK needs an id and an array');
      return { kind: 'ack', nsp, ackId, args: payload, attachments };
    default:
      return invalid(`unknown Socket.IO packet type ${JSON.stringify(type)}`);
  }
}

function isBinary(value: unknown): value is Uint8Array | ArrayBuffer {
  return value instanceof Uint8Array || value instanceof ArrayBuffer;
}

/** Whether a value holds binary data anywhere (bounded depth: what JSON can nest in a frame). */
function hasBinary(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null || depth > 32) return false;
  if (isBinary(value)) return true;
  if (Array.isArray(value)) return value.some((v) => hasBinary(v, depth + 1));
  for (const key in value) if (hasBinary((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}

/** A copy of `value` with each binary replaced by its placeholder; the binaries go to `out`. */
export function withPlaceholders(value: unknown, out: Uint8Array[]): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (isBinary(value)) {
    out.push(value instanceof ArrayBuffer ? new Uint8Array(value) : value);
    return { _placeholder: true, num: out.length - 1 };
  }
  if (Array.isArray(value)) return value.map((v) => withPlaceholders(v, out));
  const copy: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) copy[key] = withPlaceholders(v, out);
  return copy;
}

/**
 * Puts the attachments where their placeholders are. Returns an error text for a placeholder
 * that names no attachment (or an attachment no placeholder names).
 */
export function fillPlaceholders<T>(args: unknown[], attachments: readonly T[]): unknown[] | string {
  const used = new Set<number>();
  let bad: string | undefined;
  const fill = (value: unknown, depth: number): unknown => {
    if (typeof value !== 'object' || value === null || depth > 32) return value;
    if (Array.isArray(value)) return value.map((v) => fill(v, depth + 1));
    const record = value as Record<string, unknown>;
    if (record['_placeholder'] === true && typeof record['num'] === 'number') {
      const num = record['num'];
      const attachment = Number.isInteger(num) && num >= 0 ? attachments[num] : undefined;
      if (attachment === undefined) bad = `placeholder ${num} names no attachment`;
      used.add(num);
      return attachment;
    }
    const copy: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(record)) copy[key] = fill(v, depth + 1);
    return copy;
  };
  const filled = args.map((a) => fill(a, 0));
  if (bad) return bad;
  if (used.size !== attachments.length) return 'an attachment has no placeholder';
  return filled;
}

/** One packet of type EVENT/ACK (2/3), or BINARY_EVENT/BINARY_ACK (5/6) when `args` holds binaries. */
function packet(type: 2 | 3, ackId: AckId | undefined, args: unknown[]): Frame {
  const id = ackId === undefined ? '' : String(ackId);
  if (!hasBinary(args)) return `4${type}${id}` + JSON.stringify(args);
  const attachments: Uint8Array[] = [];
  const json = JSON.stringify(withPlaceholders(args, attachments));
  const parts: FramePart[] = [`4${type + 3}${attachments.length}-${id}${json}`, ...attachments];
  return parts;
}

export const sio = {
  open: (sid: string, pingInterval: number, pingTimeout: number, maxPayload: number): string =>
    '0' + JSON.stringify({ sid, upgrades: [], pingInterval, pingTimeout, maxPayload }),
  ping: '2',
  pong: '3',
  connected: (sid: string, pid?: string): string => '40' + JSON.stringify(pid ? { sid, pid } : { sid }),
  connectError: (message: string, data?: unknown): string => '44' + JSON.stringify(data === undefined ? { message } : { message, data }),
  disconnect: '41',
  connectErrorNamespace: (nsp: string): string => `44${nsp},` + JSON.stringify({ message: 'Invalid namespace' }),
  /** An event with the connection state recovery offset as its last argument (what Socket.IO's server appends). */
  eventWithOffset: (event: string, data: unknown, offset: string): Frame => packet(2, undefined, [event, data, offset]),
};

/**
 * Events go out as `42["event", data]`: exactly the arguments the app emitted (the room and seq
 * are not sent; a client that asked for connection state recovery gets an offset instead, see
 * ../sio/recovery.ts). Data holding binaries goes out as a binary packet with attachments.
 */
export const sioEncoder: FrameEncoder = {
  name: 'sio',
  binary: false,
  event: (event, data): Frame => packet(2, undefined, [event, data]),
  ack: (ackId: AckId, result: unknown): Frame => packet(3, ackId, result instanceof AckArgs ? [...result.args] : [result ?? null]),
  error: (ackId: AckId | undefined, error: ErrorBody): Frame =>
    ackId === undefined ? '42' + JSON.stringify(['error', error]) : `43${ackId}` + JSON.stringify([{ error }]),
};
