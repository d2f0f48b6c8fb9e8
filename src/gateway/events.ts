/** The server-to-client events the gateway itself sends (dialects, lifetime, drain, resume). */
import { Type } from '@sinclair/typebox';
import { DateTime } from '../kernel/schemas.js';
import type { EmittedEvents } from './handler.js';

const strict = { additionalProperties: false } as const;

export const SessionReady = Type.Object(
  { userId: Type.String(), connectionId: Type.String(), nodeId: Type.String(), serverAt: DateTime },
  { ...strict, $id: 'SessionReady' },
);

export const GATEWAY_EVENTS: EmittedEvents = {
  'session:ready': {
    schema: SessionReady,
    to: 'connection',
    description: 'Native dialect: the token was accepted; events for the user reach this socket from now on. Sent before anything else.',
  },
  'session:reconnect': {
    schema: Type.Object({ reason: Type.String(), nodeId: Type.String() }, strict),
    to: 'connection',
    description: 'The node is shutting down: a close 4000 follows; reconnect (to another node) and resume.',
  },
  'session:expiring': {
    schema: Type.Object({ expiresAt: DateTime, closesAt: DateTime }, strict),
    to: 'connection',
    description: 'SESSION_EXPIRING_LEAD_MS before the token expires (once per token): answer with session:refresh before closesAt.',
  },
  'room:skipped': {
    schema: Type.Object(
      {
        room: Type.String(),
        fromSeq: Type.Integer(),
        toSeq: Type.Integer(),
        counts: Type.Object({ chat: Type.Integer({ minimum: 0 }), ambient: Type.Integer({ minimum: 0 }) }, strict),
      },
      { ...strict, $id: 'RoomSkipped' },
    ),
    to: 'connection',
    description:
      'Priority lanes: the room events with fromSeq <= seq <= toSeq that this connection did not get were skipped on purpose (its send buffer or the node was under pressure; chat and ambient only, counted per lane). Sent before the room next delivers a frame: continue after toSeq, no refetch needed.',
  },
  'room:gap': {
    schema: Type.Object({ room: Type.String(), oldestSeq: Type.Integer(), latestSeq: Type.Integer() }, strict),
    to: 'connection',
    description: 'Sent instead of missed room events that are no longer kept: refetch, then continue with seq > latestSeq.',
  },
};
