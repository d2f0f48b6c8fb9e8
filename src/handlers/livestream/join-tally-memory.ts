import type { JoinSummary, JoinTally, NotableJoiner, Take } from './join-tally.js';

/** One node's join tallies (no REDIS_URL), with the rules of the Redis engine. */
export class MemoryJoinTally implements JoinTally {
  private readonly tallies = new Map<string, JoinSummary>();
  private readonly leases = new Map<string, number>();

  async add(room: string, change: { joined: number; left: number; notable?: NotableJoiner }, notableMax: number): Promise<void> {
    const t = this.tallies.get(room) ?? { joined: 0, left: 0, notable: [] };
    t.joined += change.joined;
    t.left += change.left;
    if (change.notable && t.notable.length < notableMax) t.notable.push(change.notable);
    this.tallies.set(room, t);
  }

  async take(room: string, intervalMs: number): Promise<Take> {
    const t = this.tallies.get(room);
    if (!t) return { kind: 'empty' };
    const now = Date.now();
    const until = this.leases.get(room) ?? 0;
    if (until > now) return { kind: 'later', waitMs: until - now };
    this.leases.set(room, now + intervalMs);
    this.tallies.delete(room);
    return { kind: 'summary', summary: t };
  }
}
