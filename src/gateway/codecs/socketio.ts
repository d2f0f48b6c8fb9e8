/**
 * The Socket.IO v4 dialect (Engine.IO v4, websocket transport only, default namespace "/").
 * This module only parses and prints packets; the connection state machine lives in
 * ../connection.ts. Binary attachments (packet types 5 and 6) are not supported.
 *
 * Engine.IO packet: <type digit><payload>   0 open, 1 close, 2 ping, 3 pong, 4 message, 6 noop
 * Socket.IO packet (inside an Engine.IO message): <type>[<nsp>,][<ack id>][<json>]
 *   0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5/6 binary variants
 */
import type { ErrorBody } from '../../kernel/errors.js';
import type { AckId, EventMeta, Frame, FrameEncoder } from './types.js';

export type SioPacket =
  | { kind: 'pong' }
  | { kind: 'ping' }
  | { kind: 'close' }
  | { kind: 'noop' }
  | { kind: 'connect'; nsp: string; auth: unknown }
  | { kind: 'disconnect'; nsp: string }
  | { kind: 'event'; nsp: string; ackId: number | undefined; event: unknown; args: unknown[] }
  | { kind: 'ack'; nsp: string; ackId: number; args: unknown[] }
  | { kind: 'invalid'; reason: string };

const invalid = (reason: string): SioPacket => ({ kind: 'invalid', reason });

export function parseSioFrame(text: string): SioPacket {
  switch (text[0]) {
    case '3':
      return { kind: 'pong' };
    case '2':
      return { kind: 'ping' };
    case '1':
      return { kind: 'close' };
    case '6':
      return { kind: 'noop' };
    case '4':
      return parseSocketPacket(text.slice(1));
    default:
      return invalid(`unknown Engine.IO packet type ${JSON.stringify(text.slice(0, 1))}`);
  }
}

function parseSocketPacket(s: string): SioPacket {
  const type = s[0];
  if (type === '5' || type === '6') return invalid('binary attachments are not supported');
  let i = 1;
  let nsp = '/';
  if (s[i] === '/') {
    const comma = s.indexOf(',', i);
    const end = comma === -1 ? s.length : comma;
    nsp = s.slice(i, end);
    i = comma === -1 ? s.length : comma + 1;
  }
  let ackDigits = '';
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) ackDigits += s[i++];
  if (ackDigits.length > 15) return invalid('ack id too long');
  const ackId = ackDigits === '' ? undefined : Number(ackDigits);
  let payload: unknown;
  if (i < s.length) {
    try {
      payload = JSON.parse(s.slice(i));
    } catch {
      return invalid('Socket.IO payload is not valid JSON');
    }
  }
  switch (type) {
    case '0':
      return { kind: 'connect', nsp, auth: payload };
    case '1':
      return { kind: 'disconnect', nsp };
    case '2':
      if (!Array.isArray(payload) || payload.length === 0) return invalid('EVENT payload must be a non-empty array');
      return { kind: 'event', nsp, ackId, event: payload[0], args: payload.slice(1) };
    case '3':
      if (ackId === undefined || !Array.isArray(payload)) return invalid('ACK needs an id and an array');
      return { kind: 'ack', nsp, ackId, args: payload };
    default:
      return invalid(`unknown Socket.IO packet type ${JSON.stringify(type ?? '')}`);
  }
}

export const sio = {
  open: (sid: string, pingInterval: number, pingTimeout: number, maxPayload: number): string =>
    '0' + JSON.stringify({ sid, upgrades: [], pingInterval, pingTimeout, maxPayload }),
  ping: '2',
  connected: (sid: string, pid?: string): string => '40' + JSON.stringify(pid ? { sid, pid } : { sid }),
  connectError: (message: string, data?: unknown): string => '44' + JSON.stringify(data === undefined ? { message } : { message, data }),
  disconnect: '41',
  connectErrorNamespace: (nsp: string): string => `44${nsp},` + JSON.stringify({ message: 'Invalid namespace' }),
};

/** Events go out as `42["event", data]`, or `42["event", data, {room, seq}]` for room events. */
export const sioEncoder: FrameEncoder = {
  name: 'sio',
  binary: false,
  event: (event, data, meta?: EventMeta): Frame => '42' + JSON.stringify(meta ? [event, data, { room: meta.room, seq: meta.seq }] : [event, data]),
  ack: (ackId: AckId, result: unknown): Frame => `43${ackId}` + JSON.stringify([result ?? null]),
  error: (ackId: AckId | undefined, error: ErrorBody): Frame =>
    ackId === undefined ? '42' + JSON.stringify(['error', error]) : `43${ackId}` + JSON.stringify([{ error }]),
};
