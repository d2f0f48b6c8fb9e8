import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { AppError } from '../../kernel/errors.js';
import { RoomStateList } from '../../kernel/schemas.js';

const RoomName = Type.String({ minLength: 3, maxLength: 160, pattern: '^[A-Za-z0-9_-]+:[^\\s]+$' });
const strict = { additionalProperties: false } as const;
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const ResumeAck = Type.Union([
  Type.Object(
    { room: Type.String(), gap: Type.Literal(false), replayed: Type.Integer({ minimum: 0 }), latestSeq: Type.Integer(), state: RoomStateList },
    strict,
  ),
  Type.Object({ room: Type.String(), gap: Type.Literal(true), oldestSeq: Type.Integer(), latestSeq: Type.Integer(), state: RoomStateList }, strict),
]);

/**
 * Generic room operations for clients: `room:resume` (catch up on a readable room after a
 * reconnect). Who may read a room is decided by the domain that owns its
 * kind (core.roomAccess); this module owns only the `user` kind (your own user room).
 */
export const roomsModule: ModuleFactory = (core) => {
  core.roomAccess.register('user', (session, id) => id === session.userId);
  return {
    name: 'rooms',
    handlers: {
      'room:resume': defineHandler(
        Type.Object({ room: RoomName, lastSeq: Seq }),
        async (ctx, { room, lastSeq }) => {
          if (!(await core.roomAccess.canRead(ctx.session, room))) throw new AppError('forbidden', `you may not read ${room}`);
          const result = await ctx.resume(room, lastSeq);
          if (result.kind === 'left') throw new AppError('conflict', `left ${room} while resuming`);
          // The room's keyed state now (viewer count, scores...): current even after a gap.
          const state = await core.roomState.snapshot(room);
          return result.kind === 'gap'
            ? { room, gap: true as const, oldestSeq: result.oldestSeq, latestSeq: result.latestSeq, state }
            : { room, gap: false as const, replayed: result.count, latestSeq: result.latestSeq, state };
        },
        ResumeAck,
      ),
    },
  };
};
