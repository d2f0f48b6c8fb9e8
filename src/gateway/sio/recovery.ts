/**
 * Socket.IO connection state recovery, as the official clients speak it, on any node.
 *
 * - A client asks for it with `connectionStateRecovery: true` in its CONNECT auth payload (or by
 *   reconnecting with a `pid`). The CONNECT reply then carries a `pid`, and every event to it carries
 *   an offset as its last argument, as Socket.IO's server appends it; socket.io-client keeps the last
 *   one and sends `{pid, offset}` in the CONNECT payload when it reconnects. Other clients get
 *   exactly the arguments the app emitted.
 * - livegate's offset is the connection's position in every room it is in: `room=seq` pairs (room
 *   URI-encoded, seq in base 36) joined by `,`. A room event moves its room's position; the frame is
 *   therefore made per connection (only for connections that asked).
 * - What the session joined lives in SioSessions (Redis with REDIS_URL), written on join and leave.
 *   A reconnecting client is recovered when its record exists for the same user and every room's
 *   history still holds what it missed: it is re-joined to those rooms and gets the missed events
 *   from the room histories (RoomHub.replay), each exactly once, then live. Like Socket.IO's
 *   server, a recovered session keeps its socket id (`sid`, so `socket.id` does not change) and its
 *   pid. Otherwise it gets a new sid and pid, as Socket.IO signals a failed recovery
 *   (`socket.recovered` false), and refetches.
 * - A frame that uWS drops under backpressure is never skipped by a later offset: the connection
 *   sends nothing more and closes (4008, reconnect), so the offset the client holds is the one of
 *   the last frame it got, and the recovery replays the dropped frame from the room history (or,
 *   if the history no longer has it, the recovery fails and the client is told: `recovered` false).
 */
import type { RoomMessage } from '../../rooms/bus.js';
import { sio } from '../codecs/socketio.js';
import type { Frame } from '../codecs/types.js';
import type { SioSessionOwner, SioSessions } from './sessions.js';

/** What recovery needs of the room layer. */
export interface RecoveryRooms {
  /** The room's latest seq (0 when it has none). */
  latestSeq(room: string): Promise<number>;
  /**
   * The seq to replay the room from when everything after `afterSeq` is still in its history
   * (`afterSeq` itself, or for a room that was empty at join, 0, the seq before its oldest kept
   * event when none was trimmed), or undefined when some of it is gone.
   */
  resumeFrom(room: string, afterSeq: number): Promise<number | undefined>;
}

export interface RecoveryDeps {
  sessions: SioSessions;
  rooms: RecoveryRooms;
  onError(err: unknown, what: string): void;
}

const encodeRoom = (room: string): string => encodeURIComponent(room);

/** Reads an offset a client sent back; undefined when it is not one of ours. */
export function parseOffset(offset: unknown): Map<string, number> | undefined {
  if (typeof offset !== 'string' || offset.length > 64 * 1024) return undefined;
  const positions = new Map<string, number>();
  if (offset === '') return positions;
  for (const pair of offset.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return undefined;
    const seq = parseInt(pair.slice(eq + 1), 36);
    if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
    try {
      positions.set(decodeURIComponent(pair.slice(0, eq)), seq);
    } catch {
      return undefined;
    }
  }
  return positions;
}

/** A session that can be recovered: its socket id, and each room with the seq after which its events were missed. */
export interface Recoverable {
  sid: string;
  resumeAt: Map<string, number>;
}

/**
 * The socket id and rooms a reconnecting session gets back, or undefined when it cannot be
 * recovered (no record, another user, history gone).
 */
export async function recoverable(deps: RecoveryDeps, pid: string, offset: unknown, userId: string): Promise<Recoverable | undefined> {
  const positions = parseOffset(offset);
  if (!positions) return undefined;
  const record = await deps.sessions.load(pid);
  if (!record || record.userId !== userId) return undefined;
  const resumeAt = new Map<string, number>();
  for (const [room, joinSeq] of record.rooms) resumeAt.set(room, positions.get(room) ?? joinSeq);
  const from = await Promise.all([...resumeAt].map(async ([room, afterSeq]) => [room, await deps.rooms.resumeFrom(room, afterSeq)] as const));
  if (from.some(([, seq]) => seq === undefined)) return undefined;
  return { sid: record.sid, resumeAt: new Map(from as Array<readonly [string, number]>) };
}

/** One connection's recovery state: its pid, its position in each room, its record. */
export class SioRecovery {
  private readonly positions = new Map<string, { key: string; seq: number }>();
  /** Set once a frame to this connection was dropped: nothing more is sent (see halt). */
  halted = false;
  /** Record writes in the order of the joins and leaves that made them. */
  private writes: Promise<void> = Promise.resolve();
  private dropped = false;

  constructor(
    readonly pid: string,
    /** The session's user and socket id (the `sid` of every CONNECT reply of this session). */
    readonly owner: SioSessionOwner,
    private readonly deps: RecoveryDeps,
  ) {}

  /** Starts a room at a known position (a recovered room: what the client already has). */
  seed(room: string, seq: number): void {
    this.positions.set(room, { key: encodeRoom(room), seq });
  }

  /** The connection joined a room: the record learns it, with the room's position at join time. */
  joined(room: string): void {
    const known = this.positions.get(room);
    this.write(async () => {
      const seq = known?.seq ?? (await this.deps.rooms.latestSeq(room));
      // Events delivered while the latest seq was read are the better position.
      if (!this.positions.has(room)) this.positions.set(room, { key: encodeRoom(room), seq });
      await this.deps.sessions.join(this.pid, this.owner, room, seq);
    }, 'join');
  }

  left(room: string): void {
    this.positions.delete(room);
    this.write(() => this.deps.sessions.leave(this.pid, room), 'leave');
  }

  /** The session ended for good (client DISCONNECT, kick, ban): nothing to recover. */
  drop(): void {
    this.dropped = true;
    this.write(() => this.deps.sessions.drop(this.pid), 'drop');
  }

  /**
   * A frame to this connection was dropped (send buffer over WS_MAX_BACKPRESSURE). A later frame
   * would carry an offset past it and the client would never get it back, so nothing more is sent
   * and the connection closes (`close`, on the next turn): the client reconnects with the offset of
   * the last frame it got, and the dropped frame comes back from the room history.
   */
  halt(close: () => void): void {
    if (this.halted) return;
    this.halted = true;
    setImmediate(close);
  }

  /** A room event's frame for this connection, its room's position moved on. */
  roomFrame(message: RoomMessage): Frame {
    const position = this.positions.get(message.room);
    if (position) position.seq = Math.max(position.seq, message.seq);
    else this.positions.set(message.room, { key: encodeRoom(message.room), seq: message.seq });
    return sio.eventWithOffset(message.event, message.data, this.offset());
  }

  /** An event to this connection alone: not recoverable, but it carries the current offset too. */
  eventFrame(event: string, data: unknown): Frame {
    return sio.eventWithOffset(event, data, this.offset());
  }

  offset(): string {
    let out = '';
    for (const { key, seq } of this.positions.values()) out += (out === '' ? '' : ',') + key + '=' + seq.toString(36);
    return out;
  }

  private write(op: () => Promise<void>, what: string): void {
    if (this.dropped && what !== 'drop') return;
    this.writes = this.writes.then(op).catch((err: unknown) => this.deps.onError(err, what));
  }
}
