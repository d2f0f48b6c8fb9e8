import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { DateTime, isoMs } from '../../kernel/schemas.js';
import { createMilestones } from '../bridge/milestones.js';
import { requireMoney, type MoneyServices } from '../wallets/services.js';
import { streamStoreFor } from './directory.js';
import { livestreamRoutes } from './routes.js';
import { LIVESTREAM_EVENTS } from './schemas.js';
import { LivestreamService, newStreamId } from './service.js';
import type { StreamStore } from './streams.js';
import { ViewerTracker, streamRoom } from './viewers.js';

const StreamId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const UserId = Type.String({ minLength: 1, maxLength: 128 });
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const ROOM_PREFIX = 'live:';

/** The acks (published in /openapi.json under x-livegate-events). */
const Stream = { livestreamId: Type.String() };
const StartAck = Type.Object({ ...Stream, room: Type.String(), startedAt: DateTime }, { additionalProperties: false });
export const SeqAck = Type.Object({ ...Stream, seq: Seq }, { additionalProperties: false });
const StreamAck = Type.Object(Stream, { additionalProperties: false });
const UserAck = Type.Object({ ...Stream, userId: Type.String() }, { additionalProperties: false });
export const JoinAck = Type.Object(
  {
    ...Stream,
    title: Type.String(),
    hostId: Type.String(),
    cohosts: Type.Array(Type.String()),
    viewers: Type.Integer({ minimum: 0 }),
    resume: Type.Optional(Type.Object({ gap: Type.Boolean(), latestSeq: Seq }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

/**
 * Livestreams: start/end (host), join/leave (viewers, exact cluster-wide counts), live chat,
 * co-hosts. Stream state lives in a StreamStore (Redis with REDIS_URL, memory otherwise); the
 * stream's events go to the room `live:<streamId>`. Create, start and end are also queued for
 * MongoDB (collection `livestreams`). HTTP: /api/livestreams/* (livestream/routes.ts, the same
 * LivestreamService). Docs: docs/events/livestream.md, docs/HTTP.md.
 */
export const livestreamModule =
  (money: MoneyServices | undefined): ModuleFactory =>
  (core) => {
    const store: StreamStore = streamStoreFor(core);
    const service = new LivestreamService(store, core.queue, core.hub, core.webhooks);
    const viewers = new ViewerTracker(store, core.hub, core.config.nodeId, core.log);

    core.liveness.onNodeDead(async (deadNode) => {
      for (const streamId of await store.removeNode(deadNode)) viewers.markDirty(streamId);
    });
    core.liveness.onResync(() => viewers.resync());
    // room:resume of a stream room: its host and co-hosts while it is live (the SDK rejoins them so after
    // a reconnect); viewers rejoin with livestream:join {lastSeq}, which counts them again.
    core.roomAccess.register('live', async (session, streamId) => {
      const info = await store.get(streamId);
      return info?.status === 'live' && (info.hostId === session.userId || info.cohosts.includes(session.userId));
    });
    const milestones = createMilestones(core.redis);
    const source = (streamId: string): string => `livestream:${streamId}`;

    const live = async (streamId: string) => {
      const info = await store.get(streamId);
      if (!info || info.status !== 'live') throw new AppError('not_found', `livestream ${streamId} is not live`);
      return info;
    };

    return {
      name: 'livestream',
      emits: LIVESTREAM_EVENTS,
      routes: livestreamRoutes({ service, gifts: () => requireMoney(money).gifts }),
      handlers: {
        'livestream:start': defineHandler(
          Type.Object({ title: Type.String({ minLength: 1, maxLength: 200 }), livestreamId: Type.Optional(StreamId) }),
          async (ctx, { title, livestreamId }) => {
            const id = livestreamId ?? newStreamId();
            // Durable in the write queue before the ack; MongoDB gets it asynchronously.
            const info = await service.start(ctx.session.userId, id, title);
            ctx.join(streamRoom(id));
            await core.hub.ready(streamRoom(id));
            return { livestreamId: id, room: streamRoom(id), startedAt: isoMs(info.startedAt) };
          },
          StartAck,
        ),

        'livestream:end': defineHandler(
          Type.Object({ livestreamId: StreamId }),
          async (ctx, { livestreamId: streamId }) => {
            const { seq } = await service.end(ctx.session.userId, streamId);
            return { livestreamId: streamId, seq };
          },
          SeqAck,
        ),

        'livestream:join': defineHandler(
          Type.Object({ livestreamId: StreamId, lastSeq: Type.Optional(Seq) }),
          async (ctx, { livestreamId: streamId, lastSeq }) => {
            const info = await live(streamId);
            const room = streamRoom(streamId);
            // With lastSeq the missed events are replayed (or room:gap is sent) before live ones.
            let resume: { gap: boolean; latestSeq: number } | undefined;
            if (lastSeq !== undefined) {
              const result = await ctx.resume(room, lastSeq);
              if (result.kind === 'left') throw new AppError('conflict', 'left the stream while joining');
              resume = { gap: result.kind === 'gap', latestSeq: result.latestSeq };
            } else {
              ctx.join(room);
              await core.hub.ready(room);
            }
            const total = await viewers.add(streamId, ctx.session.connectionId);
            if (total === undefined) {
              ctx.leave(room);
              throw new AppError('not_found', `livestream ${streamId} is not live`);
            }
            if (core.webhooks.isEnabled('livestream.viewer_milestone')) {
              milestones.reached(streamId, total).then(
                (milestone) =>
                  milestone &&
                  core.webhooks.emit(
                    'livestream.viewer_milestone',
                    { livestreamId: streamId, hostId: info.hostId, milestone, viewers: total },
                    source(streamId),
                  ),
                (err: unknown) => core.log.warn({ err: (err as Error).message, streamId }, 'viewer milestone check failed'),
              );
            }
            return { livestreamId: streamId, title: info.title, hostId: info.hostId, cohosts: info.cohosts, viewers: total, ...(resume ? { resume } : {}) };
          },
          JoinAck,
        ),

        'livestream:leave': defineHandler(
          Type.Object({ livestreamId: StreamId }),
          async (ctx, { livestreamId: streamId }) => {
            ctx.leave(streamRoom(streamId));
            await viewers.remove(streamId, ctx.session.connectionId);
            return { livestreamId: streamId };
          },
          StreamAck,
        ),

        'livestream:chat': defineHandler(
          Type.Object({ livestreamId: StreamId, text: Type.String({ minLength: 1, maxLength: 500 }) }),
          async (ctx, { livestreamId: streamId, text }) => {
            if (!ctx.isMember(streamRoom(streamId))) throw new AppError('forbidden', 'join the livestream before chatting');
            const message = await core.hub.publish(streamRoom(streamId), 'livestream:chat', {
              livestreamId: streamId,
              userId: ctx.session.userId,
              text,
              sentAt: new Date().toISOString(),
            });
            return { livestreamId: streamId, seq: message.seq };
          },
          SeqAck,
        ),

        'livestream:cohost:invite': defineHandler(
          Type.Object({ livestreamId: StreamId, userId: UserId }),
          async (ctx, { livestreamId: streamId, userId }) => {
            await store.cohost('invite', streamId, ctx.session.userId, userId);
            await core.hub.publish(userRoom(userId), 'livestream:cohost:invited', { livestreamId: streamId, hostId: ctx.session.userId });
            return { livestreamId: streamId, userId };
          },
          UserAck,
        ),

        'livestream:cohost:accept': defineHandler(
          Type.Object({ livestreamId: StreamId }),
          async (ctx, { livestreamId: streamId }) => {
            await store.cohost('accept', streamId, ctx.session.userId, ctx.session.userId);
            ctx.join(streamRoom(streamId));
            await core.hub.ready(streamRoom(streamId));
            await core.hub.publish(streamRoom(streamId), 'livestream:cohost:joined', { livestreamId: streamId, userId: ctx.session.userId });
            return { livestreamId: streamId };
          },
          StreamAck,
        ),

        'livestream:cohost:kick': defineHandler(
          Type.Object({ livestreamId: StreamId, userId: UserId }),
          async (ctx, { livestreamId: streamId, userId }) => {
            await store.cohost('kick', streamId, ctx.session.userId, userId);
            await core.hub.publish(streamRoom(streamId), 'livestream:cohost:removed', { livestreamId: streamId, userId });
            return { livestreamId: streamId, userId };
          },
          UserAck,
        ),
      },

      onDisconnect(session, rooms) {
        for (const room of rooms) {
          if (!room.startsWith(ROOM_PREFIX)) continue;
          viewers
            .remove(room.slice(ROOM_PREFIX.length), session.connectionId)
            .catch((err: unknown) => core.log.warn({ err: (err as Error).message, room }, 'viewer leave failed'));
        }
      },

      async start() {
        viewers.start();
      },

      async stop() {
        await viewers.stop();
        await store.close();
      },
    };
  };
