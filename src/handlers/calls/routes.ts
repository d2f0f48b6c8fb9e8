/**
 * Calls over HTTP: the caller's call history (MongoDB records, written through the write queue),
 * one call, and the TURN/STUN servers with time-limited credentials for RTCPeerConnection.
 */
import { Type } from '@sinclair/typebox';
import type { CallsConfig } from '../../config.js';
import { pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { Id } from '../../kernel/schemas.js';
import { callView } from './model.js';
import { CallPage, CallSchema, HistoryQuery, TurnCredentialsSchema } from './schemas.js';
import type { CallService } from './service.js';
import { turnCredentials } from './turn.js';

const tags = ['calls'];

export function callRoutes(calls: CallService, config: CallsConfig): RouteDef[] {
  return [
    defineRoute(
      {
        method: 'get',
        path: '/api/calls',
        operationId: 'listCalls',
        tags,
        auth: 'user',
        query: HistoryQuery,
        response: CallPage,
        summary: "The caller's call history, newest first (optionally one conversation's calls)",
        description:
          'Call records as the write queue stored them: parties and their outcome, createdAt, answeredAt, endedAt, durationMs, endReason. A call that just changed may lag by the queue delay.',
      },
      async ({ principal, query }) => {
        const w = pageWindow(query);
        const { items, total } = await calls.history(principal.userId, query.conversationId, w.skip, w.limit);
        return pageOf(items, total, w);
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/calls/turn-credentials',
        operationId: 'getTurnCredentials',
        tags,
        auth: 'user',
        response: TurnCredentialsSchema,
        summary: 'STUN/TURN servers and a time-limited TURN credential (coturn REST API scheme)',
        description:
          'username = `<expiry>:<userId>` (expiry: Unix time in seconds, the instant of expiresAt), credential = base64(HMAC-SHA1(TURN_SECRET, username)); `iceServers` is ready for `new RTCPeerConnection({iceServers})`. Without TURN_SECRET and TURN_URLS only the STUN URLs are given.',
      },
      async ({ principal }) => turnCredentials(config, principal.userId, Date.now()),
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/calls/:callId',
        operationId: 'getCall',
        tags,
        auth: 'user',
        params: Type.Object({ callId: Id }),
        response: CallSchema,
        summary: 'One call (live state while it lasts, then its record); parties only',
        errors: ['not_found', 'forbidden'],
      },
      async ({ principal, params }) => callView(await calls.get(principal.userId, params.callId)),
    ),
  ];
}
