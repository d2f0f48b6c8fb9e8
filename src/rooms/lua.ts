import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run by EVALSHA, loaded with EVAL the first time a server does not know it
 * (after a restart or on a new shard). Each script's source opens with its KEYS/ARGV header.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs with string replies. */
  run(redis: Redis, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
    return this.exec(redis, keys, args, false);
  }

  /** Runs with bulk replies as Buffers (binary payloads). */
  runBuffer(redis: Redis, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
    return this.exec(redis, keys, args, true);
  }

  private async exec(redis: Redis, keys: string[], args: Array<string | number | Buffer>, binary: boolean): Promise<unknown> {
    const call = (command: 'evalsha' | 'eval', first: string): Promise<unknown> =>
      binary ? redis.callBuffer(command, [first, keys.length, ...keys, ...args]) : redis.call(command, [first, keys.length, ...keys, ...args]);
    try {
      return await call('evalsha', this.sha);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return await call('eval', this.source);
      throw err;
    }
  }
}
