import { Type } from '@sinclair/typebox';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import type { SessionService } from './lifetime-service.js';
import * as S from './schemas.js';

/** The server API side of sessions (docs/BRIDGE.md): revoke a user's sessions on every node. */
export function sessionRoutes(service: SessionService): RouteDef[] {
  return [
    defineRoute(
      {
        method: 'post',
        path: '/api/server/users/:userId/revoke',
        operationId: 'serverRevokeUserSessions',
        summary: "Close a user's sessions on every node (4105) and refuse their tokens issued before a time until those expire",
        tags: ['server'],
        auth: 'service',
        rateLimit: false,
        params: Type.Object({ userId: S.UserId }),
        body: S.RevokeRequest,
        response: S.RevokeResult,
      },
      ({ params, body }) => service.revoke(params.userId, body.issuedBefore === undefined ? undefined : Date.parse(body.issuedBefore)),
    ),
  ];
}
