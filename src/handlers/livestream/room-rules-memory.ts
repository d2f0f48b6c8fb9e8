import { localVersion } from '../../rooms/room-state.js';
import { DEFAULT_SETTINGS, fairShare, type ChatVerdict, type RoomRules, type StreamSettings } from './room-rules.js';

interface Room {
  settings: StreamSettings;
  window: number;
  broadcast: number;
  prevSenders: number;
  senders: Map<string, number>;
  cooldownUntil: Map<string, number>;
}

/** One node's chat rules (no REDIS_URL): the rules of room-rules.ts in process memory. */
export class MemoryRoomRules implements RoomRules {
  private readonly rooms = new Map<string, Room>();

  async settings(room: string): Promise<StreamSettings> {
    return { ...(this.rooms.get(room)?.settings ?? DEFAULT_SETTINGS) };
  }

  async readSettings(room: string): Promise<{ settings: StreamSettings; version: number }> {
    return { settings: await this.settings(room), version: localVersion() };
  }

  async configure(room: string, patch: Partial<StreamSettings>): Promise<StreamSettings> {
    const r = this.room(room);
    r.settings = { ...r.settings, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) };
    return { ...r.settings };
  }

  async admitChat(room: string, userId: string, { lines: budget, windowMs }: { lines: number; windowMs: number }, exempt: boolean): Promise<ChatVerdict> {
    const r = this.room(room);
    const now = Date.now();
    if (!exempt && r.settings.slowModeMs > 0) {
      const until = r.cooldownUntil.get(userId) ?? 0;
      if (until > now) return { kind: 'slow', retryAfterMs: until - now };
      r.cooldownUntil.set(userId, now + r.settings.slowModeMs);
      if (r.cooldownUntil.size > 10_000) for (const [u, t] of r.cooldownUntil) if (t <= now) r.cooldownUntil.delete(u);
    }
    const win = Math.floor(now / windowMs);
    if (win !== r.window) {
      r.prevSenders = win === r.window + 1 ? r.senders.size : 0;
      r.window = win;
      r.broadcast = 0;
      r.senders = new Map();
    }
    const mine = r.senders.get(userId) ?? 0;
    r.senders.set(userId, mine);
    const admit = exempt || (r.broadcast < budget && mine < fairShare(budget, Math.max(r.senders.size, r.prevSenders)));
    if (!admit) return { kind: 'sampled' };
    r.broadcast += 1;
    r.senders.set(userId, mine + 1);
    return { kind: 'broadcast' };
  }

  private room(room: string): Room {
    let r = this.rooms.get(room);
    if (!r) {
      r = {
        settings: { ...DEFAULT_SETTINGS },
        window: 0,
        broadcast: 0,
        prevSenders: 0,
        senders: new Map(),
        cooldownUntil: new Map(),
      };
      this.rooms.set(room, r);
    }
    return r;
  }
}
