import type { Logger } from 'pino';
import type { RoomHub } from '../../rooms/hub.js';
import type { StreamStore } from './streams.js';

export const streamRoom = (streamId: string): string => `live:${streamId}`;

/**
 * This node's viewers per stream (a viewer is one connection that joined), their share in the
 * shared count, and the throttled `livestream:viewers` broadcast. Any change marks the stream
 * dirty; a ticker asks the store for the right to broadcast (at most once per interval per stream
 * across the cluster) and keeps the stream dirty until the latest total went out.
 */
export class ViewerTracker {
  private readonly local = new Map<string, Set<string>>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly store: StreamStore,
    private readonly hub: RoomHub,
    private readonly nodeId: string,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
  ) {}

  /** Adds a viewer connection; returns the total, or undefined if the stream is not live. */
  async add(streamId: string, connectionId: string): Promise<number | undefined> {
    let set = this.local.get(streamId);
    if (!set) this.local.set(streamId, (set = new Set()));
    set.add(connectionId);
    const total = await this.publishShare(streamId);
    if (total === undefined) this.forget(streamId, connectionId);
    return total;
  }

  async remove(streamId: string, connectionId: string): Promise<void> {
    if (!this.local.get(streamId)?.has(connectionId)) return;
    this.forget(streamId, connectionId);
    await this.publishShare(streamId);
  }

  isViewer(streamId: string, connectionId: string): boolean {
    return this.local.get(streamId)?.has(connectionId) ?? false;
  }

  /** A stream's count changed elsewhere (a dead node was reaped): make sure it gets broadcast. */
  markDirty(streamId: string): void {
    this.dirty.add(streamId);
  }

  /** Re-sends every local share (after this node was taken for dead). */
  async resync(): Promise<void> {
    for (const streamId of this.local.keys()) await this.publishShare(streamId);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.intervalMs / 4)));
    this.timer.unref();
  }

  /**
   * Shutdown: withdraw this node's shares and broadcast the new totals. A broadcast may have to wait
   * for the per-stream interval, so this waits up to two intervals; nobody else would send it.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const streamId of await this.store.removeNode(this.nodeId)) this.dirty.add(streamId);
    this.local.clear();
    const deadline = Date.now() + 2 * this.intervalMs;
    await this.tick();
    while (this.dirty.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.floor(this.intervalMs / 4)));
      await this.tick();
    }
  }

  private forget(streamId: string, connectionId: string): void {
    const set = this.local.get(streamId);
    set?.delete(connectionId);
    if (set?.size === 0) this.local.delete(streamId);
  }

  private async publishShare(streamId: string): Promise<number | undefined> {
    const total = await this.store.setNodeViewers(streamId, this.nodeId, this.local.get(streamId)?.size ?? 0);
    if (total === undefined) this.local.delete(streamId);
    else this.dirty.add(streamId);
    return total;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const streamId of [...this.dirty]) {
        const claim = await this.store.claimViewerBroadcast(streamId, this.intervalMs);
        if (claim === 'later') continue;
        this.dirty.delete(streamId);
        if (claim !== 'same') await this.hub.publish(streamRoom(streamId), 'livestream:viewers', { livestreamId: streamId, viewers: claim });
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'viewer broadcast failed; will retry');
    } finally {
      this.ticking = false;
    }
  }
}
