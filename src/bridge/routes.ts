/**
 * The server API's HTTP routes (/api/server/...). Each route: service authentication, then the
 * body checked against its TypeBox schema, then the action. Written as plain RouteDefs with a
 * small `serviceRoute` helper so they port to the schema-first route framework unchanged in shape.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AppError } from '../gateway/errors.js';
import type { HttpMethod, HttpRequestInfo, RouteDef } from '../gateway/http/router.js';
import type { ClusterAnswer, ClusterControl } from './control.js';
import type { PublishReport, PublishRequest, Publisher, Target, TargetKind } from './publisher.js';
import * as S from './schemas.js';
import type { ServiceAuth } from './service-auth.js';

export interface BridgeRouteDeps {
  auth: ServiceAuth;
  publisher: Publisher;
  control: ClusterControl;
  maxBatch: number;
  queryTimeoutMs: number;
}

type Handler<B> = (body: B, req: HttpRequestInfo) => Promise<unknown>;

function parseBody(req: HttpRequestInfo): unknown {
  if (req.body.length === 0) return {};
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new AppError('bad_request', 'body is not valid JSON');
  }
}

export function serviceRoute<Sch extends TSchema>(
  auth: ServiceAuth,
  method: HttpMethod,
  path: string,
  schema: Sch,
  handler: Handler<Static<Sch>>,
  onRefused: () => void = () => {},
): RouteDef {
  const check = TypeCompiler.Compile(schema);
  return {
    method,
    path,
    handler: async (req) => {
      try {
        await auth.authenticate(req.headers);
        const body = parseBody(req);
        if (!check.Check(body)) {
          const first = check.Errors(body).First();
          throw new AppError('validation_failed', `${first?.path || '/'}: ${first?.message ?? 'invalid body'}`);
        }
        return { status: 200, body: await handler(body, req) };
      } catch (err) {
        onRefused();
        throw err;
      }
    },
  };
}

const targetOf = (item: S.BatchItem): Target => TARGETS[item.to](item as never);
const TARGETS: { [K in S.BatchItem['to']]: (item: Extract<S.BatchItem, { to: K }>) => Target } = {
  user: (i) => ({ kind: 'user', userId: i.userId }),
  users: (i) => ({ kind: 'users', userIds: i.userIds }),
  room: (i) => ({ kind: 'room', room: i.room }),
  all: () => ({ kind: 'all' }),
};

const cluster = (a: ClusterAnswer) => ({ nodes: a.nodes, answered: a.answered, expected: a.expected, complete: a.complete });

const checkUser = TypeCompiler.Compile(S.UserId);
function userParam(req: HttpRequestInfo): string {
  const userId = req.params['userId'] ?? '';
  if (!checkUser.Check(userId)) throw new AppError('validation_failed', '/userId: must be 1-128 characters');
  return userId;
}

const checkRoom = TypeCompiler.Compile(S.RoomName);
function roomParam(req: HttpRequestInfo): string {
  const room = req.params['room'] ?? '';
  if (!checkRoom.Check(room)) throw new AppError('validation_failed', '/room: must be 1-200 characters [A-Za-z0-9_:.@-], not starting with sys:');
  return room;
}

export function bridgeRoutes(deps: BridgeRouteDeps): RouteDef[] {
  const { auth, publisher, control } = deps;
  const publishOne = async (request: PublishRequest): Promise<PublishReport> => {
    publisher.check(request);
    return publisher.publish(request);
  };
  const refused = (kind: TargetKind) => () => publisher.refused(kind);

  return [
    serviceRoute(auth, 'post', '/api/server/publish/user', S.PublishUser, (b) => publishOne({ target: { kind: 'user', userId: b.userId }, event: b.event, data: b.data }), refused('user')),
    serviceRoute(auth, 'post', '/api/server/publish/users', S.PublishUsers, (b) => publishOne({ target: { kind: 'users', userIds: b.userIds }, event: b.event, data: b.data }), refused('users')),
    serviceRoute(auth, 'post', '/api/server/publish/room', S.PublishRoom, (b) => publishOne({ target: { kind: 'room', room: b.room }, event: b.event, data: b.data }), refused('room')),
    serviceRoute(auth, 'post', '/api/server/publish/all', S.PublishAll, (b) => publishOne({ target: { kind: 'all' }, event: b.event, data: b.data }), refused('all')),
    serviceRoute(
      auth,
      'post',
      '/api/server/publish/batch',
      S.PublishBatch,
      async (b) => {
        if (b.publishes.length > deps.maxBatch) throw new AppError('payload_too_large', `a batch holds at most ${deps.maxBatch} publishes, got ${b.publishes.length}`);
        const requests = b.publishes.map((item): PublishRequest => ({ target: targetOf(item), event: item.event, data: item.data }));
        // All or nothing: every item is checked before the first is published.
        requests.forEach((r) => publisher.check(r));
        const results = await Promise.all(requests.map((r) => publisher.publish(r)));
        return { results, nodes: results.reduce((s, r) => s + r.nodes, 0) };
      },
      () => publisher.refused('batch'),
    ),
    serviceRoute(auth, 'post', '/api/server/users/:userId/disconnect', S.Disconnect, async (b, req) => {
      const userId = userParam(req);
      const answer = await control.ask({ kind: 'disconnect', userId, ...(b.reason ? { detail: b.reason } : {}) }, deps.queryTimeoutMs);
      return { userId, closed: answer.total, ...cluster(answer) };
    }),
    ...(['join', 'leave'] as const).map((op) =>
      serviceRoute(auth, 'post', `/api/server/rooms/:room/${op}`, S.Membership, async (b, req) => {
        const room = roomParam(req);
        const answer = await control.ask({ kind: 'membership', op, room, userIds: [...new Set(b.userIds)] }, deps.queryTimeoutMs);
        return { room, op, connections: answer.total, ...cluster(answer) };
      }),
    ),
    serviceRoute(auth, 'get', '/api/server/users/:userId/presence', S.NoBody, async (_b, req) => {
      const userId = userParam(req);
      const answer = await control.ask({ kind: 'presence', userId }, deps.queryTimeoutMs);
      return { userId, online: answer.total > 0, connections: answer.total, ...cluster(answer) };
    }),
    serviceRoute(auth, 'get', '/api/server/rooms/:room/occupancy', S.NoBody, async (_b, req) => {
      const room = roomParam(req);
      const answer = await control.ask({ kind: 'occupancy', room }, deps.queryTimeoutMs);
      return { room, members: answer.total, ...cluster(answer) };
    }),
  ];
}
