/**
 * Per-dialect framing on top of Connection: what happens on open and on each frame.
 * Chosen by route: /ws is native (here), /socket.io/ is Socket.IO v4 (./sio/dialect.ts).
 * Both end in Connection.handle().
 */
import type { Logger } from 'pino';
import { AppError } from '../kernel/errors.js';
import { AuthError, type TokenVerifier } from './auth.js';
import { decodeJson, decodeMsgpack, jsonEncoder, msgpackEncoder } from './codecs/native.js';
import type { Connection } from './connection.js';
import type { GatewayMetrics } from './metrics.js';

export interface DialectDeps {
  verifier: TokenVerifier;
  metrics: GatewayMetrics;
  log: Logger;
  /** Largest frame this dialect reads (its route's limit). */
  maxPayload: number;
}

/** What the upgrade request established before the socket opened. */
export interface UpgradeInfo {
  /** The token the upgrade request carried (query `token` or `Authorization: Bearer`), if any. */
  token: string | undefined;
}

export interface Dialect {
  /** Largest frame the route accepts; larger ones (up to twice this, read by uWS) go to `oversize`. */
  readonly maxPayload: number;
  /** uWS has just opened the socket. */
  open(conn: Connection, upgrade: UpgradeInfo): void;
  message(conn: Connection, message: ArrayBuffer, isBinary: boolean): void;
  /** A frame over `maxPayload`. */
  oversize(conn: Connection, message: ArrayBuffer, isBinary: boolean): void;
}

export function authFailed(deps: DialectDeps, conn: Connection, err: unknown): AuthError {
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
    maxPayload: deps.maxPayload,
    oversize(conn) {
      deps.metrics.errors.inc({ code: 'payload_too_large' });
      conn.send(conn.encoder.error(undefined, { code: 'payload_too_large', message: `frame exceeds ${deps.maxPayload} bytes` }), 'error');
      conn.end('message_too_big', `frame exceeds ${deps.maxPayload} bytes`);
    },
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
