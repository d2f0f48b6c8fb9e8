/** What the room hub needs of a member's room list. A `Set<string>` fits; connections use RoomSet. */
export interface MemberRooms extends Iterable<string> {
  readonly size: number;
  has(room: string): boolean;
  add(room: string): unknown;
  delete(room: string): boolean;
  clear(): void;
}

/**
 * A set of room names that stores its first two entries inline and only allocates a Set beyond
 * them. Every connection is in two rooms (its user room and `broadcast`) and most stay there, so
 * an idle connection costs two fields instead of a Set and its hash table (~150 bytes each).
 * Iteration order is not insertion order.
 */
export class RoomSet implements MemberRooms {
  private a: string | undefined;
  private b: string | undefined;
  private more: Set<string> | undefined;

  get size(): number {
    return (this.a === undefined ? 0 : 1) + (this.b === undefined ? 0 : 1) + (this.more?.size ?? 0);
  }

  has(room: string): boolean {
    return this.a === room || this.b === room || (this.more?.has(room) ?? false);
  }

  add(room: string): this {
    if (this.has(room)) return this;
    if (this.a === undefined) this.a = room;
    else if (this.b === undefined) this.b = room;
    else (this.more ??= new Set()).add(room);
    return this;
  }

  delete(room: string): boolean {
    if (this.a === room) this.a = undefined;
    else if (this.b === room) this.b = undefined;
    else if (!this.more?.delete(room)) return false;
    if (this.more?.size === 0) this.more = undefined;
    return true;
  }

  clear(): void {
    this.a = this.b = this.more = undefined;
  }

  /** A snapshot: the set may change while the caller walks it. */
  [Symbol.iterator](): Iterator<string> {
    const rooms: string[] = [];
    if (this.a !== undefined) rooms.push(this.a);
    if (this.b !== undefined) rooms.push(this.b);
    if (this.more) rooms.push(...this.more);
    return rooms[Symbol.iterator]();
  }
}
