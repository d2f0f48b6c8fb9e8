/**
 * The joins and leaves of a large stream room since its last summary, summed over every node
 * (Redis: join-tally-redis.ts; one node: join-tally-memory.ts). Nodes add what they saw; the node
 * that takes the tally (at most once per interval per room, cluster-wide) publishes the summary.
 */
export interface NotableJoiner {
  userId: string;
  reason: 'follower' | 'top_supporter';
}

export interface JoinSummary {
  joined: number;
  left: number;
  /** The first notable joiners of the period, at most the cap. */
  notable: NotableJoiner[];
}

export type Take = { kind: 'summary'; summary: JoinSummary } | { kind: 'later'; waitMs: number } | { kind: 'empty' };

export interface JoinTally {
  add(room: string, change: { joined: number; left: number; notable?: NotableJoiner }, notableMax: number): Promise<void>;
  /** Takes (and clears) the room's tally if no summary went out in the last `intervalMs`. */
  take(room: string, intervalMs: number): Promise<Take>;
}
