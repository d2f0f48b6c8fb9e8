/**
 * The outbox closes the gap between a money script and the WriteQueue: every script that moves
 * coins also adds its record's key to `money:outbox` (same atomic step). The node that ran it
 * queues the record's MongoDB writes and removes the entry; if that node dies first, any node's
 * sweeper claims the overdue entry (outbox-claim.lua, a lease) and queues the writes again.
 * Writes have stable _ids, so a record queued twice is written once.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WriteOp, WriteQueue } from '../../store/write-queue.js';
import { moneyKeys } from './keys.js';
import { outboxClaimScript } from './lua/outbox-claim.js';

/** Rebuilds the writes of one outbox entry from Redis; undefined when the record is gone. */
export type OutboxHandler = (key: string) => Promise<WriteOp[] | undefined>;

export interface OutboxOptions {
  sweepMs: number;
  leaseMs: number;
  /** Called on every failure the outbox recovers from or gives up on (counted as ledger errors). */
  onError?: (reason: OutboxErrorReason) => void;
}

/**
 * commit: writes not confirmed queued (the sweeper retries); sweep: a sweep failed; orphan: an entry
 * without its record, dropped; lost: records that went with a Redis that lost its data, not written.
 */
export type OutboxErrorReason = 'commit' | 'sweep' | 'orphan' | 'lost';

const sample = (keys: string[]): string => (keys.length > 3 ? `${keys.slice(0, 3).join(', ')} and ${keys.length - 3} more` : keys.join(', '));

export class Outbox {
  private readonly handlers: Array<{ prefix: string; handler: OutboxHandler }> = [];
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly redis: Redis,
    private readonly queue: WriteQueue,
    private readonly log: Logger,
    private readonly opts: OutboxOptions,
  ) {}

  /** Entries whose key starts with `prefix` are rebuilt by `handler`. */
  register(prefix: string, handler: OutboxHandler): void {
    this.handlers.push({ prefix, handler });
  }

  /** Queues a record's writes and clears its outbox entry. Never throws: the sweeper retries. */
  commit(key: string, ops: WriteOp[]): Promise<boolean> {
    return this.commitMany([key], ops);
  }

  /**
   * Queues the writes of several records (one append) and clears their entries, in one atomic step
   * that happens only while every entry is still in the outbox. So a record is queued at most once
   * (a sweeper that queued it first removed its entry), and never on a Redis other than the one
   * that made it: after Redis lost its data (this node's commands are resent to the new, empty
   * server) the entries are gone and the writes are dropped, as the coins they moved were.
   * Never throws; false when nothing was queued.
   */
  async commitMany(keys: string[], ops: WriteOp[]): Promise<boolean> {
    try {
      if (await this.queue.enqueueGuarded(ops, { set: moneyKeys.outbox, members: keys })) return true;
      await this.notQueued(keys);
      return false;
    } catch (err) {
      this.opts.onError?.('commit');
      this.log.warn({ err: (err as Error).message, keys: sample(keys) }, 'outbox commit failed; the sweeper will retry');
      return false;
    }
  }

  /** Why a guarded commit queued nothing: its records went with a Redis that lost its data, or some were queued by a sweeper. */
  private async notQueued(keys: string[]): Promise<void> {
    const records = await Promise.all(keys.map((k) => this.redis.exists(k)));
    const lost = keys.filter((_, i) => records[i] === 0);
    if (lost.length > 0) {
      this.opts.onError?.('lost');
      this.log.error(
        { records: lost.length, keys: sample(lost) },
        'money records gone from Redis before their writes were queued (Redis lost its data); not written',
      );
    }
    // The others are the sweeper's: it queued some already, and queues the rest after their grace.
    if (lost.length < keys.length) this.log.info({ keys: sample(keys) }, 'outbox entries partly queued by a sweeper; the rest are left to it');
  }

  pending(): Promise<number> {
    return this.redis.zcard(moneyKeys.outbox);
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.opts.sweepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Claims overdue entries and queues their writes again. */
  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      const claimed = (await outboxClaimScript.run(this.redis, [moneyKeys.outbox], [Date.now(), this.opts.leaseMs, 100])) as string[];
      for (const key of claimed) {
        const entry = this.handlers.find((h) => key.startsWith(h.prefix));
        const ops = entry ? await entry.handler(key) : undefined;
        if (!ops) {
          this.opts.onError?.('orphan');
          this.log.error({ key }, 'outbox entry has no record to rebuild; dropping it');
          await this.redis.zrem(moneyKeys.outbox, key);
          continue;
        }
        if (await this.commit(key, ops)) this.log.info({ key }, 'outbox entry re-queued');
      }
      return claimed.length;
    } catch (err) {
      this.opts.onError?.('sweep');
      this.log.warn({ err: (err as Error).message }, 'outbox sweep failed');
      return 0;
    } finally {
      this.sweeping = false;
    }
  }
}
