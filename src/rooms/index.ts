import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Bus } from './bus.js';
import { MemoryBus } from './memory-bus.js';

/** Picks the bus engine from configuration: memory without REDIS_URL, Redis pub/sub with it. */
export function createBus(config: Config, log: Logger): Bus {
  if (config.redisUrls.length > 0) {
    log.warn('REDIS_URL is set but the Redis bus engine is not built yet; using the in-process bus');
  }
  return new MemoryBus(config.nodeId);
}
