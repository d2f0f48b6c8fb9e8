import { seqBase, type Bus, type HistoryResult, type Published, type RoomMessage } from './bus.js';
import type { RoomMetrics } from './metrics.js';

/**
 * Single-node engine: sequencing, history and delivery in process memory.
 * Nothing survives a restart; with REDIS_URL set the Redis engine is used instead.
 *
 * A room's log is its recent messages, oldest first; the last one carries the room's latest
 * seq, so one map holds counter and history (every connection's presence room has one). Like
 * the Redis engine's keys, a log idle for `historyTtlSec` is dropped: its counter restarts
 * from the clock (seqBase), and clients resuming from before get a gap.
 */
export class MemoryBus implements Bus {
  private readonly logs = new Map<string, RoomMessage[]>();
  private readonly subscribed = new Set<string>();
  private listener: (message: RoomMessage) => void = () => {};
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly nodeId: string,
    private readonly historySize = 200,
    private readonly metrics?: RoomMetrics,
    private readonly historyTtlSec?: number,
  ) {
    if (historyTtlSec !== undefined) {
      this.sweeper = setInterval(() => this.expire(Date.now()), Math.min(historyTtlSec * 1000, 60_000) / 2);
      this.sweeper.unref();
    }
  }

  async subscribe(room: string): Promise<void> {
    if (!this.subscribed.has(room)) this.metrics?.subscriptions.inc();
    this.subscribed.add(room);
  }

  async unsubscribe(room: string): Promise<void> {
    if (this.subscribed.delete(room)) this.metrics?.subscriptions.dec();
  }

  async publish(room: string, event: string, data: unknown): Promise<Published> {
    const now = Date.now();
    const log = this.logs.get(room);
    const previous = log?.[log.length - 1];
    const message: RoomMessage = { room, event, data, seq: previous === undefined ? seqBase(now) : previous.seq + 1, ts: now, origin: this.nodeId };
    if (!log) this.logs.set(room, [message]);
    else {
      log.push(message);
      if (log.length > this.historySize) log.shift();
    }
    this.metrics?.published.inc();
    const delivered = this.subscribed.has(room);
    if (delivered) {
      this.metrics?.received.inc();
      this.listener(message);
    }
    return { ...message, nodes: delivered ? 1 : 0 };
  }

  async history(room: string, afterSeq: number): Promise<HistoryResult> {
    const log = this.logs.get(room) ?? [];
    const latestSeq = log[log.length - 1]?.seq ?? 0;
    const oldestSeq = log[0]?.seq ?? latestSeq + 1;
    if (afterSeq === latestSeq) return { kind: 'messages', messages: [] };
    // Older than the window, or newer than anything (the counter was reset): refetch.
    if (afterSeq > latestSeq || afterSeq + 1 < oldestSeq) return { kind: 'gap', oldestSeq, latestSeq };
    return { kind: 'messages', messages: log.filter((m) => m.seq > afterSeq) };
  }

  onMessage(listener: (message: RoomMessage) => void): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.subscribed.clear();
  }

  /** Drops the logs of rooms that published nothing for historyTtlSec. */
  private expire(now: number): void {
    const cutoff = now - (this.historyTtlSec ?? Infinity) * 1000;
    for (const [room, log] of this.logs) if ((log[log.length - 1]?.ts ?? 0) < cutoff) this.logs.delete(room);
  }
}
