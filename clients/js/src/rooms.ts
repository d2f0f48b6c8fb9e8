/**
 * Which rooms the app joined and the last `seq` seen in each: drops what was already delivered,
 * notices jumps, and builds the rejoin requests (with `lastSeq`) sent after a reconnect.
 */

/**
 * How a request that puts this connection in rooms names them (from its payload or its ack), and
 * how a reconnect rejoins each: by repeating the request with `lastSeq` (`again`), or by
 * `room:resume {room, lastSeq}` (docs/events/rooms.md). `retrySafe`: joining twice counts once, so a
 * join whose ack was lost may be sent again.
 */
interface RoomJoin {
  rooms(data: Record<string, unknown>, ack: Record<string, unknown>): string[];
  rejoin: 'again' | 'resume';
  retrySafe: boolean;
}

const USER_ROOM = 'user:';

const streamRoom = (data: Record<string, unknown>): string[] => {
  const id = data['livestreamId'] ?? data['streamId'];
  return typeof id === 'string' ? [`live:${id}`] : [];
};
const presenceRooms = (data: Record<string, unknown>): string[] =>
  Array.isArray(data['userIds']) ? data['userIds'].filter((u): u is string => typeof u === 'string').map((u) => `presence:${u}`) : [];

/** Requests that put this connection in rooms, by event name (docs/events/livestream.md, presence.md, rooms.md). */
const JOINS: Readonly<Record<string, RoomJoin>> = {
  'livestream:join': { rooms: streamRoom, rejoin: 'again', retrySafe: true },
  'room:resume': { rooms: (data) => (typeof data['room'] === 'string' ? [data['room']] : []), rejoin: 'again', retrySafe: true },
  // The host is in the stream room from livestream:start on; a co-host from livestream:cohost:accept.
  'livestream:start': {
    rooms: (data, ack) => (typeof ack['room'] === 'string' ? [ack['room']] : streamRoom({ ...data, ...ack })),
    rejoin: 'resume',
    retrySafe: false,
  },
  'livestream:cohost:accept': { rooms: streamRoom, rejoin: 'resume', retrySafe: false },
  'presence:subscribe': { rooms: presenceRooms, rejoin: 'resume', retrySafe: true },
};

/** Requests that take this connection out of rooms. */
const LEAVES: Readonly<Record<string, (data: Record<string, unknown>) => string[]>> = {
  'livestream:leave': streamRoom,
  'livestream:end': streamRoom,
  'presence:unsubscribe': presenceRooms,
};

export interface GapInfo {
  room: string;
  /** Oldest seq the server still keeps (server gap), or the first seq not received (client-seen jump). */
  oldestSeq: number;
  latestSeq: number;
  /** `server`: a `room:gap` frame (missed events no longer kept); `client`: a jump in live seqs (skipped frames). */
  source: 'server' | 'client';
}

interface Joined {
  event: string;
  data: Record<string, unknown>;
}

export interface Rejoin {
  room: string;
  event: string;
  data: Record<string, unknown>;
}

export type Delivery = { deliver: true; gap?: GapInfo } | { deliver: false };

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

export class RoomTracker {
  private readonly joined = new Map<string, Joined>();
  private readonly lastSeq = new Map<string, number>();

  /** A request succeeded: remember or forget the rooms it joined or left. */
  acked(event: string, data: unknown, ack: unknown): void {
    const record = asRecord(data);
    const join = JOINS[event];
    if (join) {
      const { lastSeq: _ignored, ...rest } = record;
      for (const room of join.rooms(record, asRecord(ack)))
        this.joined.set(room, join.rejoin === 'again' ? { event, data: rest } : { event: 'room:resume', data: { room } });
    }
    for (const room of LEAVES[event]?.(record) ?? []) {
      this.joined.delete(room);
      this.lastSeq.delete(room);
    }
  }

  /** A room event arrived: deliver it unless its seq was already delivered; report a jump. */
  accept(room: string, seq: number): Delivery {
    // Your own user room (messages, notifications): joined by the server at connect, resumed by the client.
    if (room.startsWith(USER_ROOM) && !this.joined.has(room)) this.joined.set(room, { event: 'room:resume', data: { room } });
    const last = this.lastSeq.get(room);
    if (last !== undefined && seq <= last) return { deliver: false };
    this.lastSeq.set(room, seq);
    if (last !== undefined && seq > last + 1) return { deliver: true, gap: { room, oldestSeq: last + 1, latestSeq: seq - 1, source: 'client' } };
    return { deliver: true };
  }

  /**
   * A `room:skipped` marker: the events fromSeq..toSeq not received were skipped on purpose (lanes,
   * docs/PROTOCOL.md): continue after toSeq without a gap. A jump before fromSeq is still a gap.
   */
  skipped(room: string, fromSeq: number, toSeq: number): { apply: boolean; gap?: GapInfo } {
    const last = this.lastSeq.get(room);
    if (last !== undefined && toSeq <= last) return { apply: false };
    this.lastSeq.set(room, toSeq);
    if (last !== undefined && fromSeq > last + 1) return { apply: true, gap: { room, oldestSeq: last + 1, latestSeq: fromSeq - 1, source: 'client' } };
    return { apply: true };
  }

  /** The server could not replay: continue after its latest seq. */
  gap(room: string, latestSeq: number): void {
    const last = this.lastSeq.get(room);
    if (last === undefined || latestSeq > last) this.lastSeq.set(room, latestSeq);
  }

  /** The requests that rejoin every remembered room after a reconnect, each from its last seq. */
  rejoins(): Rejoin[] {
    return [...this.joined].map(([room, { event, data }]) => {
      const last = this.lastSeq.get(room);
      // room:resume needs a seq: from 0 (the room's whole kept history) when nothing was seen there yet.
      const from = last ?? (event === 'room:resume' ? 0 : undefined);
      return { room, event, data: from === undefined ? { ...data } : { ...data, lastSeq: from } };
    });
  }

  /** A rejoin was refused for good (e.g. the stream ended): stop rejoining that room. */
  forget(room: string): void {
    this.joined.delete(room);
  }

  rooms(): string[] {
    return [...this.joined.keys()];
  }

  seqOf(room: string): number | undefined {
    return this.lastSeq.get(room);
  }
}

/** Whether a request joins a room and may be sent again (joining twice counts once). */
export const isRetrySafeJoin = (event: string): boolean => JOINS[event]?.retrySafe === true;
