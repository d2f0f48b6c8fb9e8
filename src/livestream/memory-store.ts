import { check, type CohostOp, type StoreOutcome, type StreamInfo, type StreamStore } from './store.js';

interface Stream {
  info: Omit<StreamInfo, 'cohosts'>;
  cohosts: Set<string>;
  invites: Set<string>;
  viewers: Map<string, number>;
  lastBroadcast: number | undefined;
  lastBroadcastAt: number;
}

/** Single-node engine: the same rules as the Redis scripts, in process memory. */
export class MemoryStreamStore implements StreamStore {
  private readonly streams = new Map<string, Stream>();

  async start(streamId: string, hostId: string, title: string, now: number): Promise<StreamInfo> {
    const existing = this.streams.get(streamId);
    if (existing) check(existing.info.status === 'live' && existing.info.hostId === hostId ? 'ok' : 'conflict', 'livestream:start');
    else this.streams.set(streamId, { info: { streamId, hostId, title, status: 'live', startedAt: now, endedAt: undefined }, cohosts: new Set(), invites: new Set(), viewers: new Map(), lastBroadcast: undefined, lastBroadcastAt: 0 });
    return (await this.get(streamId))!;
  }

  async end(streamId: string, userId: string, now: number): Promise<StreamInfo> {
    const s = this.live(streamId);
    check(!s ? 'not_found' : s.info.hostId !== userId ? 'forbidden' : 'ok', 'livestream:end');
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

  async claimViewerBroadcast(streamId: string, intervalMs: number): Promise<number | 'later' | 'same'> {
    const s = this.live(streamId);
    if (!s || s.lastBroadcast === total(s)) return 'same';
    const now = Date.now();
    if (now - s.lastBroadcastAt < intervalMs) return 'later';
    s.lastBroadcastAt = now;
    s.lastBroadcast = total(s);
    return s.lastBroadcast;
  }

  async close(): Promise<void> {}

  private live(streamId: string): Stream | undefined {
    const s = this.streams.get(streamId);
    return s?.info.status === 'live' ? s : undefined;
  }
}

function total(s: Stream): number {
  let n = 0;
  for (const c of s.viewers.values()) n += c;
  return n;
}
