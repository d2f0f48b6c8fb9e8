/**
 * A single-holder lease in Redis: one node of the cluster does a job (deliver webhooks, relay
 * emitter events) while it holds the lease; another takes over within `ttlMs` after it dies.
 * Without Redis there is one node and it always holds the lease.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * KEYS[1] lease key
 * ARGV[1] owner (NODE_ID), ARGV[2] ttl in ms
 * Extends the lease when ARGV[1] holds it, takes it when free. Returns 1 when ARGV[1] holds it afterwards, else 0.
 */
const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/**
 * KEYS[1] lease key
 * ARGV[1] owner
 * Deletes the lease only if ARGV[1] holds it. Returns 1 if deleted.
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface Lease {
  /** Calls `onChange(true)` when this node becomes the holder and `onChange(false)` when it stops being it. */
  start(onChange: (held: boolean) => void): void;
  stop(): Promise<void>;
}

export function createLease(redis: Redis | undefined, key: string, owner: string, log: Logger, ttlMs = 5000): Lease {
  return redis ? new RedisLease(redis, key, owner, ttlMs, log) : new LocalLease();
}

class LocalLease implements Lease {
  private onChange: ((held: boolean) => void) | undefined;
  start(onChange: (held: boolean) => void): void {
    this.onChange = onChange;
    onChange(true);
  }
  async stop(): Promise<void> {
    this.onChange?.(false);
  }
}

class RedisLease implements Lease {
  private held = false;
  private timer: NodeJS.Timeout | undefined;
  private onChange: (held: boolean) => void = () => {};

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly owner: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  start(onChange: (held: boolean) => void): void {
    this.onChange = onChange;
    const tick = (): void => {
      this.redis
        .eval(ACQUIRE, 1, this.key, this.owner, String(this.ttlMs))
        .then((reply) => this.set(reply === 1))
        .catch((err: unknown) => {
          this.log.warn({ err: (err as Error).message, lease: this.key }, 'lease renewal failed');
          this.set(false);
        })
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, Math.floor(this.ttlMs / 3));
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const wasHeld = this.held;
    this.set(false);
    if (wasHeld) await this.redis.eval(RELEASE, 1, this.key, this.owner).catch(() => 0);
  }

  private set(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    this.log.info({ lease: this.key, held }, held ? 'lease acquired' : 'lease lost');
    this.onChange(held);
  }
}
