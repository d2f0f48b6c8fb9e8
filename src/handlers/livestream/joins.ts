import type { Logger } from 'pino';
import type { RoomSend } from '../../rooms/hub.js';
import type { JoinTally, NotableJoiner } from './join-tally.js';
import type { HotRoomMetrics } from './metrics.js';
import type { NotableJoins } from './room-rules.js';
import { streamRoom } from './viewers.js';

export interface JoinOptions {
  /** Viewers from which joins and leaves are summarised. */
  threshold: number;
  intervalMs: number;
  notableMax: number;
}

/** Whether a joiner is notable under the host's choice (followers of the host, or top supporters of the stream). */
export type NotableCheck = (choice: NotableJoins, streamId: string, hostId: string, userId: string) => Promise<NotableJoiner['reason'] | undefined>;

/**
 * Who joined and left a stream: in a room under `threshold` viewers, one frame per join
 * (`livestream:viewer_joined`) and leave (`livestream:viewer_left`); from `threshold` on, the joins
 * and leaves of every node are summed (JoinTally) and go out as one `livestream:presence_summary`
 * per `intervalMs` per room, naming at most `notableMax` notable joiners.
 */
export class JoinAnnouncer {
  /** Rooms this node added to since its last take: the timer of the next take, and whether it added again. */
  private readonly owed = new Map<string, { timer: NodeJS.Timeout | undefined; again: boolean }>();
  private stopped = false;

  constructor(
    private readonly tally: JoinTally,
    private readonly send: RoomSend,
    private readonly notable: NotableCheck,
    private readonly metrics: HotRoomMetrics,
    private readonly log: Logger,
    private readonly opts: JoinOptions,
  ) {}

  async joined(stream: { streamId: string; hostId: string; notableJoins: NotableJoins }, userId: string, viewers: number): Promise<void> {
    const room = streamRoom(stream.streamId);
    if (viewers < this.opts.threshold) {
      this.metrics.joinFrames.inc({ kind: 'viewer' });
      this.send(room, 'livestream:viewer_joined', { livestreamId: stream.streamId, userId });
      return;
    }
    const reason = this.opts.notableMax > 0 ? await this.notable(stream.notableJoins, stream.streamId, stream.hostId, userId) : undefined;
    await this.fold(room, { joined: 1, left: 0, ...(reason ? { notable: { userId, reason } } : {}) });
  }

  async left(streamId: string, userId: string, viewers: number): Promise<void> {
    const room = streamRoom(streamId);
    if (viewers < this.opts.threshold) {
      this.metrics.joinFrames.inc({ kind: 'viewer' });
      this.send(room, 'livestream:viewer_left', { livestreamId: streamId, userId });
      return;
    }
    await this.fold(room, { joined: 0, left: 1 });
  }

  stop(): void {
    this.stopped = true;
    for (const { timer } of this.owed.values()) clearTimeout(timer);
    this.owed.clear();
  }

  private async fold(room: string, change: { joined: number; left: number; notable?: NotableJoiner }): Promise<void> {
    this.metrics.joinFrames.inc({ kind: 'folded' });
    await this.tally.add(room, change, this.opts.notableMax);
    const owed = this.owed.get(room);
    if (owed) {
      owed.again = true;
      return;
    }
    const fresh = { timer: undefined as NodeJS.Timeout | undefined, again: false };
    this.owed.set(room, fresh);
    this.later(room, fresh, this.opts.intervalMs);
  }

  private later(room: string, owed: { timer: NodeJS.Timeout | undefined; again: boolean }, ms: number): void {
    if (this.stopped) return;
    owed.timer = setTimeout(() => void this.take(room, owed), Math.max(1, ms));
  }

  /** Publishes the room's summary if this node gets the tally; keeps trying while what it added is not taken. */
  private async take(room: string, owed: { timer: NodeJS.Timeout | undefined; again: boolean }): Promise<void> {
    owed.again = false;
    try {
      const taken = await this.tally.take(room, this.opts.intervalMs);
      if (taken.kind === 'later') return this.later(room, owed, taken.waitMs);
      if (taken.kind === 'summary') {
        const { joined, left, notable } = taken.summary;
        this.metrics.joinFrames.inc({ kind: 'summary' });
        this.send(room, 'livestream:presence_summary', { livestreamId: room.slice('live:'.length), joined, left, notable });
        // Joins folded meanwhile (here or elsewhere) wait for the next interval.
        if (owed.again) return this.later(room, owed, this.opts.intervalMs);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message, room }, 'join summary failed; will retry');
      return this.later(room, owed, this.opts.intervalMs);
    }
    if (owed.again) return this.later(room, owed, this.opts.intervalMs);
    this.owed.delete(room);
  }
}
