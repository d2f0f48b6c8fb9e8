import type { Session } from '../kernel/session.js';

/** Decides whether a session may read a room (`<kind>:<id>`), e.g. to resume it. */
export type RoomReadCheck = (session: Session, id: string) => boolean | Promise<boolean>;

/**
 * Who may read which room, by room kind (the text before the first colon). Domains register
 * their kinds (`conv`, `presence`, ...); a kind nobody registered is readable by nobody.
 */
export class RoomAccess {
  private readonly checks = new Map<string, RoomReadCheck>();

  register(kind: string, check: RoomReadCheck): void {
    if (this.checks.has(kind)) throw new Error(`room kind "${kind}" is registered twice`);
    this.checks.set(kind, check);
  }

  async canRead(session: Session, room: string): Promise<boolean> {
    const colon = room.indexOf(':');
    if (colon <= 0) return false;
    const check = this.checks.get(room.slice(0, colon));
    return check ? await check(session, room.slice(colon + 1)) : false;
  }
}
