import type { Bus, RoomMessage } from './bus.js';
import type { RoomMetrics } from './metrics.js';

/** A local connection as the room layer sees it: something that can join uWS topics. */
export interface RoomMember {
  readonly id: string;
  readonly rooms: Set<string>;
  subscribeTopic(room: string): void;
  unsubscribeTopic(room: string): void;
}

/** Local fan-out of a room message (the gateway encodes once per wire format and publishes to uWS topics). */
export type LocalFanout = (message: RoomMessage) => void;

/**
 * This node's view of rooms: who is in which room locally, and the bus subscription that
 * exists exactly while a room has at least one local member. It knows nothing of domains.
 */
export class RoomHub {
  private readonly counts = new Map<string, number>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly bus: Bus,
    private readonly fanout: LocalFanout,
    private readonly onError: (err: unknown, room: string) => void,
    private readonly metrics?: RoomMetrics,
  ) {
    bus.onMessage((message) => {
      if (!this.counts.has(message.room)) return;
      this.metrics?.deliverLatency.observe(Math.max(0, Date.now() - message.ts) / 1000);
      this.fanout(message);
    });
  }

  /** Joins synchronously; the bus subscription follows (await `ready(room)` to be sure it is live). */
  join(member: RoomMember, room: string): void {
    if (member.rooms.has(room)) return;
    member.rooms.add(room);
    member.subscribeTopic(room);
    const count = (this.counts.get(room) ?? 0) + 1;
    this.counts.set(room, count);
    if (count === 1) {
      this.metrics?.rooms.set(this.counts.size);
      this.track(room, this.bus.subscribe(room));
    }
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

  publish(room: string, event: string, data: unknown): Promise<RoomMessage> {
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
    this.metrics?.rooms.set(this.counts.size);
    this.track(room, this.bus.unsubscribe(room));
  }

  private track(room: string, op: Promise<void>): void {
    const chained = (this.pending.get(room) ?? Promise.resolve()).then(() => op).catch((err: unknown) => this.onError(err, room));
    this.pending.set(room, chained);
    void chained.finally(() => {
      if (this.pending.get(room) === chained) this.pending.delete(room);
    });
  }
}
