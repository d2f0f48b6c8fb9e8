import type { Offer, RoomStateStore, StateEntry, StateFrame, VersionedFrame } from './room-state.js';

/** One node's keyed room state (no REDIS_URL): the same rules as the Redis engine, in process memory. */
export class MemoryRoomStateStore implements RoomStateStore {
  private readonly rooms = new Map<string, Map<string, { latest: string; version: number; published?: string; leaseUntil: number }>>();

  async offer(room: string, key: string, frame: VersionedFrame, intervalMs: number): Promise<Offer> {
    let keys = this.rooms.get(room);
    if (!keys) this.rooms.set(room, (keys = new Map()));
    const json = JSON.stringify({ event: frame.event, data: frame.data } satisfies StateFrame);
    const entry = keys.get(key) ?? { latest: json, version: frame.version, leaseUntil: 0 };
    if (entry.version > frame.version) return { kind: 'stale' };
    entry.latest = json;
    entry.version = frame.version;
    keys.set(key, entry);
    if (entry.published === json) return { kind: 'same' };
    const now = Date.now();
    if (entry.leaseUntil > now) return { kind: 'later', waitMs: entry.leaseUntil - now };
    entry.leaseUntil = now + intervalMs;
    entry.published = json;
    return { kind: 'publish' };
  }

  async snapshot(room: string): Promise<StateEntry[]> {
    const out: StateEntry[] = [];
    for (const [key, { latest }] of this.rooms.get(room) ?? []) {
      const frame = JSON.parse(latest) as StateFrame;
      out.push({ key, event: frame.event, data: frame.data });
    }
    return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  }

  async unpublished(room: string, key: string): Promise<void> {
    const entry = this.rooms.get(room)?.get(key);
    if (entry) delete entry.published;
  }

  async drop(room: string, key: string): Promise<void> {
    const keys = this.rooms.get(room);
    keys?.delete(key);
    if (keys?.size === 0) this.rooms.delete(room);
  }
}
