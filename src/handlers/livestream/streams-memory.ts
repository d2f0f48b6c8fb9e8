import { localVersion } from '../../rooms/room-state.js';
import { check, type CohostOp, type LivePage, type StoreOutcome, type StreamInfo, type StreamStore } from './streams.js';

interface Stream {
  info: Omit<StreamInfo, 'cohosts'>;
  cohosts: Set<string>;
  invites: Set<string>;
  viewers: Map<string, number>;
}

/** Single-node engine: the same rules as the Redis scripts, in process memory (records do not expire). */
export class MemoryStreamStore implements StreamStore {
  private readonly streams = new Map<string, Stream>();

  async create(streamId: string, hostId: string, title: string, now: number): Promise<StreamInfo> {
    check(this.streams.has(streamId) ? 'conflict' : 'ok', 'livestream:create');
    this.streams.set(streamId, fresh({ streamId, hostId, title, status: 'created', createdAt: now, startedAt: undefined, endedAt: undefined }));
    return (await this.get(streamId))!;
  }

  async start(streamId: string, hostId: string, title: string, now: number): Promise<StreamInfo> {
    const existing = this.streams.get(streamId);
    if (!existing) this.streams.set(streamId, fresh({ streamId, hostId, title, status: 'live', createdAt: now, startedAt: now, endedAt: undefined }));
    else {
      const status = existing.info.status;
      check(existing.info.hostId !== hostId || status === 'ended' ? 'conflict' : 'ok', 'livestream:start');
      if (status === 'created') Object.assign(existing.info, { status: 'live', startedAt: now });
    }
    return (await this.get(streamId))!;
  }

  async end(streamId: string, userId: string, now: number): Promise<StreamInfo> {
    const s = this.streams.get(streamId);
    const outcome: StoreOutcome =
      !s || s.info.status === 'ended' ? 'not_found' : s.info.hostId !== userId ? 'forbidden' : s.info.status === 'created' ? 'conflict' : 'ok';
    check(outcome, 'livestream:end');
    s!.info.status = 'ended';
    s!.info.endedAt = now;
    s!.viewers.clear();
    s!.invites.clear();
    return (await this.get(streamId))!;
  }

  async get(streamId: string): Promise<StreamInfo | undefined> {
    const s = this.streams.get(streamId);
    return s ? { ...s.info, cohosts: [...s.cohosts] } : undefined;
  }

  async listLive(offset: number, limit: number): Promise<LivePage> {
    // Newest start first; equal starts by id, descending (the order of Redis ZREVRANGE).
    const live = [...this.streams.values()]
      .filter((s) => s.info.status === 'live')
      .sort(
        (a, b) => (b.info.startedAt ?? 0) - (a.info.startedAt ?? 0) || (a.info.streamId < b.info.streamId ? 1 : a.info.streamId > b.info.streamId ? -1 : 0),
      );
    return { streams: live.slice(offset, offset + limit).map((s) => ({ ...s.info, cohosts: [...s.cohosts] })), total: live.length };
  }

  async viewerCount(streamId: string): Promise<number> {
    const s = this.live(streamId);
    return s ? total(s) : 0;
  }

  async cohost(op: CohostOp, streamId: string, actorId: string, targetId: string): Promise<void> {
    const s = this.live(streamId);
    if (!s) return check('not_found', `livestream:cohost:${op}`);
    const ops: Record<CohostOp, () => StoreOutcome> = {
      invite: () => (actorId !== s.info.hostId ? 'forbidden' : targetId === s.info.hostId ? 'conflict' : (s.invites.add(targetId), 'ok')),
      accept: () => (!s.invites.delete(actorId) ? 'not_found' : (s.cohosts.add(actorId), 'ok')),
      kick: () => (actorId !== s.info.hostId ? 'forbidden' : !s.cohosts.delete(targetId) ? 'not_found' : 'ok'),
    };
    check(ops[op](), `livestream:cohost:${op}`);
  }

  async setNodeViewers(streamId: string, nodeId: string, count: number): Promise<number | undefined> {
    const s = this.live(streamId);
    if (!s) return undefined;
    if (count > 0) s.viewers.set(nodeId, count);
    else s.viewers.delete(nodeId);
    return total(s);
  }

  async removeNode(nodeId: string): Promise<string[]> {
    const touched: string[] = [];
    for (const [id, s] of this.streams) if (s.viewers.delete(nodeId)) touched.push(id);
    return touched;
  }

  async liveViewerCount(streamId: string): Promise<{ viewers: number; version: number } | undefined> {
    const s = this.live(streamId);
    return s ? { viewers: total(s), version: localVersion() } : undefined;
  }

  async close(): Promise<void> {}

  private live(streamId: string): Stream | undefined {
    const s = this.streams.get(streamId);
    return s?.info.status === 'live' ? s : undefined;
  }
}

function fresh(info: Omit<StreamInfo, 'cohosts'>): Stream {
  return { info, cohosts: new Set(), invites: new Set(), viewers: new Map() };
}

function total(s: Stream): number {
  let n = 0;
  for (const c of s.viewers.values()) n += c;
  return n;
}
