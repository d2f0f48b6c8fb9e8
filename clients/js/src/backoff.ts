/** Exponential backoff with full jitter: a uniform delay in [0, min(max, base * 2^attempt)). */
export interface BackoffOptions {
  /** First ceiling, in ms (default 250). */
  baseMs?: number;
  /** Largest ceiling, in ms (default 10 000). */
  maxMs?: number;
}

export function fullJitter(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = options.baseMs ?? 250;
  const max = options.maxMs ?? 10_000;
  return Math.floor(random() * Math.min(max, base * 2 ** Math.min(attempt, 30)));
}
