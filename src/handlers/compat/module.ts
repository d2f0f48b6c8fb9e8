/**
 * Compatibility with the seeds' existing clients (docs/events/compat.md): bare-string payloads
 * (aliases.ts), `subscribe_notifications` accepted, and the `user_online` / `user_offline`
 * presence events (presence.ts, handed to the presence module by src/modules.ts).
 */
import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler, type EmittedEvents } from '../../gateway/handler.js';
import { AppError } from '../../kernel/errors.js';
import { UserId } from '../../kernel/schemas.js';
import { bareStringAliases } from './aliases.js';

/** Seed 004's presence events (COMPAT_USER_PRESENCE_EVENTS): the bare user id, in the room of the user's presence:update. */
const COMPAT_EVENTS: EmittedEvents = {
  user_online: {
    schema: Type.String({ description: 'the user id' }),
    to: 'room',
    description: 'Seed 004 clients (COMPAT_USER_PRESENCE_EVENTS=true): the user came online; right after its presence:update, in presence:<userId>.',
  },
  user_offline: {
    schema: Type.String({ description: 'the user id' }),
    to: 'room',
    description: 'Seed 004 clients (COMPAT_USER_PRESENCE_EVENTS=true): the user went offline; right after its presence:update, in presence:<userId>.',
  },
};

export const compatModule: ModuleFactory = () => ({
  name: 'compat',
  emits: COMPAT_EVENTS,
  payloadAliases: bareStringAliases(),
  handlers: {
    // Seed 004: `socket.emit('subscribe_notifications', userId)`. A user's notifications already reach
    // every device of theirs (the user room; the emitter's `notifications:<id>` maps to it): accepted.
    subscribe_notifications: defineHandler(
      Type.Object({ userId: Type.Optional(UserId) }, { additionalProperties: false }),
      (ctx, { userId }) => {
        if (userId !== undefined && userId !== ctx.session.userId) throw new AppError('forbidden', 'you may only subscribe to your own notifications');
        return { userId: ctx.session.userId, subscribed: true as const };
      },
      Type.Object({ userId: Type.String(), subscribed: Type.Literal(true) }, { additionalProperties: false }),
    ),
  },
});
