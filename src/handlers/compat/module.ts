/**
 * Compatibility with the seeds' existing clients (docs/events/compat.md): bare-string payloads
 * (aliases.ts), `subscribe_notifications` accepted, and the `user_online` / `user_offline`
 * presence events (presence.ts, handed to the presence module by src/modules.ts).
 */
import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { AppError } from '../../kernel/errors.js';
import { UserId } from '../../kernel/schemas.js';
import { bareStringAliases } from './aliases.js';

export const compatModule: ModuleFactory = () => ({
  name: 'compat',
  payloadAliases: bareStringAliases(),
  handlers: {
    // Seed 004: `socket.emit('subscribe_notifications', userId)`. A user's notifications already reach
    // every device of theirs (the user room; the emitter's `notifications:<id>` maps to it): accepted.
    subscribe_notifications: defineHandler(Type.Object({ userId: Type.Optional(UserId) }, { additionalProperties: false }), (ctx, { userId }) => {
      if (userId !== undefined && userId !== ctx.session.userId) throw new AppError('forbidden', 'you may only subscribe to your own notifications');
      return { userId: ctx.session.userId, subscribed: true };
    }),
  },
});
