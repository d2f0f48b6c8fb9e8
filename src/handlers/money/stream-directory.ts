/**
 * Who hosts a livestream: the recipient of every gift sent into it, and the only user who may run
 * its shopping session. The livestream module owns streams (streamDirectoryFor in
 * src/livestream/directory.ts); lookups are cached per node for a short time (a host never
 * changes; an ended stream is noticed within the TTL).
 */

export interface StreamDirectory {
  /** The host of a live stream; undefined when it does not exist or has ended. */
  hostOf(streamId: string): Promise<string | undefined>;
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

