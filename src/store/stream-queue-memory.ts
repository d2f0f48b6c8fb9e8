import type { Batch, DocumentLocks, QueueEngine, QueueEntry, QueueStats } from './stream-queue.js';
import type { QueueGuard, WriteOp } from './write-queue.js';

/**
 * Single-node engine for running without Redis: entries wait in this process' memory.
 * Weaker guarantee: a crash (or a shutdown that cannot flush in time) loses what is still
 * queued. MongoDB outages are survived as long as the process lives; `maxEntries` bounds the
 * memory used (append rejects beyond it, so callers see the failure instead of a silent loss).
 */
export class MemoryQueue implements QueueEngine {
  readonly name = 'memory' as const;
  private readonly entries: QueueEntry[] = [];
  /** Entries handed to the writer and not yet acknowledged, in order. */
  private inFlight = 0;
  private seq = 0;
  private wake: (() => void) | undefined;
  /** Entries moved aside because they can never be applied. */
  readonly dead: Array<{ id: string; raw: string; reason: string }> = [];

  constructor(private readonly maxEntries = 1_000_000) {}

  async append(ops: WriteOp[]): Promise<void> {
    if (ops.length === 0) return;
    if (this.entries.length >= this.maxEntries) throw new Error(`memory write queue is full (${this.maxEntries} entries)`);
    this.entries.push({ id: `${Date.now()}-${++this.seq}`, enqueuedAt: Date.now(), ops: structuredClone(ops) });
    this.wake?.();
  }

  /** The guard's set lives in Redis, which this engine runs without: money (its one user) needs Redis. */
  async appendGuarded(_ops: WriteOp[], guard: QueueGuard): Promise<boolean> {
    throw new Error(`memory write queue: a guarded append (${guard.set}) needs the Redis engine`);
  }

  async reclaim(): Promise<Batch> {
    return { entries: [], bad: [] };
  }

  async next(max: number, blockMs: number): Promise<Batch> {
    if (this.entries.length <= this.inFlight && blockMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, blockMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    const batch = this.entries.slice(this.inFlight, this.inFlight + max);
    this.inFlight += batch.length;
    return { entries: batch, bad: [] };
  }

  async keepClaimed(ids: string[]): Promise<string[]> {
    const queued = new Set(this.entries.slice(0, this.inFlight).map((e) => e.id));
    return ids.filter((id) => queued.has(id));
  }

  /** One writer per process: nothing to exclude. */
  async lockDocuments(): Promise<DocumentLocks> {
    return { extend: async () => {}, release: async () => {} };
  }

  async ack(ids: string[]): Promise<void> {
    const done = new Set(ids);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (done.has(this.entries[i]!.id)) {
        this.entries.splice(i, 1);
        if (i < this.inFlight) this.inFlight--;
      }
    }
  }

  async deadLetter(items: Array<{ id: string; raw: string; reason: string }>): Promise<void> {
    this.dead.push(...items);
    await this.ack(items.map((i) => i.id));
  }

  async stats(): Promise<QueueStats> {
    const oldest = this.entries[0];
    return { length: this.entries.length, oldestAgeMs: oldest ? Date.now() - oldest.enqueuedAt : 0 };
  }

  async close(): Promise<void> {
    this.wake?.();
  }
}
