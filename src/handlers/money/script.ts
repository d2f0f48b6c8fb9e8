import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run by SHA (EVALSHA), loaded on first use and again after a Redis restart
 * (NOSCRIPT). Every script file opens with a header documenting its KEYS and ARGV.
 */
export class LuaScript {
  readonly sha: string;

  /** `numberOfKeys`: how many KEYS every call passes, or 'variadic' when that depends on the call. */
  constructor(readonly name: string, readonly source: string, readonly numberOfKeys: number | 'variadic') {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    if (this.numberOfKeys !== 'variadic' && keys.length !== this.numberOfKeys) throw new Error(`${this.name}: expected ${this.numberOfKeys} keys, got ${keys.length}`);
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
