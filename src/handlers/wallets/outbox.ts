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

/** commit: writes not confirmed queued (the sweeper retries); sweep: a sweep failed; orphan: an entry without its record, dropped. */
export type OutboxErrorReason = 'commit' | 'sweep' | 'orphan';

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

  /** Queues the writes of several records (one append) and clears their entries. Never throws. */
  async commitMany(keys: string[], ops: WriteOp[]): Promise<boolean> {
    try {
      await this.queue.enqueue(ops);
      await this.redis.zrem(moneyKeys.outbox, ...keys);
      return true;
    } catch (err) {
      this.opts.onError?.('commit');
      this.log.warn(
        { err: (err as Error).message, keys: keys.length > 3 ? `${keys.slice(0, 3).join(', ')} and ${keys.length - 3} more` : keys.join(', ') },
        'outbox commit failed; the sweeper will retry',
      );
      return false;
    }
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
