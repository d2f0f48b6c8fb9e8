import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { SESSION_ACKS } from './schemas.js';

/** `session:info`: who the server thinks you are, and where you are connected; `session:ping`: RTT probe. */
export const sessionModule: ModuleFactory = () => ({
  name: 'session',
  acks: SESSION_ACKS,
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
  },
});
