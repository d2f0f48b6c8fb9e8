/**
 * Socket.IO v5 over Engine.IO v4 websocket (the /socket.io/ route). One namespace, "/":
 * authentication happens at its CONNECT (auth payload `{token}`, falling back to the upgrade's
 * query/header token); a CONNECT to another namespace is refused, and packets for a namespace the
 * client is not connected to run nothing. A client DISCONNECT (`41`) leaves the namespace only:
 * the Engine.IO connection stays open for a new CONNECT. Heartbeat: from the open packet on.
 */
import { randomBytes } from 'node:crypto';
import { AppError } from '../../kernel/errors.js';
import { parseSioFrame, parseSioHeader, sio, type SioPacket } from '../codecs/socketio.js';
import type { Connection } from '../connection.js';
import { authFailed, type Dialect, type DialectDeps } from '../dialects.js';
import { AttachmentReader, type AttachmentLimits, type BinaryPacket } from './attachments.js';
import { recoverable, SioRecovery, type RecoveryDeps } from './recovery.js';

export interface SioDialectDeps extends DialectDeps {
  pingIntervalMs: number;
  pingTimeoutMs: number;
  attachments: AttachmentLimits;
  recovery: RecoveryDeps;
}

const CONNECT_TOKEN_KEYS = ['token', 'accessToken', 'access_token'] as const;
const MAX_PID = 64;

function tokenFromAuth(auth: Record<string, unknown>): string | undefined {
  for (const key of CONNECT_TOKEN_KEYS) {
    const value = auth[key];
    if (typeof value === 'string') return value.startsWith('Bearer ') ? value.slice(7) : value;
  }
  return undefined;
}

const newPid = (): string => randomBytes(12).toString('base64url');

type Handlers = { [K in SioPacket['kind']]: (conn: Connection, packet: Extract<SioPacket, { kind: K }>) => void };

export function socketIoDialect(deps: SioDialectDeps): Dialect {
  const upgradeTokens = new WeakMap<Connection, string>();
  /** Connections whose CONNECT is being verified (a second CONNECT meanwhile is ignored). */
  const connecting = new WeakSet<Connection>();
  const readers = new WeakMap<Connection, AttachmentReader>();
  const readerOf = (conn: Connection): AttachmentReader => {
    let reader = readers.get(conn);
    if (!reader) readers.set(conn, (reader = new AttachmentReader(deps.attachments)));
    return reader;
  };

  function protocolError(conn: Connection, reason: string): void {
    deps.metrics.errors.inc({ code: 'bad_request' });
    conn.end('protocol_error', `invalid packet: ${reason}`);
  }

  function runEvent(conn: Connection, packet: Extract<SioPacket, { kind: 'event' }>): void {
    if (!conn.authenticated) {
      conn.replyError(packet.ackId, new AppError('unauthorized', 'send CONNECT with a token first'));
      return;
    }
    const [event, data] = packet.args;
    if (typeof event !== 'string') {
      conn.replyError(packet.ackId, new AppError('bad_request', 'event name must be a string'));
      return;
    }
    conn.handle({ event, data: data ?? {}, ackId: packet.ackId, args: packet.args.slice(1) });
  }

  /** The whole packet is here (attachments included): what it is for runs. */
  function complete(conn: Connection, packet: BinaryPacket): void {
    if (packet.kind === 'event') runEvent(conn, packet);
    // ACK: the gateway never asks clients for acks; a stray one is harmless.
  }

  /** Packets for a namespace the client is not connected to: nothing runs (counted, dropped). */
  function elsewhere(conn: Connection, nsp: string): boolean {
    if (nsp === '/') return false;
    deps.metrics.errors.inc({ code: 'bad_request' });
    deps.log.debug({ conn: conn.id, nsp }, 'packet for a namespace the client is not connected to');
    return true;
  }

  function connect(conn: Connection, packet: Extract<SioPacket, { kind: 'connect' }>): void {
    if (packet.nsp !== '/') {
      conn.send(sio.connectErrorNamespace(packet.nsp), 'sio:connect_error');
      return;
    }
    if (conn.authenticated || connecting.has(conn)) return;
    connecting.add(conn);
    const auth = (packet.auth ?? {}) as Record<string, unknown>;
    const token = tokenFromAuth(auth) ?? upgradeTokens.get(conn);
    const pid = typeof auth['pid'] === 'string' && auth['pid'].length <= MAX_PID ? auth['pid'] : undefined;
    const wantsRecovery = pid !== undefined || auth['connectionStateRecovery'] === true;
    deps.verifier
      .verify(token)
      .then(async (principal) => {
        const recovered =
          pid === undefined
            ? undefined
            : await recoverable(deps.recovery, pid, auth['offset'], principal.userId).catch((err: unknown) => {
                deps.recovery.onError(err, 'recover');
                return undefined;
              });
        connecting.delete(conn);
        if (conn.closed) return;
        // A recovered session keeps its pid and socket id, as Socket.IO's server does; a new one is named after its connection.
        const owner = { userId: principal.userId, sid: recovered?.sid ?? conn.id };
        const recovery = wantsRecovery ? new SioRecovery(recovered ? pid! : newPid(), owner, deps.recovery) : undefined;
        conn.ws?.cork(() => {
          conn.send(sio.connected(owner.sid, recovery?.pid), 'sio:connect');
          conn.authenticate(principal, recovery && { recovery, resumeAt: recovered?.resumeAt });
        });
      })
      .catch((err: unknown) => {
        connecting.delete(conn);
        const authErr = authFailed(deps, conn, err);
        conn.sendLater(sio.connectError(authErr.message, { code: 'unauthorized', reason: authErr.reason }), 'sio:connect_error');
      });
  }

  const handlers: Handlers = {
    pong(conn) {
      conn.lastHeartbeat = Date.now();
    },
    ping(conn) {
      conn.send(sio.pong, 'eio:pong');
    },
    close(conn) {
      conn.ws?.end(1000, 'client closed');
    },
    noop() {},
    connect,
    disconnect(conn, packet) {
      if (elsewhere(conn, packet.nsp)) return;
      conn.detach();
    },
    event(conn, packet) {
      if (packet.attachments > 0) {
        const error = readerOf(conn).begin(packet);
        if (error) conn.replyError(packet.ackId, error);
        return;
      }
      if (elsewhere(conn, packet.nsp)) return;
      runEvent(conn, packet);
    },
    ack(conn, packet) {
      if (packet.attachments > 0) readerOf(conn).begin(packet);
    },
    invalid(conn, packet) {
      protocolError(conn, packet.reason);
    },
  };

  function dispatch<K extends SioPacket['kind']>(conn: Connection, packet: Extract<SioPacket, { kind: K }>): void {
    (handlers[packet.kind] as (c: Connection, p: typeof packet) => void)(conn, packet);
  }

  function binary(conn: Connection, message: ArrayBuffer): void {
    const step = readers.get(conn)?.add(message, deps.maxPayload);
    if (!step) {
      protocolError(conn, 'a binary message that belongs to no binary packet');
      return;
    }
    if (step.kind === 'failed') {
      deps.metrics.errors.inc({ code: step.error.code });
      if (step.packet.kind === 'event' && step.packet.nsp === '/') conn.replyError(step.packet.ackId, step.error);
    } else if (step.kind === 'done' && !elsewhere(conn, step.packet.nsp)) complete(conn, step.packet);
  }

  return {
    maxPayload: deps.maxPayload,
    open(conn, upgrade) {
      if (upgrade.token) upgradeTokens.set(conn, upgrade.token);
      conn.lastHeartbeat = Date.now();
      conn.send(sio.open(conn.id, deps.pingIntervalMs, deps.pingTimeoutMs, deps.maxPayload), 'eio:open');
    },
    message(conn, message, isBinary) {
      if (isBinary) {
        binary(conn, message);
        return;
      }
      if (readers.get(conn)?.busy) {
        protocolError(conn, 'a text packet while binary attachments were expected');
        return;
      }
      dispatch(conn, parseSioFrame(Buffer.from(message).toString('utf8')));
    },
    /**
     * Over SIO_MAX_PAYLOAD: a typed error to the app (the ack of the packet when it has one), and
     * the connection stays. An oversized attachment fails its packet.
     */
    oversize(conn, message, isBinary) {
      deps.metrics.errors.inc({ code: 'payload_too_large' });
      if (isBinary) {
        binary(conn, message);
        return;
      }
      const error = new AppError('payload_too_large', `frame exceeds ${deps.maxPayload} bytes`);
      // Only the header is read: its ack id, and the attachment count to skip.
      const text = Buffer.from(message.slice(0, 64)).toString('latin1');
      const header = text[0] === '4' ? parseSioHeader(text.slice(1)) : undefined;
      if (typeof header !== 'object') {
        conn.replyError(undefined, error);
        return;
      }
      if (header.attachments > 0) readerOf(conn).begin({ kind: 'ack', nsp: header.nsp, ackId: 0, args: [], attachments: header.attachments });
      conn.replyError(header.nsp === '/' ? header.ackId : undefined, error);
    },
  };
}
