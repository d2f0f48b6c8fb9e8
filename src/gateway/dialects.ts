/**
 * Per-dialect framing on top of Connection: what happens on open and on each frame.
 * Chosen by route: /ws is native, /socket.io/ is Socket.IO v4. Both end in Connection.handle().
 */
import type { Logger } from 'pino';
import { AppError } from '../kernel/errors.js';
import { AuthError, type TokenVerifier } from './auth.js';
import type { CloseReason } from './close-codes.js';
import { decodeJson, decodeMsgpack, jsonEncoder, msgpackEncoder } from './codecs/native.js';
import { parseSioFrame, sio, type SioPacket } from './codecs/socketio.js';
import type { Connection } from './connection.js';
import type { GatewayMetrics } from './metrics.js';

export interface DialectDeps {
  verifier: TokenVerifier;
  metrics: GatewayMetrics;
  log: Logger;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  maxPayload: number;
}

/** What the upgrade request established before the socket opened. */
export interface UpgradeInfo {
  /** The token the upgrade request carried (query `token` or `Authorization: Bearer`), if any. */
  token: string | undefined;
}

export interface Dialect {
  /** uWS has just opened the socket. */
  open(conn: Connection, upgrade: UpgradeInfo): void;
  message(conn: Connection, message: ArrayBuffer, isBinary: boolean): void;
}

function authFailed(deps: DialectDeps, conn: Connection, err: unknown): AuthError {
  const authErr = err instanceof AuthError ? err : new AuthError('malformed');
  deps.metrics.authFailures.inc({ reason: authErr.reason });
  deps.log.info({ conn: conn.id, remote: conn.remoteAddress, reason: authErr.reason }, 'auth refused');
  return authErr;
}

/** Frames a native client may send before its token is verified; they are handled once it is. */
const MAX_EARLY_FRAMES = 32;

/**
 * Native dialect: the token from the upgrade request is verified right after the socket opens
 * (the upgrade itself stays synchronous: upgrading from an asynchronous callback made uWS drop a
 * fraction of fresh sockets with 1006). Frames that arrive before the verdict wait for it.
 */
export function nativeDialect(deps: DialectDeps): Dialect {
  const early = new WeakMap<Connection, Array<{ message: ArrayBuffer; isBinary: boolean }>>();

  function handleFrame(conn: Connection, message: ArrayBuffer, isBinary: boolean): void {
    if (!conn.formatFixed) conn.switchEncoder(isBinary ? msgpackEncoder : jsonEncoder);
    // Decode before returning: uWS reuses the message buffer afterwards.
    const result = isBinary ? decodeMsgpack(new Uint8Array(message.slice(0))) : decodeJson(Buffer.from(message).toString('utf8'));
    if (!result.ok) {
      conn.replyError(result.ackId, result.error);
      return;
    }
    conn.handle(result.request);
  }

  return {
    open(conn, upgrade) {
      early.set(conn, []);
      deps.verifier.verify(upgrade.token).then(
        (principal) => {
          const queued = early.get(conn) ?? [];
          early.delete(conn);
          if (conn.closed) return;
          conn.ws?.cork(() => {
            conn.authenticate(principal);
            // From here on the user's pushes reach this socket: tell the client (the Socket.IO
            // dialect's CONNECT answer says the same).
            const { userId, connectionId, nodeId } = conn.session();
            conn.emit('session:ready', { userId, connectionId, nodeId, serverAt: new Date().toISOString() });
            for (const frame of queued) handleFrame(conn, frame.message, frame.isBinary);
          });
        },
        (err: unknown) => {
          early.delete(conn);
          if (conn.closed) return;
          const authErr = authFailed(deps, conn, err);
          conn.ws?.cork(() => {
            conn.send(conn.encoder.error(undefined, { code: 'unauthorized', message: authErr.message }), 'error');
            conn.end('unauthorized', `unauthorized: ${authErr.message}`);
          });
        },
      );
    },
    message(conn, message, isBinary) {
      const queued = early.get(conn);
      if (!queued) {
        handleFrame(conn, message, isBinary);
        return;
      }
      if (queued.length >= MAX_EARLY_FRAMES) {
        conn.replyError(undefined, new AppError('rate_limited', `at most ${MAX_EARLY_FRAMES} frames before authentication completes`));
        return;
      }
      // Copied: the buffer is only valid during this call.
      queued.push({ message: message.slice(0), isBinary });
    },
  };
}

const CONNECT_TOKEN_KEYS = ['token', 'accessToken', 'access_token'] as const;

function tokenFromAuth(auth: unknown): string | undefined {
  if (typeof auth !== 'object' || auth === null) return undefined;
  const record = auth as Record<string, unknown>;
  for (const key of CONNECT_TOKEN_KEYS) {
    const value = record[key];
    if (typeof value === 'string') return value.startsWith('Bearer ') ? value.slice(7) : value;
  }
  return undefined;
}

/**
 * Socket.IO v4 over Engine.IO v4 websocket. Authentication happens at namespace CONNECT
 * (auth payload `{token}`, falling back to the upgrade's query/header token).
 */
export function socketIoDialect(deps: DialectDeps): Dialect {
  const upgradeTokens = new WeakMap<Connection, string>();

  const handlers: { [K in SioPacket['kind']]: (conn: Connection, packet: Extract<SioPacket, { kind: K }>) => void } = {
    pong(conn) {
      conn.lastHeartbeat = Date.now();
    },
    ping(conn) {
      conn.send('3', 'eio:pong');
    },
    close(conn) {
      conn.ws?.end(1000, 'client closed');
    },
    noop() {},
    connect(conn, packet) {
      if (packet.nsp !== '/') {
        conn.send(sio.connectErrorNamespace(packet.nsp), 'sio:connect_error');
        return;
      }
      if (conn.authenticated) return;
      const token = tokenFromAuth(packet.auth) ?? upgradeTokens.get(conn);
      deps.verifier.verify(token).then(
        (principal) => {
          if (conn.closed) return;
          conn.ws?.cork(() => {
            conn.send(sio.connected(conn.id), 'sio:connect');
            conn.authenticate(principal);
          });
        },
        (err: unknown) => {
          const authErr = authFailed(deps, conn, err);
          conn.sendLater(sio.connectError(authErr.message, { code: 'unauthorized', reason: authErr.reason }), 'sio:connect_error');
        },
      );
    },
    disconnect(conn) {
      conn.ws?.end(1000, 'client disconnected');
    },
    event(conn, packet) {
      if (!conn.authenticated) {
        conn.replyError(packet.ackId, new AppError('unauthorized', 'send CONNECT with a token first'));
        return;
      }
      if (typeof packet.event !== 'string') {
        conn.replyError(packet.ackId, new AppError('bad_request', 'event name must be a string'));
        return;
      }
      conn.handle({ event: packet.event, data: packet.args[0] ?? {}, ackId: packet.ackId });
    },
    ack() {
      // The gateway never asks clients for acks; a stray one is harmless.
    },
    invalid(conn, packet) {
      deps.metrics.errors.inc({ code: 'bad_request' });
      conn.end('protocol_error', `invalid packet: ${packet.reason}`);
    },
  };

  function dispatch<K extends SioPacket['kind']>(conn: Connection, packet: Extract<SioPacket, { kind: K }>): void {
    (handlers[packet.kind] as (c: Connection, p: typeof packet) => void)(conn, packet);
  }

  return {
    open(conn, upgrade) {
      if (upgrade.token) upgradeTokens.set(conn, upgrade.token);
      conn.lastHeartbeat = Date.now();
      conn.send(sio.open(conn.id, deps.pingIntervalMs, deps.pingTimeoutMs, deps.maxPayload), 'eio:open');
    },
    message(conn, message, isBinary) {
      if (isBinary) {
        deps.metrics.errors.inc({ code: 'bad_request' });
        conn.end('protocol_error', 'binary attachments are not supported');
        return;
      }
      dispatch(conn, parseSioFrame(Buffer.from(message).toString('utf8')));
    },
  };
}

/**
 * Ends a session the server closes for a reason of its own (token expired, revoked). On the
 * Socket.IO dialect a DISCONNECT packet (`41`) goes first, so socket.io-client reports
 * `io server disconnect` (and does not reconnect by itself) before the WebSocket close arrives.
 */
export function endSession(conn: Connection, reason: CloseReason, detail?: string): void {
  if (conn.format === 'sio' && !conn.closed) conn.send(sio.disconnect, 'sio:disconnect');
  conn.end(reason, detail);
}
