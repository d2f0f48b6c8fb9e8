/**
 * Socket.IO connection state recovery: what a session (its `pid`) had joined, kept where every
 * node can read it, so a client cut off from one node (even one killed outright) can recover on
 * another. Written on join and leave, never per event: which events the client already has comes
 * from the offset it sends back (./recovery.ts).
 * Engines: sessions-memory.ts (single node) and sessions-redis.ts (with REDIS_URL).
 */

/** Who a session is: its user, and the Socket.IO socket id (`sid`) it keeps across recoveries. */
export interface SioSessionOwner {
  userId: string;
  sid: string;
}

/** A recoverable session: its owner, and each joined room with the room's latest seq at join time. */
export interface SioSessionRecord extends SioSessionOwner {
  rooms: Map<string, number>;
}

export interface SioSessions {
  /** Records a joined room (and the session's owner), and keeps the record for the recovery window. */
  join(pid: string, owner: SioSessionOwner, room: string, joinSeq: number): Promise<void>;
  leave(pid: string, room: string): Promise<void>;
  /** Forgets a session that ended for good (the client disconnected on purpose). */
  drop(pid: string): Promise<void>;
  /** The record, or undefined once it expired (or never existed). */
  load(pid: string): Promise<SioSessionRecord | undefined>;
  /** Keeps the records of live sessions for another recovery window. */
  refresh(pids: readonly string[]): Promise<void>;
}
