import type { Batch, BadEntry, QueueEntry, QueueStats, StreamQueue, StreamQueueOptions } from './stream-queue.js';
import type { QueueGuard } from './write-queue.js';

interface Held<T> {
  entry: QueueEntry<T>;
  /** When the entry was last handed out; undefined while never read. */
  claimedAt: number | undefined;
}

/**
 * Single-node engine for running without Redis: entries wait in this process' memory, with the
 * Redis engine's contract (order, hand-out once, keep until acknowledged, take over what stayed
 * idle for `claimIdleMs`). Weaker guarantee: a crash (or a shutdown that cannot flush in time)
 * loses what is still queued; `maxLength` bounds the memory used (append refuses beyond it).
 */
export class MemoryStreamQueue<T> implements StreamQueue<T> {
  readonly name = 'memory' as const;
  /** Unacknowledged entries in queue order; the first `handedOut` of them were read (or reclaimed). */
  private readonly held: Array<Held<T>> = [];
  private handedOut = 0;
  private seq = 0;
  private wake: (() => void) | undefined;
  /** Entries moved aside because they can never be processed. */
  readonly dead: BadEntry[] = [];
  private readonly opts: Required<StreamQueueOptions>;

  constructor(opts: Partial<StreamQueueOptions> = {}) {
    this.opts = { claimIdleMs: opts.claimIdleMs ?? Infinity, maxLength: opts.maxLength ?? 1_000_000, deadMaxLength: opts.deadMaxLength ?? 10_000 };
  }

  async append(value: T): Promise<boolean> {
    if (this.held.length >= this.opts.maxLength) return false;
    const now = Date.now();
    this.held.push({ entry: { id: `${now}-${++this.seq}`, enqueuedAt: now, value: structuredClone(value) }, claimedAt: undefined });
    this.wake?.();
    return true;
  }

  /** The guard's set lives in Redis, which this engine runs without: money (its one user) needs Redis. */
  async appendGuarded(_value: T, guard: QueueGuard): Promise<boolean> {
    throw new Error(`memory queue: a guarded append (${guard.set}) needs the Redis engine`);
  }

  /** One process, one consumer: entries handed out and left unacknowledged for `claimIdleMs`. */
  async reclaim(max: number): Promise<Batch<T>> {
    const now = Date.now();
    const idle = this.held.slice(0, this.handedOut).filter((h) => h.claimedAt !== undefined && now - h.claimedAt >= this.opts.claimIdleMs);
    const page = idle.slice(0, max);
    for (const h of page) h.claimedAt = now;
    return { entries: page.map((h) => h.entry), bad: [], more: idle.length > page.length };
  }

  async next(max: number, blockMs: number): Promise<Batch<T>> {
    if (this.held.length <= this.handedOut && blockMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, blockMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    const page = this.held.slice(this.handedOut, this.handedOut + max);
    const now = Date.now();
    for (const h of page) h.claimedAt = now;
    this.handedOut += page.length;
    return { entries: page.map((h) => h.entry), bad: [] };
  }

  /** Returns the ids still held (handed out and not acknowledged), their idle time reset. */
  async keepClaimed(ids: string[]): Promise<string[]> {
    const keep = new Set(ids);
    const now = Date.now();
    const held: string[] = [];
    for (const h of this.held.slice(0, this.handedOut)) {
      if (!keep.has(h.entry.id)) continue;
      h.claimedAt = now;
      held.push(h.entry.id);
    }
    return held;
  }

  async ack(ids: string[]): Promise<void> {
    const done = new Set(ids);
    for (let i = this.held.length - 1; i >= 0; i--) {
      if (done.has(this.held[i]!.entry.id)) {
        this.held.splice(i, 1);
        if (i < this.handedOut) this.handedOut--;
      }
    }
  }

  async deadLetter(items: BadEntry[]): Promise<void> {
    this.dead.push(...items);
    if (this.dead.length > this.opts.deadMaxLength) this.dead.splice(0, this.dead.length - this.opts.deadMaxLength);
    await this.ack(items.map((i) => i.id));
  }

  async stats(): Promise<QueueStats> {
    const oldest = this.held[0];
    return { length: this.held.length, oldestAgeMs: oldest ? Date.now() - oldest.entry.enqueuedAt : 0 };
  }

  async close(): Promise<void> {
    this.wake?.();
  }
}
