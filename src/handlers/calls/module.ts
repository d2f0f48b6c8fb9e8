/**
 * Calls: voice/video call signaling for the participants of a conversation (1:1 and small mesh
 * groups). Ringing reaches every device of each callee on any node (user rooms); once a device
 * answers, SDP and ICE go only between the devices in the call (one room per device and call).
 * Timers (ring timeout, reconnect grace) are shared in Redis and fired by any node's sweep.
 * HTTP: /api/calls (history), /api/calls/turn-credentials. Events: docs/events/calls.md.
 */
import type { DomainModule, ModuleFactory } from '../../core.js';
import { defineHandler, type HandlerContext, type HandlerTable } from '../../gateway/handler.js';
import { KeyedLimiter } from '../../gateway/rate-limit.js';
import { AppError } from '../../kernel/errors.js';
import type { ChatService } from '../chat/service.js';
import type { Notifier } from '../notifications/service.js';
import { MemoryCallStore } from './calls-memory.js';
import { RedisCallStore } from './calls-redis.js';
import { callView, type CallState } from './model.js';
import { callRoutes } from './routes.js';
import * as S from './schemas.js';
import { CallService, deviceRoom } from './service.js';

const CALL_ROOM_PREFIX = 'call:';

/** The call of a device room `call:<callId>:<connectionId>`. */
const callOfRoom = (room: string): string | undefined => (room.startsWith(CALL_ROOM_PREFIX) ? room.slice(CALL_ROOM_PREFIX.length).split(':')[0] : undefined);

export const callsModule =
  (chat: ChatService, notifier: Notifier): ModuleFactory =>
  (core): DomainModule => {
    const { config } = core;
    const log = core.log.child({ module: 'calls' });
    const store = core.redis ? new RedisCallStore(core.redis) : new MemoryCallStore();
    const calls = new CallService({
      store,
      hub: core.hub,
      queue: core.queue,
      documents: core.documents,
      chat,
      notifier,
      log,
      config: config.calls,
      nodeAlive: (nodeId) => core.liveness.stillBeating(nodeId),
    });
    const limiter = new KeyedLimiter(config.calls.signalPerSec, config.calls.signalBurst);
    let sweeper: NodeJS.Timeout | undefined;
    let sweeping = false;

    /** connectionId -> the device room it last joined (the context does not list a connection's rooms). */
    const joined = new Map<string, string>();
    /** A connection keeps the device room of its latest call only: joining a new call leaves the old one. */
    const leaveOtherCalls = (ctx: HandlerContext, keep: string): void => {
      const previous = joined.get(ctx.session.connectionId);
      if (previous !== undefined && previous !== keep) ctx.leave(previous);
      joined.set(ctx.session.connectionId, keep);
    };

    /** Joins the device room before the change is committed, so the first event for it is heard. */
    const withDeviceRoom = async (ctx: HandlerContext, callId: string, change: () => Promise<CallState>): Promise<CallState> => {
      const room = deviceRoom(callId, ctx.session.connectionId);
      const wasIn = ctx.isMember(room);
      ctx.join(room);
      await core.hub.ready(room);
      try {
        const call = await change();
        leaveOtherCalls(ctx, room);
        return call;
      } catch (err) {
        if (!wasIn) ctx.leave(room);
        throw err;
      }
    };

    const handlers: HandlerTable = {
      'call:invite': defineHandler(
        S.InviteSchema,
        async (ctx, data) => {
          const callId = calls.newCallId();
          const call = await withDeviceRoom(ctx, callId, () => calls.invite(ctx.session, callId, data.conversationId, data.media));
          return { callId: call.callId };
        },
        S.InviteAck,
      ),
      'call:accept': defineHandler(
        S.CallRefSchema,
        async (ctx, data) => callView(await withDeviceRoom(ctx, data.callId, () => calls.accept(ctx.session, data.callId))),
        S.CallSchema,
      ),
      'call:decline': defineHandler(S.CallRefSchema, async (ctx, data) => callView(await calls.decline(ctx.session, data.callId)), S.CallSchema),
      'call:cancel': defineHandler(S.CallRefSchema, async (ctx, data) => callView(await calls.cancel(ctx.session, data.callId)), S.CallSchema),
      'call:hangup': defineHandler(S.CallRefSchema, async (ctx, data) => callView(await calls.hangup(ctx.session, data.callId)), S.CallSchema),
      'call:signal': defineHandler(
        S.SignalSchema,
        async (ctx, data) => {
          const size = Buffer.byteLength(JSON.stringify(data.data));
          if (size > config.calls.signalMaxBytes)
            throw new AppError('payload_too_large', `call:signal data is ${size} bytes; at most ${config.calls.signalMaxBytes}`);
          const allowed = limiter.take(ctx.session.connectionId, Date.now());
          if (!allowed.ok) throw new AppError('rate_limited', `too many call:signal messages; retry in ${allowed.retryAfterMs} ms`);
          return { callId: data.callId, delivered: await calls.signal(ctx.session, data) };
        },
        S.SignalAck,
      ),
    };

    return {
      name: 'calls',
      emits: S.CALL_EVENTS,
      handlers,
      routes: callRoutes(calls, config.calls),
      onDisconnect(session, rooms) {
        joined.delete(session.connectionId);
        for (const room of rooms) {
          const callId = callOfRoom(room);
          if (callId) calls.disconnected(session, callId).catch((err: unknown) => log.warn({ err, callId }, 'calls: marking a device disconnected failed'));
        }
      },
      async start() {
        core.liveness.onNodeDead((nodeId) => calls.nodeDead(nodeId));
        core.liveness.onResync(() =>
          calls.stillHere(
            [...joined].flatMap(([connectionId, room]) => {
              const callId = callOfRoom(room);
              return callId ? [{ callId, connectionId }] : [];
            }),
          ),
        );
        sweeper = setInterval(() => {
          if (sweeping) return;
          sweeping = true;
          limiter.sweep(Date.now());
          calls
            .sweep()
            .catch((err: unknown) => log.warn({ err }, 'calls: timer sweep failed'))
            .finally(() => (sweeping = false));
        }, config.calls.sweepMs);
        sweeper.unref();
      },
      async stop() {
        if (sweeper) clearInterval(sweeper);
      },
    };
  };
