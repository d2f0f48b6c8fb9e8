/**
 * What a domain service needs around the write queue, the user rooms and MongoDB reads, with the
 * same error rules everywhere: a queue failure or an unreachable database is `unavailable`
 * (the client retries), and a read never holds a request longer than `readTimeoutMs`.
 */
import type { Logger } from 'pino';
import { AppError } from '../kernel/errors.js';
import { userRoom } from '../kernel/rooms.js';
import type { RoomHub } from '../rooms/hub.js';
import type { Documents } from './documents.js';
import type { WriteOp, WriteQueue } from './write-queue.js';

export interface DomainIoDeps {
  queue: WriteQueue;
  hub: RoomHub;
  documents: Documents;
  log: Logger;
}

/** A stored document's fields without its `_id` (for `setIfNewer`). */
export const stripId = ({ _id, ...rest }: { _id: string } & Record<string, unknown>): Record<string, unknown> => rest;

export class DomainIo {
  constructor(private readonly deps: DomainIoDeps) {}

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
    this.deps.hub.send(userRoom(userId), event, data);
  }

  db(): ReturnType<Documents['db']> {
    return this.deps.documents.db();
  }

  read<T>(read: () => Promise<T>): Promise<T> {
    return this.deps.documents.read(read);
  }
}
