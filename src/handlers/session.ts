import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../core.js';
import { defineHandler } from './types.js';

/** `session:info`: who the server thinks you are, and where you are connected. */
export const sessionModule: ModuleFactory = () => ({
  name: 'session',
  handlers: {
    'session:info': defineHandler(Type.Object({}, { additionalProperties: true }), (ctx) => ({
      userId: ctx.session.userId,
      nodeId: ctx.session.nodeId,
      connectionId: ctx.session.connectionId,
      serverTime: new Date().toISOString(),
    })),
  },
});
