/**
 * Starts one Redis and one FerretDB for the whole run (unless REDIS_URL / MONGO_URL are given)
 * and hands their URLs to the tests through vitest's provide/inject.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ROOT, removeDir, startFerretDb, startRedis } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    mongoUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync(join(ROOT, 'dist', 'src', 'main.js'))) {
    throw new Error('dist/ is missing: run the tests with `npm test` (it builds first)');
  }
  const stops: Array<() => Promise<void>> = [];
  let redisUrl = process.env['REDIS_URL'];
  if (!redisUrl) {
    const redis = await startRedis();
    redisUrl = redis.url;
    stops.push(async () => {
      await redis.stop();
      removeDir(redis.dir);
    });
  }
  let mongoUrl = process.env['MONGO_URL'];
  if (!mongoUrl) {
    const ferret = await startFerretDb();
    mongoUrl = ferret.url;
    stops.push(async () => {
      await ferret.stop();
      removeDir(ferret.dir);
    });
  }
  project.provide('redisUrl', redisUrl);
  project.provide('mongoUrl', mongoUrl);
  return async () => {
    for (const stop of stops) await stop();
  };
}
