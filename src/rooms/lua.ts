import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

interface BufferEval {
  evalshaBuffer(sha: string, numKeys: number, ...args: Array<string | number | Buffer>): Promise<unknown>;
  evalBuffer(script: string, numKeys: number, ...args: Array<string | number | Buffer>): Promise<unknown>;
}

/**
 * The one way livegate runs Lua in Redis: a script run by EVALSHA, loaded with EVAL the first time
 * a server does not know it (after a restart or on a new shard). Each script's source opens with
 * its KEYS/ARGV header; `numberOfKeys` (or 'variadic') is checked on every call.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
    readonly numberOfKeys: number | 'variadic' = 'variadic',
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs with string replies. */
  run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number | Buffer>): Promise<unknown> {
    return this.exec(redis, keys, args, false);
  }

  /** Runs with bulk replies as Buffers (binary payloads). */
  runBuffer(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number | Buffer>): Promise<unknown> {
    return this.exec(redis, keys, args, true);
  }

  private async exec(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number | Buffer>, binary: boolean): Promise<unknown> {
    if (this.numberOfKeys !== 'variadic' && keys.length !== this.numberOfKeys)
      throw new Error(`${this.name}: expected ${this.numberOfKeys} keys, got ${keys.length}`);
    // The dedicated methods, not call()/callBuffer(): with ioredis's auto-pipelining (the bus's
    // publish connection) those lose the command name. ioredis has evalshaBuffer/evalBuffer (every
    // command gets a *Buffer twin) but its types omit them.
    const withBuffers = redis as Redis & BufferEval;
    const rest = [keys.length, ...keys, ...args] as const;
    const call = (command: 'evalsha' | 'eval', first: string): Promise<unknown> =>
      command === 'evalsha'
        ? binary
          ? withBuffers.evalshaBuffer(first, ...rest)
          : redis.evalsha(first, ...rest)
        : binary
          ? withBuffers.evalBuffer(first, ...rest)
          : redis.eval(first, ...rest);
    try {
      return await call('evalsha', this.sha);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return await call('eval', this.source);
      throw err;
    }
  }
}

/** HGETALL's flat [field, value, ...] reply (also what scripts return for a hash) as a record. */
export function pairs(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}
