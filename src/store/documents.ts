/**
 * The one seam through which domains reach MongoDB: the database handle (a typed `unavailable`
 * when this node runs without MONGO_URL) and reads bounded in time with one error rule (an
 * unreachable database is `unavailable`, the client retries). Writes never go through here:
 * they go through the durable write queue (write-queue.ts).
 */
import type { Collection, Db, Document } from 'mongodb';
import type { Logger } from 'pino';
import { bounded } from '../kernel/bounded.js';
import { AppError } from '../kernel/errors.js';
import type { Mongo } from './mongo.js';

export class Documents {
  constructor(
    private readonly mongo: Mongo | undefined,
    private readonly log: Logger,
    private readonly readTimeoutMs = 5000,
  ) {}

  /** Whether this node has a database at all (MONGO_URL set). */
  get configured(): boolean {
    return this.mongo !== undefined;
  }

  /** Whether the database answered its last heartbeat. */
  get connected(): boolean {
    return this.mongo?.isConnected ?? false;
  }

  /** The database, or `unavailable` when this node has none. */
  db(): Db {
    if (!this.mongo) throw new AppError('unavailable', 'this node has no database configured');
    return this.mongo.db;
  }

  collection<T extends Document = Document>(name: string): Collection<T> {
    return this.db().collection<T>(name);
  }

  /** Runs a read within the read timeout; a failed or slow database becomes `unavailable`. */
  async read<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await bounded(read(), this.readTimeoutMs, 'mongodb read');
    } catch (err) {
      if (err instanceof AppError) throw err;
      this.log.warn({ err: (err as Error).message }, 'mongodb read failed');
      throw new AppError('unavailable', 'database unavailable; retry');
    }
  }
}
