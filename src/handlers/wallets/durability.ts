/**
 * What the node requires of the data Redis before it moves coins (MONEY_DURABILITY, docs/MONEY.md):
 * - `aof`: Redis must fsync every write to its append-only file before it answers
 *   (`appendonly yes`, `appendfsync always`) and never evict keys (`maxmemory 0` or
 *   `maxmemory-policy noeviction`). Checked with CONFIG GET at start and on every reconnect (a
 *   restarted server may run other settings); from a lost connection until the check passes,
 *   every money operation is refused with `unavailable` and the reason.
 * - `none`: served on any Redis (told explicitly: development, tests). A Redis that loses its data
 *   takes the acked operations whose writes had not reached MongoDB with it; `reloadFence` keeps
 *   that loss from ever turning into a double spend.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { MoneyDurability } from '../../config.js';
import { AppError } from '../../kernel/errors.js';

export interface DurabilityOptions {
  mode: MoneyDurability;
  /** `none`: least Redis uptime before a wallet may be reloaded from MongoDB. */
  reloadFenceMs: number;
}

/** A required setting, as CONFIG GET names it, and what it must be. */
interface Requirement {
  settings: string[];
  holds(values: Record<string, string>): boolean;
  needs: string;
}

const AOF_REQUIREMENTS: Requirement[] = [
  { settings: ['appendonly'], holds: (v) => v['appendonly'] === 'yes', needs: 'appendonly yes' },
  { settings: ['appendfsync'], holds: (v) => v['appendfsync'] === 'always', needs: 'appendfsync always' },
  {
    settings: ['maxmemory', 'maxmemory-policy'],
    holds: (v) => v['maxmemory'] === '0' || v['maxmemory-policy'] === 'noeviction',
    needs: 'maxmemory-policy noeviction (or maxmemory 0)',
  },
];

export class MoneyDurabilityGuard {
  /** Why money is refused now; undefined while it is served. */
  private refusal: string | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
    readonly opts: DurabilityOptions,
  ) {
    this.refusal = opts.mode === 'aof' ? 'the Redis durability check has not run yet' : undefined;
  }

  /** Checks now, and again whenever the connection to Redis is (re)established. */
  async start(): Promise<void> {
    if (this.opts.mode === 'none') {
      this.log.warn(
        'money: MONEY_DURABILITY=none: serving money on a Redis without a durability guarantee; acked operations are lost if Redis loses its data (docs/MONEY.md)',
      );
      return;
    }
    this.redis.on('close', this.disconnected);
    this.redis.on('ready', this.recheck);
    await this.check();
  }

  stop(): void {
    this.redis.off('close', this.disconnected);
    this.redis.off('ready', this.recheck);
  }

  /** Throws the typed refusal while the data Redis gives no guarantee the node was told to require. */
  assertServing(): void {
    if (this.refusal !== undefined) throw new AppError('unavailable', `money is not served on this node: ${this.refusal}`);
  }

  /**
   * With `none`, before a wallet is loaded from MongoDB: waits until Redis has been up for
   * `reloadFenceMs`. A write the nodes' writers read from a Redis that has since lost its data is
   * never applied after the writer saw the loss (writer.ts checks its entries are still queued
   * before it writes); one already on its way to MongoDB lands within the writer's write timeout,
   * i.e. before this Redis had been up that long. So the ledger a reload sums holds every record
   * that will ever reach MongoDB from the lost Redis, and a coin such a record spent is never
   * served again. With `aof` no data is lost, so there is nothing to wait for.
   */
  async reloadFence(): Promise<void> {
    if (this.opts.mode !== 'none' || this.opts.reloadFenceMs === 0) return;
    const info = await this.redis.info('server');
    const uptimeMs = Number(/uptime_in_seconds:(\d+)/.exec(info)?.[1] ?? '0') * 1000;
    const wait = this.opts.reloadFenceMs - uptimeMs;
    if (wait <= 0) return;
    this.log.info({ waitMs: wait }, 'money: Redis restarted recently; wallet reloads wait for the writes of the lost data to settle');
    await new Promise((resolve) => setTimeout(resolve, wait));
  }

  private readonly recheck = (): void => void this.check();

  /** The server the node reconnects to may be another one (or run other settings): refuse until it is checked. */
  private readonly disconnected = (): void => {
    this.refusal ??= 'the connection to Redis was lost; money resumes once the reconnected server passes the durability check';
  };

  /** One CONFIG GET round; concurrent calls share it. */
  private check(): Promise<void> {
    this.checking ??= this.verify().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async verify(): Promise<void> {
    let refusal: string | undefined;
    try {
      const values: Record<string, string> = {};
      for (const name of AOF_REQUIREMENTS.flatMap((r) => r.settings)) {
        const reply = (await this.redis.config('GET', name)) as string[];
        if (reply.length >= 2) values[reply[0]!] = reply[1]!;
      }
      const missing = AOF_REQUIREMENTS.filter((r) => !r.holds(values)).map((r) => r.needs);
      if (missing.length > 0)
        refusal = `MONEY_DURABILITY=aof needs a Redis with ${missing.join(', ')}; this one has ${AOF_REQUIREMENTS.flatMap((r) => r.settings)
          .map((s) => `${s} ${values[s] ?? '?'}`)
          .join(', ')}. Configure Redis so, or set MONEY_DURABILITY=none to accept losing acked money operations with Redis data`;
    } catch (err) {
      refusal = `cannot verify Redis durability with CONFIG GET (${(err as Error).message}); MONEY_DURABILITY=none serves money without that check`;
    }
    const before = this.refusal;
    this.refusal = refusal;
    if (refusal !== undefined && refusal !== before) this.log.error({ durability: this.opts.mode }, `money: refusing to serve money: ${refusal}`);
    if (refusal === undefined && before !== undefined)
      this.log.info({ durability: this.opts.mode }, 'money: Redis durability verified (AOF, fsync always, no eviction)');
  }
}
