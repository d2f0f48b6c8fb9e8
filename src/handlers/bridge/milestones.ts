/**
 * "Passed N for the first time" detection for counters such as a livestream's viewers, so a
 * milestone webhook goes out once per stream and milestone even when the count hovers around it
 * or several nodes see it at once.
 */
import type { Redis } from 'ioredis';

export const VIEWER_MILESTONES = [10, 100, 1_000, 10_000, 100_000, 1_000_000] as const;

/**
 * KEYS[1] the highest milestone recorded for the subject
 * ARGV[1] the milestone just reached, ARGV[2] expiry in seconds
 * Records ARGV[1] if it is higher than what is recorded. Returns 1 when recorded (first time), else 0.
 */
const RAISE = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) <= current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;

const EXPIRY_SEC = 7 * 24 * 3600;

export interface Milestones {
  /** Resolves with the milestone `value` reached for the first time for `subject`, if any. */
  reached(subject: string, value: number): Promise<number | undefined>;
}

export function createMilestones(redis: Redis | undefined, steps: readonly number[] = VIEWER_MILESTONES): Milestones {
  // This node's view of what was recorded: most calls need no Redis round trip.
  const known = new Map<string, number>();
  const record: (subject: string, milestone: number) => Promise<boolean> = redis
    ? async (subject, milestone) => (await redis.eval(RAISE, 1, `livegate:bridge:milestone:{${subject}}`, String(milestone), String(EXPIRY_SEC))) === 1
    : async (subject, milestone) => milestone > (known.get(subject) ?? 0);
  return {
    async reached(subject, value) {
      const milestone = [...steps].reverse().find((m) => value >= m);
      if (milestone === undefined || milestone <= (known.get(subject) ?? 0)) return undefined;
      const first = await record(subject, milestone);
      known.set(subject, Math.max(milestone, known.get(subject) ?? 0));
      if (known.size > 10_000) known.delete(known.keys().next().value as string);
      return first ? milestone : undefined;
    },
  };
}
