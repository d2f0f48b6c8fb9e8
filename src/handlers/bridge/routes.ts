/**
 * The server API's HTTP routes (/api/server/...), schema-first (defineRoute): `auth: 'service'`
 * (API key or service JWT; user tokens get 403), bodies checked against their TypeBox schemas,
 * documented in /openapi.json. Not rate limited per caller: the backend is trusted and batches.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { AppError } from '../../kernel/errors.js';
import type { ClusterAnswer, ClusterControl } from './control.js';
import type { PublishReport, PublishRequest, Publisher, Target } from './publisher.js';
import * as S from './schemas.js';

export interface BridgeRouteDeps {
  publisher: Publisher;
  control: ClusterControl;
  maxBatch: number;
  queryTimeoutMs: number;
}

const TAGS = ['server'];
const common = { tags: TAGS, auth: 'service', rateLimit: false } as const;

const TARGETS: { [K in S.BatchItem['to']]: (item: Extract<S.BatchItem, { to: K }>) => Target } = {
  user: (i) => ({ kind: 'user', userId: i.userId }),
  users: (i) => ({ kind: 'users', userIds: i.userIds }),
  room: (i) => ({ kind: 'room', room: i.room }),
  all: () => ({ kind: 'all' }),
};
const targetOf = (item: S.BatchItem): Target => (TARGETS[item.to] as (i: S.BatchItem) => Target)(item);

const clusterFields = (a: ClusterAnswer) => ({ perNode: a.nodes, answered: a.answered, expected: a.expected, complete: a.complete });

/** Counts a refused publish (bad body, too large) under its kind; auth refusals are counted by the HTTP layer. */
function countingRefusals(route: RouteDef, onRefused: () => void): RouteDef {
  return {
    ...route,
    handler: async (req) => {
      try {
        return await route.handler(req);
      } catch (err) {
        onRefused();
        throw err;
      }
    },
  };
}

export function bridgeRoutes(deps: BridgeRouteDeps): RouteDef[] {
  const { publisher, control } = deps;
  const publish = async (request: PublishRequest): Promise<PublishReport> => {
    publisher.check(request);
    return publisher.publish(request);
  };
  const publishRoute = <B extends TSchema>(
    kind: Target['kind'],
    operationId: string,
    summary: string,
    body: B,
    toRequest: (b: Static<B>) => PublishRequest,
  ): RouteDef =>
    countingRefusals(
      defineRoute(
        {
          ...common,
          method: 'post',
          path: `/api/server/publish/${kind}`,
          operationId,
          summary,
          body,
          response: S.PublishResult,
          errors: ['payload_too_large'],
        },
        ({ body: b }) => publish(toRequest(b)),
      ),
      () => publisher.refused(kind),
    );

  return [
    publishRoute('user', 'serverPublishToUser', 'Send an event to every device of one user, on every node', S.PublishUser, (b) => ({
      target: { kind: 'user', userId: b.userId },
      event: b.event,
      data: b.data,
    })),
    publishRoute('users', 'serverPublishToUsers', 'Send an event to every device of several users', S.PublishUsers, (b) => ({
      target: { kind: 'users', userIds: b.userIds },
      event: b.event,
      data: b.data,
    })),
    publishRoute('room', 'serverPublishToRoom', 'Send an event to everyone in a room, on every node', S.PublishRoom, (b) => ({
      target: { kind: 'room', room: b.room },
      event: b.event,
      data: b.data,
    })),
    publishRoute('all', 'serverPublishToAll', 'Send an event to every connection (the broadcast room)', S.PublishAll, (b) => ({
      target: { kind: 'all' },
      event: b.event,
      data: b.data,
    })),
    countingRefusals(
      defineRoute(
        {
          ...common,
          method: 'post',
          path: '/api/server/publish/batch',
          operationId: 'serverPublishBatch',
          summary: 'Several publishes in one request: all validated first (all or nothing), then published in order',
          body: S.PublishBatch,
          response: S.PublishBatchResult,
          errors: ['payload_too_large'],
        },
        async ({ body }) => {
          if (body.publishes.length > deps.maxBatch)
            throw new AppError('payload_too_large', `a batch holds at most ${deps.maxBatch} publishes, got ${body.publishes.length}`);
          const requests = body.publishes.map((item): PublishRequest => ({ target: targetOf(item), event: item.event, data: item.data }));
          requests.forEach((r) => publisher.check(r));
          const results = await Promise.all(requests.map((r) => publisher.publish(r)));
          return { results, nodes: results.reduce((s, r) => s + r.nodes, 0) };
        },
      ),
      () => publisher.refused('batch'),
    ),
    ...(['join', 'leave'] as const).map((op) =>
      defineRoute(
        {
          ...common,
          method: 'post',
          path: `/api/server/rooms/:room/${op}`,
          operationId: op === 'join' ? 'serverRoomJoin' : 'serverRoomLeave',
          summary: op === 'join' ? "Put the users' current connections into a room, on every node" : "Take the users' connections out of a room, on every node",
          params: Type.Object({ room: S.RoomName }),
          body: S.Membership,
          response: S.MembershipResult,
        },
        async ({ params, body }) => {
          const answer = await control.ask({ kind: 'membership', op, room: params.room, userIds: [...new Set(body.userIds)] }, deps.queryTimeoutMs);
          return { room: params.room, op, connections: answer.total, ...clusterFields(answer) };
        },
      ),
    ),
    defineRoute(
      {
        ...common,
        method: 'post',
        path: '/api/server/users/:userId/disconnect',
        operationId: 'serverDisconnectUser',
        summary: 'Close every session of a user on every node (close code 4103)',
        params: Type.Object({ userId: S.UserId }),
        body: S.Disconnect,
        response: S.DisconnectResult,
      },
      async ({ params, body }) => {
        const answer = await control.ask({ kind: 'disconnect', userId: params.userId, ...(body.reason ? { detail: body.reason } : {}) }, deps.queryTimeoutMs);
        return { userId: params.userId, closed: answer.total, ...clusterFields(answer) };
      },
    ),
    defineRoute(
      {
        ...common,
        method: 'get',
        path: '/api/server/users/:userId/presence',
        operationId: 'serverUserPresence',
        summary: "Count a user's open connections on every node",
        params: Type.Object({ userId: S.UserId }),
        response: S.PresenceResult,
      },
      async ({ params }) => {
        const answer = await control.ask({ kind: 'presence', userId: params.userId }, deps.queryTimeoutMs);
        return { userId: params.userId, online: answer.total > 0, connections: answer.total, ...clusterFields(answer) };
      },
    ),
    defineRoute(
      {
        ...common,
        method: 'get',
        path: '/api/server/rooms/:room/occupancy',
        operationId: 'serverRoomOccupancy',
        summary: "Count a room's members on every node",
        params: Type.Object({ room: S.RoomName }),
        response: S.OccupancyResult,
      },
      async ({ params }) => {
        const answer = await control.ask({ kind: 'occupancy', room: params.room }, deps.queryTimeoutMs);
        return { room: params.room, members: answer.total, ...clusterFields(answer) };
      },
    ),
  ];
}
