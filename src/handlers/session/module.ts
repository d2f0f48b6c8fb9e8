import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';

/**
 * `session:info`: who the server thinks you are, and where you are connected; `session:ping`: RTT
 * probe; `session:echo`: returns what it was sent (binary included, as bytes on the Socket.IO dialect).
 */
export const sessionModule: ModuleFactory = () => ({
  name: 'session',
  handlers: {
    'session:info': defineHandler(Type.Object({}, { additionalProperties: true }), (ctx) => ({
      userId: ctx.session.userId,
      nodeId: ctx.session.nodeId,
      connectionId: ctx.session.connectionId,
      serverTime: new Date().toISOString(),
    })),
    /** A latency and clock probe: echoes the client's time beside the server's. */
    'session:ping': defineHandler(Type.Object({ clientTime: Type.Number() }), (_ctx, data) => ({
      clientTime: data.clientTime,
      serverTime: Date.now(),
    })),
    /** Echoes its data: a round-trip check of a client's encoding (Socket.IO binary attachments come back as attachments). */
    'session:echo': defineHandler(Type.Unknown(), (_ctx, data) => data),
  },
});
