import { AppError } from '../kernel/errors.js';
import type { Bus, HistoryResult, Published, RoomMessage } from './bus.js';
import type { RoomMetrics } from './metrics.js';
import type { MemberRooms } from './room-set.js';

/** A local connection as the room layer sees it: something that can join uWS topics. */
export interface RoomMember {
  readonly id: string;
  readonly rooms: MemberRooms;
  subscribeTopic(room: string): void;
  unsubscribeTopic(room: string): void;
}

/** A resumed member's live delivery, and the last seq it was sent. */
interface DirectSink {
  sink: ReplaySink;
  last: number;
}

/** Where a replay sends what it finds: missed messages in seq order, or the refetch signal. */
export interface ReplaySink {
  message(message: RoomMessage): void;
  gap(gap: { room: string; oldestSeq: number; latestSeq: number }): void;
}

export type ReplayResult = { kind: 'replayed'; count: number; latestSeq: number } | { kind: 'gap'; oldestSeq: number; latestSeq: number } | { kind: 'left' };

/** Local fan-out of a room message (the gateway encodes once per wire format and publishes to uWS topics). */
export type LocalFanout = (message: RoomMessage) => void;

/** A server-side listener of a room (cluster control channels); not a socket, not a member. */
export type RoomWatcher = (message: RoomMessage) => void;

/**
 * This node's view of rooms: who is in which room locally, and the bus subscription that
 * exists exactly while a room has at least one local member or watcher. It knows nothing of domains.
 */
/** `RoomHub.send` as a function value: publish without waiting, a failure logged. */
export type RoomSend = (room: string, event: string, data: unknown) => void;

export class RoomHub {
  private readonly counts = new Map<string, number>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly watchers = new Map<string, Set<RoomWatcher>>();
  /**
   * Members that resumed a room get its live messages directly from the bus listener instead of
   * through the uWS topic. uWS applies topic publishes lazily (at the end of the loop iteration), so
   * subscribing the topic right after a replay would also deliver messages published in that same
   * iteration, which the replay has already sent: duplicates. Direct delivery hands over from the
   * hold to live in one synchronous step. (Only resumed connections pay the per-socket encode.)
   */
  private readonly direct = new Map<string, Map<RoomMember, DirectSink>>();
  /** `<member id>\0<room>` of the replays running now (one per member and room). */
  private readonly replaying = new Set<string>();
  /** Live messages held back per room for members whose replay is running. */
  private readonly holds = new Map<string, Set<{ member: RoomMember; held: RoomMessage[] }>>();

  constructor(
    private readonly bus: Bus,
    private readonly fanout: LocalFanout,
    /** A subscription, watcher or fire-and-forget publish that failed (logged by the composition root). */
    private readonly onError: (err: unknown, room: string, what: 'subscribe' | 'watch' | 'publish', event?: string) => void,
    private readonly metrics?: RoomMetrics,
  ) {
    bus.onMessage((message) => {
      this.watchers.get(message.room)?.forEach((watcher) => this.notify(watcher, message));
      const members = this.counts.get(message.room);
      if (members === undefined) return;
      this.metrics?.deliverLatency.observe(Math.max(0, Date.now() - message.ts) / 1000);
      this.metrics?.deliveries.inc(members);
      for (const hold of this.holds.get(message.room) ?? []) hold.held.push(message);
      this.fanout(message);
      this.direct.get(message.room)?.forEach((direct) => this.deliverDirect(direct, message));
    });
  }

  /** Joins synchronously; the bus subscription follows (await `ready(room)` to be sure it is live). */
  join(member: RoomMember, room: string, opts: { topic: boolean } = { topic: true }): void {
    if (member.rooms.has(room)) return;
    member.rooms.add(room);
    if (opts.topic) member.subscribeTopic(room);
    const count = (this.counts.get(room) ?? 0) + 1;
    this.counts.set(room, count);
    if (count === 1) {
      this.metrics?.rooms.set(this.counts.size);
      if (!this.watchers.has(room)) this.track(room, this.bus.subscribe(room));
    }
  }

  leave(member: RoomMember, room: string): void {
    if (!member.rooms.delete(room)) return;
    if (!this.removeDirect(member, room)) member.unsubscribeTopic(room);
    this.release(room);
  }

  /** Called when a connection closes: uWS already dropped its topics. */
  leaveAll(member: RoomMember): void {
    for (const room of member.rooms) {
      this.removeDirect(member, room);
      this.release(room);
    }
    member.rooms.clear();
  }

  /**
   * Joins (or re-joins) with replay: what the member missed after `afterSeq` first, then live.
   * The race between replay and live delivery is closed by ordering: the member's uWS topic is
   * held off, the node's bus subscription is made live, live messages for the member are held
   * back, history is read (everything up to its latest seq), then held messages with a seq above
   * the last one sent are flushed and direct delivery starts in the same tick. None falls between
   * history and live. A message published while the history was read is in the history *and* may
   * arrive on the bus subscription (another Redis connection, no ordering between the two) only
   * after the replay returned; direct delivery therefore drops seqs at or below the last one sent.
   * So each message is sent once, in seq order.
   */
  async replay(member: RoomMember, room: string, afterSeq: number, sink: ReplaySink): Promise<ReplayResult> {
    const key = `${member.id}\u0000${room}`;
    if (this.replaying.has(key)) throw new AppError('conflict', `a resume of ${room} is already running on this connection`);
    this.replaying.add(key);
    try {
      return await this.replayOnce(member, room, afterSeq, sink);
    } finally {
      this.replaying.delete(key);
    }
  }

  private async replayOnce(member: RoomMember, room: string, afterSeq: number, sink: ReplaySink): Promise<ReplayResult> {
    const wasMember = member.rooms.has(room);
    if (wasMember && !this.removeDirect(member, room)) member.unsubscribeTopic(room);
    else this.join(member, room, { topic: false });
    const hold = { member, held: [] as RoomMessage[] };
    let holds = this.holds.get(room);
    if (!holds) this.holds.set(room, (holds = new Set()));
    holds.add(hold);
    try {
      await this.ready(room);
      const history = await this.bus.history(room, afterSeq);
      if (!member.rooms.has(room)) return { kind: 'left' };
      let last = afterSeq;
      let result: ReplayResult;
      if (history.kind === 'gap') {
        this.metrics?.resumes.inc({ result: 'miss' });
        sink.gap({ room, oldestSeq: history.oldestSeq, latestSeq: history.latestSeq });
        last = history.latestSeq;
        result = { kind: 'gap', oldestSeq: history.oldestSeq, latestSeq: history.latestSeq };
      } else {
        this.metrics?.resumes.inc({ result: 'hit' });
        for (const message of history.messages) {
          if (message.seq <= last) continue;
          sink.message(message);
          last = message.seq;
        }
        result = { kind: 'replayed', count: history.messages.length, latestSeq: last };
      }
      for (const message of hold.held) {
        if (message.seq <= last) continue;
        sink.message(message);
        last = message.seq;
      }
      // From here on, live messages go straight to the member (see `direct`).
      let members = this.direct.get(room);
      if (!members) this.direct.set(room, (members = new Map()));
      members.set(member, { sink, last });
      return result.kind === 'replayed' ? { ...result, latestSeq: last } : result;
    } catch (err) {
      // History unavailable: a new member leaves again, an existing one gets its live topic back.
      if (!wasMember) this.leave(member, room);
      else if (member.rooms.has(room)) member.subscribeTopic(room);
      throw err;
    } finally {
      holds.delete(hold);
      if (holds.size === 0) this.holds.delete(room);
    }
  }

  /** Resolves once the bus subscription for a joined room is live. */
  async ready(room: string): Promise<void> {
    await this.pending.get(room);
  }

  /** The room's kept history after `afterSeq` (or the gap), without joining it. */
  history(room: string, afterSeq: number): Promise<HistoryResult> {
    return this.bus.history(room, afterSeq);
  }

  /** Publishes through the bus; `nodes` in the result says how many nodes it was handed to. */
  publish(room: string, event: string, data: unknown): Promise<Published> {
    return this.bus.publish(room, event, data);
  }

  /**
   * Publishes and does not wait: for events that report a change already made (a balance moved,
   * a message stored), where a failed publish must not fail the request. The failure is logged;
   * clients catch up on resume or refetch.
   */
  send(room: string, event: string, data: unknown): void {
    this.bus.publish(room, event, data).catch((err: unknown) => this.onError(err, room, 'publish', event));
  }

  localMembers(room: string): number {
    return this.counts.get(room) ?? 0;
  }

  roomCount(): number {
    return this.counts.size;
  }

  private deliverDirect(direct: DirectSink, message: RoomMessage): void {
    if (message.seq <= direct.last) {
      this.metrics?.duplicates.inc();
      return;
    }
    direct.last = message.seq;
    direct.sink.message(message);
  }

  /** Stops direct delivery; true if the member had it. */
  private removeDirect(member: RoomMember, room: string): boolean {
    const members = this.direct.get(room);
    if (!members?.delete(member)) return false;
    if (members.size === 0) this.direct.delete(room);
    return true;
  }

  private release(room: string): void {
    const count = (this.counts.get(room) ?? 0) - 1;
    if (count > 0) {
      this.counts.set(room, count);
      return;
    }
    this.counts.delete(room);
    this.metrics?.rooms.set(this.counts.size);
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
      this.onError(err, message.room, 'watch', message.event);
    }
  }

  private track(room: string, op: Promise<void>): void {
    const chained = (this.pending.get(room) ?? Promise.resolve()).then(() => op).catch((err: unknown) => this.onError(err, room, 'subscribe'));
    this.pending.set(room, chained);
    void chained.finally(() => {
      if (this.pending.get(room) === chained) this.pending.delete(room);
    });
  }
}
