import { publicStatus, type ChosenStatus, type PresenceChange, type PresenceRecord, type PresenceStore } from './presence.js';

interface Entry {
  chosen: ChosenStatus;
  lastSeen: number | null;
  /**
   * Device counts per node. One node is the common case (this is the single-node engine), so its
   * count sits inline and a Map is made only for a second node: one entry per user ever seen.
   */
  node: string | undefined;
  count: number;
  otherNodes: Map<string, number> | undefined;
}

/** Single-node engine: the same rules as the Redis scripts, in process memory. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly users = new Map<string, Entry>();

  async setNodeDevices(userId: string, nodeId: string, count: number, now: number): Promise<PresenceChange | undefined> {
    return this.change(userId, now, (e) => setDevices(e, nodeId, count));
  }

  async setStatus(userId: string, status: ChosenStatus, now: number): Promise<PresenceChange | undefined> {
    return this.change(userId, now, (e) => (e.chosen = status));
  }

  async get(userIds: string[]): Promise<PresenceRecord[]> {
    return userIds.map((userId) => {
      const e = this.users.get(userId);
      return { userId, chosen: e?.chosen ?? 'online', devices: e ? devices(e) : 0, lastSeen: e?.lastSeen ?? null };
    });
  }

  async removeNode(nodeId: string, now: number): Promise<PresenceChange[]> {
    const changes: PresenceChange[] = [];
    for (const userId of this.users.keys()) {
      const change = await this.setNodeDevices(userId, nodeId, 0, now);
      if (change) changes.push(change);
    }
    return changes;
  }

  private change(userId: string, now: number, apply: (e: Entry) => unknown): PresenceChange | undefined {
    let e = this.users.get(userId);
    if (!e) this.users.set(userId, (e = { chosen: 'online', lastSeen: null, node: undefined, count: 0, otherNodes: undefined }));
    const before = publicStatus(e.chosen, devices(e));
    apply(e);
    const after = publicStatus(e.chosen, devices(e));
    if (after === before) return undefined;
    if (after === 'offline') e.lastSeen = now;
    return { userId, status: after, lastSeen: e.lastSeen };
  }
}

function setDevices(e: Entry, nodeId: string, count: number): void {
  if (e.node === nodeId || (e.node === undefined && count > 0 && !e.otherNodes?.has(nodeId))) {
    e.node = count > 0 ? nodeId : undefined;
    e.count = count > 0 ? count : 0;
    return;
  }
  if (count > 0) (e.otherNodes ??= new Map()).set(nodeId, count);
  else if (e.otherNodes?.delete(nodeId) && e.otherNodes.size === 0) e.otherNodes = undefined;
}

function devices(e: Entry): number {
  let n = e.node === undefined ? 0 : e.count;
  if (e.otherNodes) for (const c of e.otherNodes.values()) n += c;
  return n;
}
