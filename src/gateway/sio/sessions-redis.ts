import type { Redis } from 'ioredis';
import type { SioSessionOwner, SioSessionRecord, SioSessions } from './sessions.js';

/** Fields of the user id and the socket id; each room is a field `r:<room>` holding its join seq. */
const USER_FIELD = 'u';
const SID_FIELD = 's';
const ROOM_PREFIX = 'r:';
const keyOf = (pid: string): string => `lg:sio:session:${pid}`;

/**
 * Cluster engine: one hash per session (`lg:sio:session:<pid>`) that expires `windowMs` after
 * its last write or refresh. A node that dies stops refreshing its sessions, so they stay
 * recoverable for one window after the node's last refresh, as Socket.IO's
 * maxDisconnectionDuration does after a disconnect.
 */
export class RedisSioSessions implements SioSessions {
  constructor(
    private readonly redis: Redis,
    private readonly windowMs: number,
  ) {}

  async join(pid: string, owner: SioSessionOwner, room: string, joinSeq: number): Promise<void> {
    const key = keyOf(pid);
    await this.redis
      .multi()
      .hset(key, USER_FIELD, owner.userId, SID_FIELD, owner.sid, ROOM_PREFIX + room, joinSeq)
      .pexpire(key, this.windowMs)
      .exec();
  }

  async leave(pid: string, room: string): Promise<void> {
    await this.redis.hdel(keyOf(pid), ROOM_PREFIX + room);
  }

  async drop(pid: string): Promise<void> {
    await this.redis.del(keyOf(pid));
  }

  async load(pid: string): Promise<SioSessionRecord | undefined> {
    const fields = await this.redis.hgetall(keyOf(pid));
    const userId = fields[USER_FIELD];
    const sid = fields[SID_FIELD];
    if (userId === undefined || sid === undefined) return undefined;
    const rooms = new Map<string, number>();
    for (const [field, value] of Object.entries(fields)) if (field.startsWith(ROOM_PREFIX)) rooms.set(field.slice(ROOM_PREFIX.length), Number(value));
    return { userId, sid, rooms };
  }

  async refresh(pids: readonly string[]): Promise<void> {
    if (pids.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const pid of pids) pipeline.pexpire(keyOf(pid), this.windowMs);
    await pipeline.exec();
  }
}
