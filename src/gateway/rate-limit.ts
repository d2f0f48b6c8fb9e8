/** A token bucket: `perSecond` refill, `burst` capacity. Pure; time is passed in. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token if available; otherwise returns the milliseconds until one is. */
  take(now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.tokens) * 1000) / this.perSecond) };
  }
}

/**
 * Token buckets keyed by a string (user id, client address), created on first use and dropped
 * once idle long enough to be full again, so the map stays bounded by recently active keys.
 */
export class KeyedLimiter {
  private readonly buckets = new Map<string, { bucket: TokenBucket; lastUsed: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  take(key: string, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    let entry = this.buckets.get(key);
    if (!entry) this.buckets.set(key, (entry = { bucket: new TokenBucket(this.perSecond, this.burst, now), lastUsed: now }));
    entry.lastUsed = now;
    return entry.bucket.take(now);
  }

  /** Drops buckets idle for longer than it takes to refill completely (they would start full anyway). */
  sweep(now: number): void {
    const refillMs = (this.burst / this.perSecond) * 1000;
    for (const [key, entry] of this.buckets) if (now - entry.lastUsed > refillMs) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
