import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { MemoryBus } from './bus-memory.js';
import { RedisBus } from './bus-redis.js';
import type { Bus } from './bus.js';
import type { RoomMetrics } from './metrics.js';

/** Picks the bus engine from configuration: memory without REDIS_URL, sharded Redis pub/sub with it. */
export function createBus(config: Config, log: Logger, metrics: RoomMetrics): Bus {
  if (config.redisUrls.length === 0) return new MemoryBus(config.nodeId, config.rooms.historySize, metrics, config.rooms.historyTtlSec);
  log.info({ shards: config.redisUrls.length }, 'room bus: redis');
  return new RedisBus({
    urls: config.redisUrls,
    nodeId: config.nodeId,
    log,
    metrics,
    historySize: config.rooms.historySize,
    historyTtlSec: config.rooms.historyTtlSec,
  });
}
