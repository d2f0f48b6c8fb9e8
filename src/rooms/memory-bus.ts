import { seqBase, type Bus, type HistoryResult, type Published, type RoomMessage } from './bus.js';
import type { RoomMetrics } from './metrics.js';

/**
 * Single-node engine: sequencing, history and delivery in process memory.
 * Nothing survives a restart; with REDIS_URL set the Redis engine is used instead.
 */
export class MemoryBus implements Bus {
  private readonly seqs = new Map<string, number>();
  private readonly histories = new Map<string, RoomMessage[]>();
  private readonly subscribed = new Set<string>();
  private listener: (message: RoomMessage) => void = () => {};

  constructor(private readonly nodeId: string, private readonly historySize = 200, private readonly metrics?: RoomMetrics) {}

  async subscribe(room: string): Promise<void> {
    if (!this.subscribed.has(room)) this.metrics?.subscriptions.inc();
    this.subscribed.add(room);
  }

  async unsubscribe(room: string): Promise<void> {
    if (this.subscribed.delete(room)) this.metrics?.subscriptions.dec();
  }

  async publish(room: string, event: string, data: unknown): Promise<Published> {
    const previous = this.seqs.get(room);
    const seq = previous === undefined ? seqBase(Date.now()) : previous + 1;
    this.seqs.set(room, seq);
    const message: RoomMessage = { room, event, data, seq, ts: Date.now(), origin: this.nodeId };
    let history = this.histories.get(room);
    if (!history) this.histories.set(room, (history = []));
    history.push(message);
    if (history.length > this.historySize) history.shift();
    this.metrics?.published.inc();
    const delivered = this.subscribed.has(room);
    if (delivered) {
      this.metrics?.received.inc();
      this.listener(message);
    }
    return { ...message, nodes: delivered ? 1 : 0 };
  }

  async history(room: string, afterSeq: number): Promise<HistoryResult> {
    const latestSeq = this.seqs.get(room) ?? 0;
    const history = this.histories.get(room) ?? [];
    const oldestSeq = history[0]?.seq ?? latestSeq + 1;
    if (afterSeq === latestSeq) return { kind: 'messages', messages: [] };
    // Older than the window, or newer than anything (the counter was reset): refetch.
    if (afterSeq > latestSeq || afterSeq + 1 < oldestSeq) return { kind: 'gap', oldestSeq, latestSeq };
    return { kind: 'messages', messages: history.filter((m) => m.seq > afterSeq) };
  }

  onMessage(listener: (message: RoomMessage) => void): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    this.subscribed.clear();
  }
}
