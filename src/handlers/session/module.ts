import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { DateTime } from '../../kernel/schemas.js';

/** Who and where the connection is, and the server's clock (also the `session:ready` payload). */
export const SessionInfo = Type.Object(
  { userId: Type.String(), nodeId: Type.String(), connectionId: Type.String(), serverAt: DateTime },
  { additionalProperties: false },
);

/**
 * `session:info`: who the server thinks you are, and where you are connected; `session:ping`: RTT
 * probe; `session:echo`: returns what it was sent (binary included, as bytes on the Socket.IO dialect).
 */
export const sessionModule: ModuleFactory = () => ({
  name: 'session',
  handlers: {
    'session:info': defineHandler(
      Type.Object({}, { additionalProperties: true }),
      (ctx) => ({
        userId: ctx.session.userId,
        nodeId: ctx.session.nodeId,
        connectionId: ctx.session.connectionId,
        serverAt: new Date().toISOString(),
      }),
      SessionInfo,
    ),
    /** A latency and clock probe: echoes the client's time beside the server's. */
    'session:ping': defineHandler(
      Type.Object({ clientAt: DateTime }),
      (_ctx, data) => ({ clientAt: data.clientAt, serverAt: new Date().toISOString() }),
      Type.Object({ clientAt: DateTime, serverAt: DateTime }, { additionalProperties: false }),
    ),
    /** Echoes its data: a round-trip check of a client's encoding (Socket.IO binary attachments come back as attachments). */
    'session:echo': defineHandler(
      Type.Unknown({ description: 'any value (Socket.IO binary attachments included)' }),
      (_ctx, data) => data,
      Type.Unknown({ description: 'exactly the value sent' }),
    ),
  },
});
