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

/** A server-side listener of a room (cluster control channels); not a socket, not a member. */
export type RoomWatcher = (message: RoomMessage) => void;

/**
 * This node's view of rooms: who is in which room locally, and the bus subscription that
 * exists exactly while a room has at least one local member or watcher. It knows nothing of domains.
 */
export class RoomHub {
  private readonly counts = new Map<string, number>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly watchers = new Map<string, Set<RoomWatcher>>();

  constructor(private readonly bus: Bus, private readonly fanout: LocalFanout, private readonly onError: (err: unknown, room: string) => void) {
    bus.onMessage((message) => {
      this.watchers.get(message.room)?.forEach((watcher) => this.notify(watcher, message));
      if (this.counts.has(message.room)) this.fanout(message);
    });
  }

  /** Joins synchronously; the bus subscription follows (await `ready(room)` to be sure it is live). */
  join(member: RoomMember, room: string): void {
    if (member.rooms.has(room)) return;
    member.rooms.add(room);
    member.subscribeTopic(room);
    const count = (this.counts.get(room) ?? 0) + 1;
    this.counts.set(room, count);
    if (count === 1 && !this.watchers.has(room)) this.track(room, this.bus.subscribe(room));
  }

  leave(member: RoomMember, room: string): void {
    if (!member.rooms.delete(room)) return;
    member.unsubscribeTopic(room);
    this.release(room);
  }

  /** Called when a connection closes: uWS already dropped its topics. */
  leaveAll(member: RoomMember): void {
    for (const room of member.rooms) this.release(room);
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

  private release(room: string): void {
    const count = (this.counts.get(room) ?? 0) - 1;
    if (count > 0) {
      this.counts.set(room, count);
      return;
    }
    this.counts.delete(room);
    if (!this.watchers.has(room)) this.track(room, this.bus.unsubscribe(room));
  }

  /**
   * Hands every message of `room` reaching this node to `watcher` (server-side code, no socket),
   * keeping the bus subscription while watched. Returns the function that stops watching.
   */
  watch(room: string, watcher: RoomWatcher): () => void {
    let set = this.watchers.get(room);
    if (!set) {
      this.watchers.set(room, (set = new Set()));
      if (!this.counts.has(room)) this.track(room, this.bus.subscribe(room));
    }
    set.add(watcher);
    return () => {
      if (!set.delete(watcher) || set.size > 0) return;
      this.watchers.delete(room);
      if (!this.counts.has(room)) this.track(room, this.bus.unsubscribe(room));
    };
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
