import type { NotificationRecord } from './model.js';
import type { NotificationState } from './state.js';

/** Single-node engine (no REDIS_URL): unread notifications in this process. */
export class MemoryNotificationState implements NotificationState {
  private readonly unread = new Map<string, Map<string, NotificationRecord>>();
  private readonly keys = new Map<string, number>();

  constructor(private readonly dedupeTtlMs = 7 * 86_400_000) {}

  async add(record: NotificationRecord, dedupeKey: string | undefined): Promise<{ added: boolean; unread: number }> {
    const now = Date.now();
    let mine = this.unread.get(record.userId);
    if (dedupeKey) {
      const k = `${record.userId}\n${dedupeKey}`;
      if ((this.keys.get(k) ?? 0) > now) return { added: false, unread: mine?.size ?? 0 };
      this.keys.set(k, now + this.dedupeTtlMs);
    }
    if (!mine) this.unread.set(record.userId, (mine = new Map()));
    for (const [id, r] of mine) if (r.expiresAt <= now) mine.delete(id);
    mine.set(record.id, { ...record });
    return { added: true, unread: mine.size };
  }

  async take(userId: string, id: string): Promise<{ record: NotificationRecord | undefined; unread: number }> {
    const mine = this.unread.get(userId);
    const record = mine?.get(id);
    mine?.delete(id);
    return { record, unread: mine?.size ?? 0 };
  }

  async takeAll(userId: string): Promise<NotificationRecord[]> {
    const records = [...(this.unread.get(userId)?.values() ?? [])];
    this.unread.delete(userId);
    return records;
  }

  async unreadIds(userId: string): Promise<Set<string>> {
    return new Set(this.unread.get(userId)?.keys() ?? []);
  }

  async unreadCount(userId: string): Promise<number> {
    const now = Date.now();
    return [...(this.unread.get(userId)?.values() ?? [])].filter((r) => r.expiresAt > now).length;
  }
}
