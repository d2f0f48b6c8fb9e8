/**
 * The write pipeline, assembled from configuration: the queue engine (Redis Stream when Redis is
 * configured, memory otherwise), the WriteQueue domains use, the background writer, indexes,
 * metrics and the readiness check. app.ts creates one per node.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Readiness } from '../kernel/readiness.js';
import { processLocks, RedisDocumentLocks } from './document-locks.js';
import { INDEXES, RequiredIndexError, ensureIndexes } from './indexes.js';
import type { Mongo } from './mongo.js';
import { QueueMetrics } from './queue-metrics.js';
import { MemoryStreamQueue } from './stream-queue-memory.js';
import { RedisStreamQueue } from './stream-queue-redis.js';
import { writeOpsCodec, type WriteStreamQueue } from './stream-queue.js';
import type { QueueGuard, WriteOp, WriteQueue } from './write-queue.js';
import { Writer } from './writer.js';

export interface Store {
  readonly queue: WriteQueue;
  /** Starts the writer and index creation in the background (never waits for MongoDB). */
  start(): void;
  /** Stops the writer after flushing what it can within WRITE_FLUSH_MS. */
  stop(): Promise<void>;
}

export interface StoreDeps {
  config: Config;
  log: Logger;
  registry: Registry;
  readiness: Readiness;
  redis: Redis | undefined;
  mongo: Mongo | undefined;
  /** A condition the node must not run under (a required index the server cannot build). */
  onFatal: (err: Error) => void;
}

export function createStore(deps: StoreDeps): Store {
  const { config, redis, mongo } = deps;
  const log = deps.log.child({ component: 'store' });
  if (!mongo) return discardingStore(log, redis);

  const engine: WriteStreamQueue = redis
    ? new RedisStreamQueue(redis, redis.duplicate({ connectionName: `livegate:${config.nodeId}:writer` }), writeOpsCodec, {
        stream: config.writeQueue.stream,
        group: 'writers',
        consumer: config.nodeId,
        claimIdleMs: config.writeQueue.claimIdleMs,
      })
    : new MemoryStreamQueue<WriteOp[]>();
  const locks = redis ? new RedisDocumentLocks(redis, config.writeQueue.stream, config.nodeId) : processLocks;
  const metrics = new QueueMetrics(deps.registry, engine);
  const writer = new Writer(engine, locks, mongo.db, metrics, log, {
    batchSize: config.writeQueue.batchSize,
    maxBulkOps: config.writeQueue.maxBulkOps,
    blockMs: 1000,
    claimEveryMs: Math.max(250, Math.min(5000, Math.floor(config.writeQueue.claimIdleMs / 2))),
    maxBackoffMs: config.writeQueue.maxBackoffMs,
    writeTimeoutMs: config.writeQueue.writeTimeoutMs,
  });
  deps.readiness.register('writer', async () => writer.running);
  let indexing = true;

  const queue: WriteQueue = {
    async enqueue(ops: WriteOp[]) {
      if (ops.length === 0) return;
      if (!(await engine.append(ops))) throw new Error(`${engine.name} write queue is full`);
      metrics.enqueued.inc({ engine: engine.name }, ops.length);
    },
    async enqueueGuarded(ops: WriteOp[], guard: QueueGuard) {
      const done = await engine.appendGuarded(ops, guard);
      if (done) metrics.enqueued.inc({ engine: engine.name }, ops.length);
      return done;
    },
  };

  return {
    queue,
    start() {
      log.info({ engine: engine.name, stream: engine.name === 'redis' ? config.writeQueue.stream : undefined }, 'write pipeline started');
      writer.start();
      void (async () => {
        for (let attempt = 1; indexing; attempt++) {
          try {
            await ensureIndexes(mongo.db, INDEXES, log);
            log.info({ indexes: INDEXES.length }, 'indexes ensured');
            return;
          } catch (err) {
            if (err instanceof RequiredIndexError) {
              log.fatal(
                { collection: err.spec.collection, key: err.spec.key, codeName: err.codeName, err: err.message },
                'a required unique index cannot be built on this MongoDB server; refusing to run',
              );
              deps.onFatal(err);
              return;
            }
            if (attempt === 1 || attempt % 10 === 0) log.warn({ err: (err as Error).message, attempt }, 'index creation failed; retrying');
            await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * attempt)));
          }
        }
      })();
    },
    async stop() {
      indexing = false;
      const left = await writer.stop(config.writeQueue.flushMs);
      if (left > 0 && engine.name === 'memory') log.error({ left }, 'memory write queue: entries lost at shutdown (no Redis to keep them)');
      await engine.close();
    },
  };
}

/** Without MONGO_URL there is no system of record: writes are dropped (logged once). */
function discardingStore(log: Logger, redis: Redis | undefined): Store {
  let warned = false;
  const discard = (): void => {
    if (!warned) log.warn('MONGO_URL is not set: writes are not persisted');
    warned = true;
  };
  return {
    queue: {
      async enqueue() {
        discard();
      },
      // The guard members (money outbox entries) still leave, or the sweeper would retry them forever.
      async enqueueGuarded(_ops, guard) {
        discard();
        if (!redis) return true;
        return (await redis.zrem(guard.set, ...guard.members)) === guard.members.length;
      },
    },
    start() {},
    async stop() {},
  };
}
