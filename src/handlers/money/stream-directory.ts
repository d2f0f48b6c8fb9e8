/**
 * Who hosts a livestream: the recipient of every gift sent into it, and the only user who may run
 * its shopping session. The livestream module owns streams; this seam reads them. Lookups are
 * cached per node for a short time (a host never changes; an ended stream is noticed within the TTL).
 */
import type { Db } from 'mongodb';
import { COLLECTIONS } from './collections.js';

export interface StreamDirectory {
  /** The host of a live stream; undefined when it does not exist or has ended. */
  hostOf(streamId: string): Promise<string | undefined>;
}

/** Reads the `livestreams` collection (documents with `hostId` or `userId`, `status`). */
export class MongoStreamDirectory implements StreamDirectory {
  constructor(private readonly db: () => Db) {}

  async hostOf(streamId: string): Promise<string | undefined> {
    const doc = await this.db().collection<{ _id: string } & Record<string, unknown>>(COLLECTIONS.livestreams).findOne({ _id: streamId }, { projection: { hostId: 1, userId: 1, status: 1 } });
    if (!doc || doc['status'] === 'ended') return undefined;
    const host = doc['hostId'] ?? doc['userId'];
    return typeof host === 'string' ? host : undefined;
  }
}

/** Caches positive answers for `ttlMs` (bounded size). */
export class CachedStreamDirectory implements StreamDirectory {
  private readonly cache = new Map<string, { host: string; until: number }>();

  constructor(private readonly inner: StreamDirectory, private readonly ttlMs: number, private readonly maxEntries = 50_000) {}

  async hostOf(streamId: string): Promise<string | undefined> {
    const hit = this.cache.get(streamId);
    if (hit && hit.until > Date.now()) return hit.host;
    const host = await this.inner.hostOf(streamId);
    if (host) {
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(streamId, { host, until: Date.now() + this.ttlMs });
    } else {
      this.cache.delete(streamId);
    }
    return host;
  }
}

/** Anything that can read a stream record (the livestream module's StreamStore fits). */
export interface StreamRecordSource {
  get(streamId: string): Promise<{ hostId: string; status: string } | undefined>;
}

/** Adapter over the livestream module's store (its `live` streams only). */
export class StoreStreamDirectory implements StreamDirectory {
  constructor(private readonly source: StreamRecordSource) {}

  async hostOf(streamId: string): Promise<string | undefined> {
    const record = await this.source.get(streamId);
    return record && record.status === 'live' ? record.hostId : undefined;
  }
}
