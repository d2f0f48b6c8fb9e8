/**
 * What a domain service needs around the write queue, the user rooms and MongoDB reads, with the
 * same error rules everywhere: a queue failure or an unreachable database is `unavailable`
 * (the client retries), and a read never holds a request longer than `readTimeoutMs`.
 */
import type { Logger } from 'pino';
import { AppError } from '../gateway/errors.js';
import { userRoom } from '../gateway/connection.js';
import type { RoomHub } from '../rooms/hub.js';
import { bounded } from './bounded.js';
import type { Mongo } from './mongo.js';
import type { WriteOp, WriteQueue } from './write-queue.js';

export interface DomainIoDeps {
  queue: WriteQueue;
  hub: RoomHub;
  mongo: Mongo | undefined;
  log: Logger;
}

/** A stored document's fields without its `_id` (for `setIfNewer`). */
export const stripId = ({ _id, ...rest }: { _id: string } & Record<string, unknown>): Record<string, unknown> => rest;

export class DomainIo {
  constructor(private readonly deps: DomainIoDeps, private readonly readTimeoutMs = 5000) {}

  /** Durable before the client is acknowledged. */
  async enqueue(ops: WriteOp[]): Promise<void> {
    try {
      await this.deps.queue.enqueue(ops);
    } catch (err) {
      this.deps.log.error({ err }, 'write queue unavailable');
      throw new AppError('unavailable', 'storage queue unavailable; retry');
    }
  }

  /** To every device of the user on every node; fire and forget. */
  publishToUser(userId: string, event: string, data: unknown): void {
    this.deps.hub.publish(userRoom(userId), event, data).catch((err: unknown) => this.deps.log.warn({ err, event }, 'publish failed'));
  }

  db(): Mongo['db'] {
    if (!this.deps.mongo) throw new AppError('unavailable', 'no database configured');
    return this.deps.mongo.db;
  }

  async read<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await bounded(read(), this.readTimeoutMs, 'mongodb read');
    } catch (err) {
      if (err instanceof AppError) throw err;
      this.deps.log.warn({ err: (err as Error).message }, 'mongodb read failed');
      throw new AppError('unavailable', 'database unavailable; retry');
    }
  }
}
