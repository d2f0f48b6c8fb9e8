/**
 * Which rooms the app joined and the last `seq` seen in each: drops what was already delivered,
 * notices jumps, and builds the rejoin requests (with `lastSeq`) sent after a reconnect.
 */

/** How a join request names its room and how to repeat it from a seq (docs/events/rooms.md, livestream.md). */
interface RoomJoin {
  room(data: Record<string, unknown>): string | undefined;
}

const USER_ROOM = 'user:';

const streamRoom = (data: Record<string, unknown>): string | undefined => {
  const id = data['livestreamId'] ?? data['streamId'];
  return typeof id === 'string' ? `live:${id}` : undefined;
};

/** Requests that put this connection in a room, by event name. A rejoin repeats the request with `lastSeq`. */
const JOINS: Readonly<Record<string, RoomJoin>> = {
  'livestream:join': { room: streamRoom },
  'room:resume': { room: (data) => (typeof data['room'] === 'string' ? data['room'] : undefined) },
};

/** Requests that take this connection out of a room. */
const LEAVES: Readonly<Record<string, RoomJoin>> = {
  'livestream:leave': { room: streamRoom },
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

  /** A request succeeded: remember or forget the room it joined or left. */
  acked(event: string, data: unknown): void {
    const record = asRecord(data);
    const join = JOINS[event]?.room(record);
    if (join !== undefined) {
      const { lastSeq: _ignored, ...rest } = record;
      this.joined.set(join, { event, data: rest });
    }
    const leave = LEAVES[event]?.room(record);
    if (leave !== undefined) {
      this.joined.delete(leave);
      this.lastSeq.delete(leave);
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
      return { room, event, data: last === undefined ? { ...data } : { ...data, lastSeq: last } };
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

/** Whether a request joins a room (joining twice counts once, so it may be sent again). */
export const isRoomJoin = (event: string): boolean => event in JOINS;
