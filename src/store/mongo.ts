import { MongoClient, type Db } from 'mongodb';
import type { Logger } from 'pino';

/**
 * The MongoDB connection. It connects in the background: the gateway serves sockets while the
 * database is away (writes wait in the durable queue), and /readyz reports the state.
 */
export class Mongo {
  readonly client: MongoClient;
  readonly db: Db;
  private connected = false;

  constructor(
    url: string,
    dbName: string,
    private readonly log: Logger,
  ) {
    this.client = new MongoClient(url, { serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000, appName: 'livegate' });
    this.db = this.client.db(dbName);
    this.client.on('serverHeartbeatFailed', () => (this.connected = false));
    this.client.on('serverHeartbeatSucceeded', () => (this.connected = true));
  }

  /** Starts connecting; resolves when connected, never rejects (retries until closed). */
  async connect(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.connect();
        this.connected = true;
        this.log.info('mongodb connected');
        return;
      } catch (err) {
        this.log.warn({ err: (err as Error).message, attempt }, 'mongodb not reachable; retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
      }
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.db.command({ ping: 1 }, { timeoutMS: 1500 });
      this.connected = true;
      return true;
    } catch {
      this.connected = false;
      return false;
    }
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** MongoDB errors that mean "the database is not reachable right now" (answered as 503, retry). */
export function isMongoUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return ['MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoNotConnectedError', 'MongoTopologyClosedError'].includes(
    err.name,
  );
}

/** A unique index refused the write (E11000). */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}
