import type { RoomState, VersionedFrame } from '../../rooms/room-state.js';
import type { StreamStore } from './streams.js';

export const streamRoom = (streamId: string): string => `live:${streamId}`;

/** The keyed-state key of a stream's viewer count (core.roomState). */
export const VIEWERS_KEY = 'viewers';

/**
 * This node's viewers per stream (a viewer is one connection that joined), their share in the
 * shared count, and the `livestream:viewers` frame: any change is offered to the room's keyed
 * state (core.roomState), which sends the latest total at most once per ROOM_STATE_INTERVAL_MS
 * per stream across the cluster.
 */
export class ViewerTracker {
  private readonly local = new Map<string, Set<string>>();

  constructor(
    private readonly store: StreamStore,
    private readonly roomState: RoomState,
    private readonly nodeId: string,
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

  /** Removes a viewer connection; returns the new total (undefined: it was no viewer here, or the stream is not live). */
  async remove(streamId: string, connectionId: string): Promise<number | undefined> {
    if (!this.local.get(streamId)?.has(connectionId)) return undefined;
    this.forget(streamId, connectionId);
    return this.publishShare(streamId);
  }

  has(streamId: string, connectionId: string): boolean {
    return this.local.get(streamId)?.has(connectionId) ?? false;
  }

  /** A stream's count changed elsewhere (a dead node was reaped): make sure it gets broadcast. */
  markDirty(streamId: string): void {
    this.roomState.changed(streamRoom(streamId), VIEWERS_KEY, () => this.frame(streamId));
  }

  /** Re-sends every local share (after this node was taken for dead). */
  async resync(): Promise<void> {
    for (const streamId of this.local.keys()) await this.publishShare(streamId);
  }

  /** Shutdown: withdraw this node's shares and let the new totals go out (bounded wait). */
  async stop(waitMs: number): Promise<void> {
    for (const streamId of await this.store.removeNode(this.nodeId)) this.markDirty(streamId);
    this.local.clear();
    await this.roomState.idle(waitMs);
  }

  private async frame(streamId: string): Promise<VersionedFrame | undefined> {
    const count = await this.store.liveViewerCount(streamId);
    return count && { event: 'livestream:viewers', data: { livestreamId: streamId, viewers: count.viewers }, version: count.version };
  }

  private forget(streamId: string, connectionId: string): void {
    const set = this.local.get(streamId);
    set?.delete(connectionId);
    if (set?.size === 0) this.local.delete(streamId);
  }

  private async publishShare(streamId: string): Promise<number | undefined> {
    const total = await this.store.setNodeViewers(streamId, this.nodeId, this.local.get(streamId)?.size ?? 0);
    if (total === undefined) this.local.delete(streamId);
    else this.markDirty(streamId);
    return total;
  }
}
