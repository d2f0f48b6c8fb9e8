import type { SioSessionOwner, SioSessionRecord, SioSessions } from './sessions.js';

/** Single-node engine: records in process memory, dropped `windowMs` after their last write or refresh. */
export class MemorySioSessions implements SioSessions {
  private readonly records = new Map<string, SioSessionRecord & { expiresAt: number }>();

  constructor(private readonly windowMs: number) {}

  async join(pid: string, owner: SioSessionOwner, room: string, joinSeq: number): Promise<void> {
    const record = this.live(pid) ?? { userId: owner.userId, sid: owner.sid, rooms: new Map<string, number>(), expiresAt: 0 };
    record.rooms.set(room, joinSeq);
    record.expiresAt = Date.now() + this.windowMs;
    this.records.set(pid, record);
  }

  async leave(pid: string, room: string): Promise<void> {
    this.live(pid)?.rooms.delete(room);
  }

  async drop(pid: string): Promise<void> {
    this.records.delete(pid);
  }

  async load(pid: string): Promise<SioSessionRecord | undefined> {
    const record = this.live(pid);
    return record && { userId: record.userId, sid: record.sid, rooms: new Map(record.rooms) };
  }

  async refresh(pids: readonly string[]): Promise<void> {
    const expiresAt = Date.now() + this.windowMs;
    for (const pid of pids) {
      const record = this.live(pid);
      if (record) record.expiresAt = expiresAt;
    }
  }

  private live(pid: string): (SioSessionRecord & { expiresAt: number }) | undefined {
    const record = this.records.get(pid);
    if (record && record.expiresAt <= Date.now()) {
      this.records.delete(pid);
      return undefined;
    }
    return record;
  }
}
