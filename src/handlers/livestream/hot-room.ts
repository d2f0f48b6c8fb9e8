/**
 * What keeps a big stream room usable, on top of the stream itself: the host's settings (slow
 * mode, notable joiners), the admission of each chat line (slow mode, the room's budget with fair
 * sampling), who joined and left (per viewer, or summaries in large rooms), and the room's keyed
 * state for joiners. The socket events (module.ts) and the HTTP route (routes.ts) share it.
 */
import { AppError } from '../../kernel/errors.js';
import { BUDGET_FACTOR, type NodePressure } from '../../kernel/pressure.js';
import type { RoomState, StateEntry } from '../../rooms/room-state.js';
import type { JoinAnnouncer } from './joins.js';
import type { HotRoomMetrics } from './metrics.js';
import type { ChatVerdict, RoomRules, StreamSettings } from './room-rules.js';
import type { StreamInfo, StreamStore } from './streams.js';
import { streamRoom } from './viewers.js';

export const SETTINGS_KEY = 'settings';

/** Who may change a stream's settings, and whose lines skip slow mode and sampling. */
export interface Actor {
  userId: string;
  role: string;
}

export interface HotRoomDeps {
  store: StreamStore;
  rules: RoomRules;
  roomState: RoomState;
  joins: JoinAnnouncer;
  metrics: HotRoomMetrics;
  pressure: NodePressure;
  /** Chat lines a room broadcasts per window at normal pressure. */
  chatBudget: { lines: number; windowMs: number };
}

/** How long a stream's host and co-hosts are cached for chat admission. */
const ROLES_TTL_MS = 1000;

export class HotRoom {
  private readonly roles = new Map<string, { hostId: string; cohosts: Set<string>; at: number }>();

  constructor(private readonly deps: HotRoomDeps) {}

  /** The host, co-hosts and admins moderate a stream. */
  static moderates(info: Pick<StreamInfo, 'hostId' | 'cohosts'>, actor: Actor): boolean {
    return actor.role === 'admin' || info.hostId === actor.userId || info.cohosts.includes(actor.userId);
  }

  async settings(streamId: string): Promise<StreamSettings> {
    return this.deps.rules.settings(streamRoom(streamId));
  }

  /** Changes a live stream's settings (moderators only); the room gets `livestream:settings`. */
  async configure(actor: Actor, streamId: string, patch: Partial<StreamSettings>): Promise<StreamSettings> {
    const info = await this.deps.store.get(streamId);
    if (!info || info.status !== 'live') throw new AppError('not_found', `livestream ${streamId} is not live`);
    if (!HotRoom.moderates(info, actor)) throw new AppError('forbidden', 'only the host, co-hosts and admins change stream settings');
    const room = streamRoom(streamId);
    const settings = await this.deps.rules.configure(room, patch);
    this.deps.roomState.changed(room, SETTINGS_KEY, async () => {
      const { settings: now, version } = await this.deps.rules.readSettings(room);
      return { event: 'livestream:settings', data: { livestreamId: streamId, ...now }, version };
    });
    return settings;
  }

  /**
   * Decides one chat line: `broadcast` or `sampled`; slow mode refuses with `rate_limited`.
   * The budget shrinks with this node's pressure (kernel/pressure.ts).
   */
  async admitChat(actor: Actor, streamId: string): Promise<Exclude<ChatVerdict, { kind: 'slow' }>> {
    const exempt = actor.role === 'admin' || (await this.isStaff(streamId, actor.userId));
    const { lines, windowMs } = this.deps.chatBudget;
    const budget = { lines: Math.max(1, Math.floor(lines * BUDGET_FACTOR[this.deps.pressure.level()])), windowMs };
    const verdict = await this.deps.rules.admitChat(streamRoom(streamId), actor.userId, budget, exempt);
    this.deps.metrics.chat.inc({ outcome: verdict.kind === 'slow' ? 'slow_mode' : verdict.kind });
    if (verdict.kind === 'slow')
      throw new AppError('rate_limited', `slow mode: one line per ${(await this.settings(streamId)).slowModeMs} ms; retry after ${verdict.retryAfterMs} ms`);
    return verdict;
  }

  /** Every key's latest value in the stream room (the join and resume acks carry it). */
  snapshot(streamId: string): Promise<StateEntry[]> {
    return this.deps.roomState.snapshot(streamRoom(streamId));
  }

  async joined(info: StreamInfo, userId: string, viewers: number): Promise<void> {
    const { notableJoins } = await this.settings(info.streamId);
    await this.deps.joins.joined({ streamId: info.streamId, hostId: info.hostId, notableJoins }, userId, viewers);
  }

  left(streamId: string, userId: string, viewers: number): Promise<void> {
    return this.deps.joins.left(streamId, userId, viewers);
  }

  stop(): void {
    this.deps.joins.stop();
  }

  private async isStaff(streamId: string, userId: string): Promise<boolean> {
    const now = Date.now();
    let roles = this.roles.get(streamId);
    if (!roles || now - roles.at > ROLES_TTL_MS) {
      const info = await this.deps.store.get(streamId);
      if (this.roles.size > 10_000) this.roles.clear();
      roles = { hostId: info?.hostId ?? '', cohosts: new Set(info?.cohosts ?? []), at: now };
      this.roles.set(streamId, roles);
    }
    return roles.hostId === userId || roles.cohosts.has(userId);
  }
}
