/**
 * The livestream lifecycle both sides run: the socket events (src/handlers/livestream/module.ts) and the
 * REST routes (src/handlers/livestream/routes.ts) call these, so a stream started over HTTP is the
 * same stream the socket sees, with the same MongoDB record, webhooks and room events.
 */
import { randomBytes } from 'node:crypto';
import { isoMs, isoMsOrNull } from '../../kernel/schemas.js';
import type { WebhookSink } from '../../kernel/webhooks.js';
import type { RoomHub } from '../../rooms/hub.js';
import type { WriteQueue } from '../../store/write-queue.js';
import { streamRecordOp } from './directory.js';
import { asLive, type LivePage, type LiveStreamInfo, type StreamInfo, type StreamStore } from './streams.js';
import { streamRoom } from './viewers.js';

export const newStreamId = (): string => randomBytes(9).toString('base64url');

const source = (streamId: string): string => `livestream:${streamId}`;

export class LivestreamService {
  constructor(
    readonly store: StreamStore,
    private readonly queue: WriteQueue,
    private readonly hub: RoomHub,
    private readonly webhooks: WebhookSink,
  ) {}

  /** A stream record in status `created`; goes live with `start`. */
  async create(hostId: string, title: string, streamId: string = newStreamId()): Promise<StreamInfo> {
    const info = await this.store.create(streamId, hostId, title, Date.now());
    await this.queue.enqueue([streamRecordOp(info)]);
    return info;
  }

  /**
   * Goes live (see StreamStore.start); durable in the write queue before it resolves. The
   * `livestream.started` webhook goes out when this call started the stream, not for a repeat.
   */
  async start(hostId: string, streamId: string, title: string): Promise<LiveStreamInfo> {
    const now = Date.now();
    const info = asLive(await this.store.start(streamId, hostId, title, now), 'livestream:start');
    await this.queue.enqueue([streamRecordOp(info)]);
    if (info.startedAt === now)
      this.webhooks.emit('livestream.started', { livestreamId: streamId, hostId, title: info.title, startedAt: isoMs(info.startedAt) }, source(streamId));
    return info;
  }

  /** Ends a live stream (host only); the room hears `livestream:ended`. */
  async end(userId: string, streamId: string): Promise<{ info: StreamInfo; seq: number }> {
    const info = await this.store.end(streamId, userId, Date.now());
    await this.queue.enqueue([streamRecordOp(info)]);
    this.webhooks.emit(
      'livestream.ended',
      { livestreamId: streamId, hostId: userId, startedAt: isoMsOrNull(info.startedAt), endedAt: isoMsOrNull(info.endedAt) },
      source(streamId),
    );
    const message = await this.hub.publish(streamRoom(streamId), 'livestream:ended', { livestreamId: streamId, endedBy: userId });
    return { info, seq: message.seq };
  }

  get(streamId: string): Promise<StreamInfo | undefined> {
    return this.store.get(streamId);
  }

  viewerCount(streamId: string): Promise<number> {
    return this.store.viewerCount(streamId);
  }

  listLive(offset: number, limit: number): Promise<LivePage> {
    return this.store.listLive(offset, limit);
  }
}
