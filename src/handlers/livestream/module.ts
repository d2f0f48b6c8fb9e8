import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { DateTime, RoomStateList, isoMs } from '../../kernel/schemas.js';
import { createMilestones } from '../bridge/milestones.js';
import { contactDirectoryFor } from '../presence/contacts.js';
import { moneyKeys } from '../wallets/keys.js';
import { requireMoney, type MoneyServices } from '../wallets/services.js';
import { streamStoreFor } from './directory.js';
import { HotRoom } from './hot-room.js';
import { MemoryJoinTally } from './join-tally-memory.js';
import { RedisJoinTally } from './join-tally-redis.js';
import { JoinAnnouncer, type NotableCheck } from './joins.js';
import { HotRoomMetrics } from './metrics.js';
import { MemoryRoomRules } from './room-rules-memory.js';
import { RedisRoomRules } from './room-rules-redis.js';
import { livestreamRoutes } from './routes.js';
import { LIVESTREAM_EVENTS, SettingsAck, SettingsInput } from './schemas.js';
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
const SeqAck = Type.Object({ ...Stream, seq: Seq }, { additionalProperties: false });
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
    state: RoomStateList,
  },
  { additionalProperties: false },
);
export const ChatAck = Type.Union([
  Type.Object({ ...Stream, broadcast: Type.Literal(true), seq: Seq }, { additionalProperties: false }),
  Type.Object(
    { ...Stream, broadcast: Type.Literal(false) },
    { additionalProperties: false, description: 'the room was over its chat budget: the line was sampled out (not broadcast)' },
  ),
]);

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
    const viewers = new ViewerTracker(store, core.roomState, core.config.nodeId);
    const hot = core.config.hotRooms;
    const metrics = new HotRoomMetrics(core.metrics.registry);
    const contacts = contactDirectoryFor(core);
    const notable: NotableCheck = async (choice, streamId, hostId, userId) => {
      if (choice === 'followers') return (await contacts.follows(userId, hostId)) ? 'follower' : undefined;
      if (choice === 'top_supporters' && money) {
        const rank = await money.redis.zrevrank(moneyKeys.streamBoard(streamId), userId);
        return rank !== null && rank < hot.topSupporters ? 'top_supporter' : undefined;
      }
      return undefined;
    };
    const log = core.log.child({ component: 'hot-room' });
    const hotRoom = new HotRoom({
      store,
      rules: core.redis ? new RedisRoomRules(core.redis) : new MemoryRoomRules(),
      roomState: core.roomState,
      joins: new JoinAnnouncer(core.redis ? new RedisJoinTally(core.redis) : new MemoryJoinTally(), core.hub.send.bind(core.hub), notable, metrics, log, {
        threshold: hot.joinSummaryThreshold,
        intervalMs: hot.joinSummaryIntervalMs,
        notableMax: hot.joinSummaryNotableMax,
      }),
      metrics,
      pressure: core.pressure,
      chatBudget: { lines: hot.chatBudget, windowMs: hot.chatWindowMs },
    });
    const announce = (what: Promise<void>, room: string): void =>
      void what.catch((err: unknown) => log.warn({ err: (err as Error).message, room }, 'join announcement failed'));
    const left = async (streamId: string, connectionId: string, userId: string): Promise<void> => {
      const total = await viewers.remove(streamId, connectionId);
      if (total !== undefined) announce(hotRoom.left(streamId, userId, total), streamRoom(streamId));
    };

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
      routes: livestreamRoutes({ service, hotRoom, gifts: () => requireMoney(money).gifts }),
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
            const fresh = !viewers.has(streamId, ctx.session.connectionId);
            const total = await viewers.add(streamId, ctx.session.connectionId);
            if (total === undefined) {
              ctx.leave(room);
              throw new AppError('not_found', `livestream ${streamId} is not live`);
            }
            if (fresh) announce(hotRoom.joined(info, ctx.session.userId, total), room);
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
            return {
              livestreamId: streamId,
              title: info.title,
              hostId: info.hostId,
              cohosts: info.cohosts,
              viewers: total,
              ...(resume ? { resume } : {}),
              state: await hotRoom.snapshot(streamId),
            };
          },
          JoinAck,
        ),

        'livestream:leave': defineHandler(
          Type.Object({ livestreamId: StreamId }),
          async (ctx, { livestreamId: streamId }) => {
            ctx.leave(streamRoom(streamId));
            await left(streamId, ctx.session.connectionId, ctx.session.userId);
            return { livestreamId: streamId };
          },
          StreamAck,
        ),

        'livestream:chat': defineHandler(
          Type.Object({ livestreamId: StreamId, text: Type.String({ minLength: 1, maxLength: 500 }) }),
          async (ctx, { livestreamId: streamId, text }) => {
            if (!ctx.isMember(streamRoom(streamId))) throw new AppError('forbidden', 'join the livestream before chatting');
            const verdict = await hotRoom.admitChat(ctx.session, streamId);
            if (verdict.kind === 'sampled') return { livestreamId: streamId, broadcast: false as const };
            const message = await core.hub.publish(streamRoom(streamId), 'livestream:chat', {
              livestreamId: streamId,
              userId: ctx.session.userId,
              text,
              sentAt: new Date().toISOString(),
            });
            return { livestreamId: streamId, broadcast: true as const, seq: message.seq };
          },
          ChatAck,
        ),

        'livestream:settings': defineHandler(
          SettingsInput,
          async (ctx, { livestreamId: streamId, ...patch }) => ({ livestreamId: streamId, ...(await hotRoom.configure(ctx.session, streamId, patch)) }),
          SettingsAck,
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
          left(room.slice(ROOM_PREFIX.length), session.connectionId, session.userId).catch((err: unknown) =>
            core.log.warn({ err: (err as Error).message, room }, 'viewer leave failed'),
          );
        }
      },

      async stop() {
        hotRoom.stop();
        await viewers.stop(2 * hot.stateIntervalMs + 500);
        await store.close();
      },
    };
  };
