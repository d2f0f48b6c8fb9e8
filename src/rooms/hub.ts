import type { Bus, Published, RoomMessage } from './bus.js';

/** A local connection as the room layer sees it: something that can join uWS topics. */
export interface RoomMember {
  readonly id: string;
  readonly rooms: Set<string>;
  subscribeTopic(room: string): void;
  unsubscribeTopic(room: string): void;
}

/** Local fan-out of a room message (the gateway encodes once per wire format and publishes to uWS topics). */
export type LocalFanout = (message: RoomMessage) => void;

/** A server-side listener of a room (cluster control channels); not a socket. */
export type RoomWatcher = (message: RoomMessage) => void;

/**
 * This node's view of rooms: who is in which room locally, and the bus subscription that
 * exists exactly while a room has at least one local member or server-side watcher.
 * It knows nothing of domains.
 */
export class RoomHub {
  private readonly counts = new Map<string, number>();
  private readonly watchers = new Map<string, Set<RoomWatcher>>();
  /** Bus subscription references: local members plus watchers of the room. */
  private readonly refs = new Map<string, number>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly bus: Bus, private readonly fanout: LocalFanout, private readonly onError: (err: unknown, room: string) => void) {
    bus.onMessage((message) => {
      if (this.counts.has(message.room)) this.fanout(message);
      const watchers = this.watchers.get(message.room);
      if (watchers) for (const watcher of [...watchers]) this.notify(watcher, message);
    });
  }

  /**
   * Hands every message of `room` that reaches this node to `watcher` (server-side, no socket),
   * keeping the bus subscription while watched. Returns the function that stops watching.
   */
  watch(room: string, watcher: RoomWatcher): () => void {
    let set = this.watchers.get(room);
    if (!set) this.watchers.set(room, (set = new Set()));
    set.add(watcher);
    this.acquire(room);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      set.delete(watcher);
      if (set.size === 0) this.watchers.delete(room);
      this.release(room);
    };
  }

  /** Joins synchronously; the bus subscription follows (await `ready(room)` to be sure it is live). */
  join(member: RoomMember, room: string): void {
    if (member.rooms.has(room)) return;
    member.rooms.add(room);
    member.subscribeTopic(room);
    this.counts.set(room, (this.counts.get(room) ?? 0) + 1);
    this.acquire(room);
  }

  leave(member: RoomMember, room: string): void {
    if (!member.rooms.delete(room)) return;
    member.unsubscribeTopic(room);
    this.dropMember(room);
  }

  /** Called when a connection closes: uWS already dropped its topics. */
  leaveAll(member: RoomMember): void {
    for (const room of member.rooms) this.dropMember(room);
    member.rooms.clear();
  }

  /** Resolves once the bus subscription for a joined room is live. */
  async ready(room: string): Promise<void> {
    await this.pending.get(room);
  }

  /** Publishes through the bus; `nodes` in the result says how many nodes it was handed to. */
  publish(room: string, event: string, data: unknown): Promise<Published> {
    return this.bus.publish(room, event, data);
  }

  localMembers(room: string): number {
    return this.counts.get(room) ?? 0;
  }

  roomCount(): number {
    return this.counts.size;
  }

  private dropMember(room: string): void {
    const count = (this.counts.get(room) ?? 0) - 1;
    if (count > 0) this.counts.set(room, count);
    else this.counts.delete(room);
    this.release(room);
  }

  private acquire(room: string): void {
    const refs = (this.refs.get(room) ?? 0) + 1;
    this.refs.set(room, refs);
    if (refs === 1) this.track(room, this.bus.subscribe(room));
  }

  private release(room: string): void {
    const refs = (this.refs.get(room) ?? 0) - 1;
    if (refs > 0) {
      this.refs.set(room, refs);
      return;
    }
    this.refs.delete(room);
    this.track(room, this.bus.unsubscribe(room));
  }

  private notify(watcher: RoomWatcher, message: RoomMessage): void {
    try {
      watcher(message);
    } catch (err) {
      this.onError(err, message.room);
    }
  }

  private track(room: string, op: Promise<void>): void {
    const chained = (this.pending.get(room) ?? Promise.resolve()).then(() => op).catch((err: unknown) => this.onError(err, room));
    this.pending.set(room, chained);
    void chained.finally(() => {
      if (this.pending.get(room) === chained) this.pending.delete(room);
    });
  }
}
