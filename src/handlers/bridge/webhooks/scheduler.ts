/**
 * Delivery order and retries. Entries arrive in queue order; each event source has a FIFO and at
 * most one delivery in flight, so a source's events reach the receiver in the order emitted.
 * Different sources go in parallel (up to `concurrency`). A failed delivery is retried after
 * base * 2^(attempt-1) ms (capped, with +-20 % jitter); the source waits meanwhile (its later
 * events must not overtake), other sources do not. Pure logic: the sender and the queue
 * acknowledgement are injected.
 */
import type { WebhookEvent } from '../../../kernel/webhooks.js';

/** One queued webhook; `id` is the queue's own id (stream entry id), `event.id` the event's. */
export interface QueuedWebhook {
  id: string;
  event: WebhookEvent;
}

export type AttemptOutcome = { kind: 'delivered' } | { kind: 'retry'; reason: string } | { kind: 'reject'; reason: string };

export interface SchedulerOptions {
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  /** Most entries held in memory; the reader waits for room beyond it. */
  maxBacklog: number;
}

export interface SchedulerHooks {
  /** One attempt (1-based). Never throws: failures are outcomes. */
  attempt(entry: QueuedWebhook, attempt: number): Promise<AttemptOutcome>;
  /** The entry is finished: delivered, or given up with a reason. */
  finished(entry: QueuedWebhook, result: { kind: 'delivered'; attempts: number } | { kind: 'dead'; attempts: number; reason: string }): Promise<void>;
  retrying?(entry: QueuedWebhook, attempt: number, delayMs: number, reason: string): void;
}

export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.max(1, Math.round(raw * (0.8 + 0.4 * random())));
}

interface SourceState {
  queue: QueuedWebhook[];
  attempts: number;
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
}

export class SourceScheduler {
  private readonly sources = new Map<string, SourceState>();
  /** Sources whose head entry may be attempted now, in the order they became ready. */
  private readonly ready: string[] = [];
  private inFlight = 0;
  private held = 0;
  private stopped = false;
  private roomWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly opts: SchedulerOptions,
    private readonly hooks: SchedulerHooks,
  ) {}

  /** Entries held in memory (queued, in flight or waiting to retry). */
  get backlog(): number {
    return this.held;
  }

  add(entry: QueuedWebhook): void {
    if (this.stopped) return;
    const key = entry.event.source;
    let state = this.sources.get(key);
    if (!state) this.sources.set(key, (state = { queue: [], attempts: 0, busy: false, timer: undefined }));
    state.queue.push(entry);
    this.held++;
    if (state.queue.length === 1 && !state.busy && !state.timer) this.ready.push(key);
    this.pump();
  }

  /** Resolves when the backlog is below maxBacklog. */
  async room(): Promise<void> {
    if (this.held < this.opts.maxBacklog || this.stopped) return;
    await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves when nothing is held (tests, shutdown). */
  async idle(): Promise<void> {
    if (this.held === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops everything held (this node stopped being the deliverer; the queue keeps the entries). */
  stop(): void {
    this.stopped = true;
    for (const state of this.sources.values()) if (state.timer) clearTimeout(state.timer);
    this.sources.clear();
    this.ready.length = 0;
    this.held = 0;
    this.release();
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < this.opts.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const state = this.sources.get(key);
      const entry = state?.queue[0];
      if (!state || !entry || state.busy) continue;
      state.busy = true;
      state.attempts++;
      this.inFlight++;
      void this.run(key, state, entry);
    }
  }

  private async run(key: string, state: SourceState, entry: QueuedWebhook): Promise<void> {
    const attempt = state.attempts;
    const outcome = await this.hooks.attempt(entry, attempt).catch((err: unknown): AttemptOutcome => ({ kind: 'retry', reason: String(err) }));
    this.inFlight--;
    if (this.stopped || this.sources.get(key) !== state) return;
    if (outcome.kind === 'retry' && attempt < this.opts.maxAttempts) {
      const delay = backoffMs(attempt, this.opts.retryBaseMs, this.opts.retryMaxMs);
      this.hooks.retrying?.(entry, attempt, delay, outcome.reason);
      state.busy = false;
      state.timer = setTimeout(() => {
        state.timer = undefined;
        this.ready.push(key);
        this.pump();
      }, delay);
      this.pump();
      return;
    }
    const result =
      outcome.kind === 'delivered'
        ? ({ kind: 'delivered', attempts: attempt } as const)
        : ({ kind: 'dead', attempts: attempt, reason: outcome.reason } as const);
    // The source stays busy until the queue has recorded the outcome: the next event must not overtake it.
    await this.hooks.finished(entry, result).catch(() => undefined);
    if (this.stopped || this.sources.get(key) !== state) return;
    state.queue.shift();
    state.attempts = 0;
    state.busy = false;
    this.held--;
    if (state.queue.length > 0) this.ready.push(key);
    else this.sources.delete(key);
    this.release();
    this.pump();
  }

  private release(): void {
    if (this.held < this.opts.maxBacklog || this.stopped) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const w of waiters) w();
    }
    if (this.held === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
