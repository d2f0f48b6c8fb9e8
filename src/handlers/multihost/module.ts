/**
 * Multi-host (co-hosts) over REST: `/api/multi-host/:livestreamId/{invite,accept,kick,co-hosts}`.
 *
 * The REST side shares its state with the socket side (`livestream:cohost:*`, src/handlers/
 * livestream.ts): both go through the node's StreamStore (Redis scripts in a cluster, memory on
 * a single node), so an invitation sent over HTTP can be accepted over the socket and the other
 * way round. The events are the socket side's: `livestream:cohost:invited` to the invitee's
 * user room, `livestream:cohost:joined` / `livestream:cohost:removed` to the stream room
 * `live:<livestreamId>`; a removed co-host also hears it in their user room (a REST client need not
 * be in the stream room).
 */
import { Type } from '@sinclair/typebox';
import type { Core, ModuleFactory } from '../../core.js';
import { defineRoute } from '../../gateway/http/route.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { UserId } from '../../kernel/schemas.js';
import { streamStoreFor } from '../livestream/directory.js';
import type { StreamInfo, StreamStore } from '../livestream/streams.js';
import { streamRoom } from '../livestream/viewers.js';

const StreamId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const Params = Type.Object({ livestreamId: StreamId });
const Target = Type.Object({ userId: UserId }, { $id: 'CohostTarget', additionalProperties: false });
const CohostList = Type.Object(
  {
    livestreamId: Type.String(),
    hostId: Type.String(),
    title: Type.String(),
    cohosts: Type.Array(Type.String(), { description: 'user ids of the accepted co-hosts (pending invitations are not listed)' }),
  },
  { $id: 'CohostList', additionalProperties: false },
);

const view = (info: StreamInfo) => ({ livestreamId: info.streamId, hostId: info.hostId, title: info.title, cohosts: [...info.cohosts] });

export function multiHostModule(storeFor: (core: Core) => StreamStore = streamStoreFor): ModuleFactory {
  return (core: Core) => {
    const store = storeFor(core);
    const tags = ['multi-host'];

    const live = async (streamId: string): Promise<StreamInfo> => {
      const info = await store.get(streamId);
      if (!info || info.status !== 'live') throw new AppError('not_found', `livestream ${streamId} is not live`);
      return info;
    };

    return {
      name: 'multi-host',
      routes: [
        defineRoute(
          {
            method: 'post',
            path: '/api/multi-host/:livestreamId/invite',
            operationId: 'inviteCohost',
            summary: 'Invite a co-host (stream host only)',
            tags,
            auth: 'user',
            params: Params,
            body: Target,
            response: CohostList,
            errors: ['not_found', 'conflict'],
          },
          async ({ params, body, principal }) => {
            await store.cohost('invite', params.livestreamId, principal.userId, body.userId);
            await core.hub.publish(userRoom(body.userId), 'livestream:cohost:invited', { livestreamId: params.livestreamId, hostId: principal.userId });
            return view(await live(params.livestreamId));
          },
        ),
        defineRoute(
          {
            method: 'post',
            path: '/api/multi-host/:livestreamId/accept',
            operationId: 'acceptCohost',
            summary: 'Accept an invitation to co-host',
            tags,
            auth: 'user',
            params: Params,
            response: CohostList,
            errors: ['not_found', 'conflict'],
          },
          async ({ params, principal }) => {
            await store.cohost('accept', params.livestreamId, principal.userId, principal.userId);
            await core.hub.publish(streamRoom(params.livestreamId), 'livestream:cohost:joined', {
              livestreamId: params.livestreamId,
              userId: principal.userId,
            });
            return view(await live(params.livestreamId));
          },
        ),
        defineRoute(
          {
            method: 'post',
            path: '/api/multi-host/:livestreamId/kick',
            operationId: 'kickCohost',
            summary: 'Remove a co-host (stream host only)',
            tags,
            auth: 'user',
            params: Params,
            body: Target,
            response: CohostList,
            errors: ['not_found', 'conflict'],
          },
          async ({ params, body, principal }) => {
            await store.cohost('kick', params.livestreamId, principal.userId, body.userId);
            const payload = { livestreamId: params.livestreamId, userId: body.userId };
            await core.hub.publish(streamRoom(params.livestreamId), 'livestream:cohost:removed', payload);
            await core.hub.publish(userRoom(body.userId), 'livestream:cohost:removed', payload);
            return view(await live(params.livestreamId));
          },
        ),
        defineRoute(
          {
            method: 'get',
            path: '/api/multi-host/:livestreamId/co-hosts',
            operationId: 'listCohosts',
            summary: 'The host and accepted co-hosts of a live stream',
            tags,
            auth: 'user',
            params: Params,
            response: CohostList,
            errors: ['not_found'],
          },
          async ({ params }) => view(await live(params.livestreamId)),
        ),
      ],
    };
  };
}
