/**
 * The cluster bus: how a room event reaches every node that has members in the room.
 * Engines: memory-bus.ts (single node) and, with REDIS_URL, the Redis pub/sub engine.
 * The bus never touches sockets: it hands what arrives to the listener (the RoomHub).
 */

/** One sequenced room event, as carried between nodes. */
export interface RoomMessage {
  room: string;
  event: string;
  data: unknown;
  /** Per-room sequence number, increasing by one per message (the first is seqBase(), not 1). */
  seq: number;
  /** Milliseconds since epoch when the publisher handed it to the bus. */
  ts: number;
  /** NODE_ID of the publisher. */
  origin: string;
}

/**
 * What a publish reports back: the sequenced message plus how many nodes the bus handed it to
 * (Redis: the PUBLISH reply, i.e. the nodes subscribed to the room's channel; memory: 1 or 0).
 */
export interface Published extends RoomMessage {
  nodes: number;
}

/**
 * The first seq of a room counter: the current time in milliseconds, not 1. A counter can be
 * lost (idle expiry, a shard restarted without persistence, a single node restarted); starting
 * the new one at the clock keeps seqs increasing across the loss as long as the room carried
 * fewer than one message per millisecond, so a client's old lastSeq is below the new window and
 * it gets a gap (refetch) instead of silently skipping events with reused numbers.
 */
export function seqBase(nowMs: number): number {
  return Math.max(1, Math.floor(nowMs));
}

export type HistoryResult = { kind: 'messages'; messages: RoomMessage[] } | { kind: 'gap'; oldestSeq: number; latestSeq: number };

export interface Bus {
  /** Starts delivering this room's messages to this node (called when the first local member joins). */
  subscribe(room: string): Promise<void>;
  /** Stops delivering (called when the last local member leaves). */
  unsubscribe(room: string): Promise<void>;
  /**
   * Assigns the next sequence number, records the message in the room's bounded history and
   * delivers it once to every subscribed node, this one included. `nodes` counts those nodes.
   */
  publish(room: string, event: string, data: unknown): Promise<Published>;
  /** Messages with seq > afterSeq, or a gap if some of them are no longer kept. */
  history(room: string, afterSeq: number): Promise<HistoryResult>;
  onMessage(listener: (message: RoomMessage) => void): void;
  close(): Promise<void>;
}
