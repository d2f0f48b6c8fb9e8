import { publicStatus, type ChosenStatus, type PresenceChange, type PresenceRecord, type PresenceStore } from './store.js';

interface Entry {
  chosen: ChosenStatus;
  nodes: Map<string, number>;
  lastSeen: number | null;
}

/** Single-node engine: the same rules as the Redis scripts, in process memory. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly users = new Map<string, Entry>();

  async setNodeDevices(userId: string, nodeId: string, count: number, now: number): Promise<PresenceChange | undefined> {
    return this.change(userId, now, (e) => (count > 0 ? e.nodes.set(nodeId, count) : e.nodes.delete(nodeId)));
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
    if (!e) this.users.set(userId, (e = { chosen: 'online', nodes: new Map(), lastSeen: null }));
    const before = publicStatus(e.chosen, devices(e));
    apply(e);
    const after = publicStatus(e.chosen, devices(e));
    if (after === before) return undefined;
    if (after === 'offline') e.lastSeen = now;
    return { userId, status: after, lastSeen: e.lastSeen };
  }
}

function devices(e: Entry): number {
  let n = 0;
  for (const c of e.nodes.values()) n += c;
  return n;
}
