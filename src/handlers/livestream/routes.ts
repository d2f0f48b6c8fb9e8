/**
 * Livestreams over REST (`/api/livestreams/*`, seed 001), on the socket side's LivestreamService
 * and StreamStore: a stream created or started here is the stream `livestream:join` finds, and
 * ending it here sends `livestream:ended` to the room exactly like `livestream:end`.
 *
 * Viewers are socket connections. The count is exact across nodes because each node counts the
 * connections in the stream room and drops them when they leave or close (or their node dies).
 * An HTTP request has no connection to count, to time out or to deliver the stream's events to, so
 * `join` and `leave` count nothing: they check the stream and answer it with its current count
 * and the socket message that does the joining (`livestream:join`) or leaving (`livestream:leave`).
 *
 * A `created` stream is its host's draft: others (not admins) get 404 for it.
 */
import { Type } from '@sinclair/typebox';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { AppError } from '../../kernel/errors.js';
import { isoMs, isoMsOrNull } from '../../kernel/schemas.js';
import type { Principal } from '../../kernel/session.js';
import { GiftSendResult } from '../gifts/schemas.js';
import type { GiftService } from '../gifts/service.js';
import type { HotRoom } from './hot-room.js';
import {
  LiveGiftInput,
  Livestream,
  LivestreamCreate,
  LivestreamJoin,
  LivestreamLeave,
  SettingsAck,
  SettingsBody,
  StreamParams,
  type LivestreamBody,
} from './schemas.js';
import type { LivestreamService } from './service.js';
import type { StreamInfo } from './streams.js';
import { streamRoom } from './viewers.js';

const tags = ['livestreams'];

const streamLinks = {
  GetLivestream: { operationId: 'getLivestream', parameters: { livestreamId: '$response.body#/livestreamId' } },
  StartLivestream: { operationId: 'startLivestream', parameters: { livestreamId: '$response.body#/livestreamId' } },
};

export interface LivestreamRouteDeps {
  service: LivestreamService;
  /** Settings (slow mode, notable joiners) of a live stream's room. */
  hotRoom: HotRoom;
  /** The money path's gift service (503 `unavailable` without Redis). */
  gifts: () => GiftService;
}

export function livestreamRoutes({ service, hotRoom, gifts }: LivestreamRouteDeps): RouteDef[] {
  const view = async (info: StreamInfo): Promise<LivestreamBody> => ({
    livestreamId: info.streamId,
    hostId: info.hostId,
    title: info.title,
    status: info.status,
    createdAt: isoMs(info.createdAt),
    startedAt: isoMsOrNull(info.startedAt),
    endedAt: isoMsOrNull(info.endedAt),
    cohosts: [...info.cohosts],
    viewers: info.status === 'live' ? await service.viewerCount(info.streamId) : 0,
    room: streamRoom(info.streamId),
  });

  /** The stream as this caller may see it: 404 when unknown, or someone else's draft. */
  const visible = async (streamId: string, principal: Principal): Promise<StreamInfo> => {
    const info = await service.get(streamId);
    if (!info || (info.status === 'created' && info.hostId !== principal.userId && principal.role !== 'admin'))
      throw new AppError('not_found', `livestream ${streamId} not found`);
    return info;
  };

  /** The caller's own stream: 404 unknown, 403 someone else's. */
  const owned = async (streamId: string, principal: Principal): Promise<StreamInfo> => {
    const info = await visible(streamId, principal);
    if (info.hostId !== principal.userId) throw new AppError('forbidden', `livestream ${streamId} belongs to another host`);
    return info;
  };

  return [
    defineRoute(
      {
        method: 'patch',
        path: '/api/livestreams/:livestreamId/settings',
        operationId: 'updateLivestreamSettings',
        tags,
        auth: 'user',
        params: StreamParams,
        body: SettingsBody,
        response: SettingsAck,
        summary: "Change a live stream's room settings: slow mode (per-user chat cooldown) and who join summaries name (host, co-hosts, admins)",
        description: 'Same as the socket event `livestream:settings`; the room gets `livestream:settings`. Not live: 404; not a moderator of the stream: 403.',
        errors: ['not_found', 'forbidden'],
      },
      async ({ principal, params, body }) => ({ livestreamId: params.livestreamId, ...(await hotRoom.configure(principal, params.livestreamId, body)) }),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/livestreams',
        operationId: 'createLivestream',
        tags,
        auth: 'user',
        body: LivestreamCreate,
        response: Livestream,
        status: 201,
        summary: 'Create a stream (status created, not on air); start it with /start or the socket event livestream:start',
        description:
          'A created stream that is never started is dropped after 24 hours. `livestreamId` may be chosen (else one is generated); an id in use answers 409.',
        errors: ['conflict'],
        links: streamLinks,
      },
      async ({ principal, body }) => view(await service.create(principal.userId, body.title, body.livestreamId)),
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/livestreams',
        operationId: 'listLivestreams',
        tags,
        auth: 'user',
        query: Type.Object(PageQuery),
        response: Paginated(Livestream, 'LivestreamPage'),
        summary: 'The streams live now, most recently started first',
      },
      async ({ query }) => {
        const w = pageWindow(query);
        const page = await service.listLive(w.skip, w.limit);
        return pageOf(await Promise.all(page.streams.map(view)), page.total, w);
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/livestreams/:livestreamId',
        operationId: 'getLivestream',
        tags,
        auth: 'user',
        params: StreamParams,
        response: Livestream,
        errors: ['not_found'],
        summary: 'One stream with its viewer count (ended streams stay readable for 24 hours)',
      },
      async ({ principal, params }) => view(await visible(params.livestreamId, principal)),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/livestreams/:livestreamId/start',
        operationId: 'startLivestream',
        tags,
        auth: 'user',
        params: StreamParams,
        response: Livestream,
        summary: 'Go live with a created stream (host only; again while live: no change)',
        description:
          "Same as the socket event `livestream:start` with this livestreamId (webhook `livestream.started`). The host's socket joins the stream room by sending `livestream:start` with the same livestreamId (a no-op on a live stream).",
        errors: ['not_found', 'conflict'],
      },
      async ({ principal, params }) => {
        const info = await owned(params.livestreamId, principal);
        if (info.status === 'ended') throw new AppError('conflict', `livestream ${params.livestreamId} has ended`);
        return view(await service.start(principal.userId, params.livestreamId, info.title));
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/livestreams/:livestreamId/end',
        operationId: 'endLivestream',
        tags,
        auth: 'user',
        params: StreamParams,
        response: Livestream,
        summary: 'End a live stream (host only); the room gets livestream:ended',
        description: 'Same as the socket event `livestream:end`. Not started yet, or already ended: 409.',
        errors: ['not_found', 'conflict'],
      },
      async ({ principal, params }) => {
        const info = await owned(params.livestreamId, principal);
        if (info.status !== 'live') throw new AppError('conflict', `livestream ${params.livestreamId} is not live (${info.status})`);
        return view((await service.end(principal.userId, params.livestreamId)).info);
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/livestreams/:livestreamId/join',
        operationId: 'joinLivestream',
        tags,
        auth: 'user',
        params: StreamParams,
        response: LivestreamJoin,
        summary: 'Check a stream is live and get what the app needs to watch it; the viewer joins (and is counted) by sending the returned socket message',
        description: 'Counts nothing: viewers are socket connections (exact across nodes, dropped when they close). Not live (created or ended): 409.',
        errors: ['not_found', 'conflict'],
      },
      async ({ principal, params }) => {
        const info = await visible(params.livestreamId, principal);
        if (info.status !== 'live') throw new AppError('conflict', `livestream ${params.livestreamId} is not live (${info.status})`);
        return { stream: await view(info), socket: { event: 'livestream:join' as const, data: { livestreamId: info.streamId } } };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/livestreams/:livestreamId/leave',
        operationId: 'leaveLivestream',
        tags,
        auth: 'user',
        params: StreamParams,
        response: LivestreamLeave,
        summary: 'The stream and the socket message that leaves it (a viewer stops counting when its socket sends it or closes)',
        description:
          'Counts nothing and changes nothing: a socket connection leaves with `livestream:leave` or by closing. Any status (an ended stream can be left).',
        errors: ['not_found'],
      },
      async ({ principal, params }) => {
        const info = await visible(params.livestreamId, principal);
        return { stream: await view(info), socket: { event: 'livestream:leave' as const, data: { livestreamId: info.streamId } } };
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/livestreams/:livestreamId/gift',
        operationId: 'sendLivestreamGift',
        tags,
        auth: 'user',
        params: StreamParams,
        body: LiveGiftInput,
        response: GiftSendResult,
        status: 201,
        summary: "Send a gift to a live stream's host: debits the caller's coins; the room gets gift:sent",
        description:
          'The socket `gift:send` with this livestreamId: same money path (atomic debit, never below zero, idempotent by `idempotencyKey`), same `gift:sent` frames in the stream room, same PK scoring and `gift.sent` webhook. ' +
          'Unknown gift or stream not live: 404; gift not available now: 409; your own stream: 400; balance too low: 422 `insufficient_funds`; no Redis on the node: 503.',
        errors: ['not_found', 'conflict', 'insufficient_funds', 'unavailable'],
      },
      async ({ principal, params, body }) => gifts().send(principal.userId, { ...body, livestreamId: params.livestreamId, context: 'livestream' }),
    ),
  ];
}
