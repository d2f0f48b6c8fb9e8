/**
 * What a socket (or every socket of a room on this node) missed on purpose: per room, the range of
 * seqs skipped since the last frame delivered, with counts per lane. It becomes one `room:skipped`
 * marker, sent before the room's next delivered frame, so a client sees the jump explained.
 */
import { SHEDDABLE, type SheddableLane } from './lanes.js';

export interface SkipRange {
  fromSeq: number;
  toSeq: number;
  counts: Record<SheddableLane, number>;
}

/** The payload of `room:skipped`. */
export interface SkippedMarker extends SkipRange {
  room: string;
}

export class SkipLedger {
  private readonly pending = new Map<string, SkipRange>();

  /** A frame of `room` with `seq` was skipped. Seqs of one room arrive in increasing order. */
  add(room: string, seq: number, lane: SheddableLane): void {
    const range = this.pending.get(room);
    if (range) {
      range.toSeq = Math.max(range.toSeq, seq);
      range.counts[lane]++;
      return;
    }
    const counts = Object.fromEntries(SHEDDABLE.map((l) => [l, 0])) as Record<SheddableLane, number>;
    counts[lane] = 1;
    this.pending.set(room, { fromSeq: seq, toSeq: seq, counts });
  }

  /** Adds a range skipped elsewhere (the node's, when a socket leaves the room's topic). */
  merge(room: string, other: SkipRange): void {
    const range = this.pending.get(room);
    if (!range) {
      this.pending.set(room, { fromSeq: other.fromSeq, toSeq: other.toSeq, counts: { ...other.counts } });
      return;
    }
    range.fromSeq = Math.min(range.fromSeq, other.fromSeq);
    range.toSeq = Math.max(range.toSeq, other.toSeq);
    for (const lane of SHEDDABLE) range.counts[lane] += other.counts[lane];
  }

  peek(room: string): SkipRange | undefined {
    return this.pending.get(room);
  }

  /** The marker of `room`, removed from the ledger; undefined when nothing was skipped. */
  take(room: string): SkippedMarker | undefined {
    const range = this.pending.get(room);
    if (!range) return undefined;
    this.pending.delete(room);
    return { room, ...range };
  }

  rooms(): string[] {
    return [...this.pending.keys()];
  }

  get size(): number {
    return this.pending.size;
  }
}
