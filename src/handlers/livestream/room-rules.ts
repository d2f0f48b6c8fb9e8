/**
 * A stream room's chat rules, cluster-wide: the host's settings (slow mode, who counts as a
 * notable joiner) and the admission of each chat line against slow mode and the room's budget.
 * Engines: room-rules-redis.ts (one Lua call per line, every key of a room in one slot) and
 * room-rules-memory.ts (one node).
 *
 * Admission of a line from a sender who is not exempt (host, co-hosts and admins are):
 * 1. Slow mode (`slowModeMs` > 0): a sender's next line within `slowModeMs` of the previous one is
 *    refused (`slow`, with the wait).
 * 2. The budget: at most `budget` lines per window (ROOM_CHAT_WINDOW_MS, aligned to the clock) are
 *    broadcast, and each sender at most its fair share of the window, max(1, floor(budget /
 *    max(2, senders))), where senders counts the distinct senders that tried in this window or
 *    the previous one (the larger): nobody takes more than half, and with more senders each gets
 *    an equal part. Other lines are `sampled` (not broadcast). Exempt senders' lines always go
 *    out (they count towards the window).
 */
export const NOTABLE_JOINS = ['followers', 'top_supporters', 'none'] as const;
export type NotableJoins = (typeof NOTABLE_JOINS)[number];

export interface StreamSettings {
  /** Per-user cooldown between two chat lines (0: off). */
  slowModeMs: number;
  /** Who a join summary names: viewers who follow the host, the stream's top supporters, or nobody. */
  notableJoins: NotableJoins;
}

export const DEFAULT_SETTINGS: StreamSettings = { slowModeMs: 0, notableJoins: 'followers' };

export type ChatVerdict = { kind: 'broadcast' } | { kind: 'sampled' } | { kind: 'slow'; retryAfterMs: number };

export interface RoomRules {
  settings(room: string): Promise<StreamSettings>;
  /** The settings with the time they were read (a version for keyed room state). */
  readSettings(room: string): Promise<{ settings: StreamSettings; version: number }>;
  /** Changes some settings; returns all of them. */
  configure(room: string, patch: Partial<StreamSettings>): Promise<StreamSettings>;
  /** Decides one chat line of `userId` (`budget`: lines per window of `windowMs`). */
  admitChat(room: string, userId: string, budget: { lines: number; windowMs: number }, exempt: boolean): Promise<ChatVerdict>;
}

/** The fair share of one sender in an over-budget window. */
export function fairShare(budget: number, senders: number): number {
  return Math.max(1, Math.floor(budget / Math.max(2, senders)));
}
