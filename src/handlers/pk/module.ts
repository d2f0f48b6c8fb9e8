/** The PK battles domain: invite, accept (starts the battle), decline, read, rankings. */
import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { moneyServices, requireMoney } from '../money/services.js';
import { defineHandler } from '../types.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });

export const pkModule: ModuleFactory = (core) => {
  const services = moneyServices(core);
  return {
    name: 'pk',
    handlers: {
      'pk:invite': defineHandler(
        Type.Object({ opponentId: Id, durationSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })), livestreamId: Type.Optional(Id) }, { additionalProperties: false }),
        (ctx, data) => requireMoney(services).pk.invite(ctx.session.userId, data.opponentId, data.durationSec ?? 300, data.livestreamId),
      ),
      'pk:accept': defineHandler(Type.Object({ battleId: Id, livestreamId: Type.Optional(Id) }, { additionalProperties: false }), (ctx, data) =>
        requireMoney(services).pk.accept(ctx.session.userId, data.battleId, data.livestreamId),
      ),
      'pk:decline': defineHandler(Type.Object({ battleId: Id }, { additionalProperties: false }), (ctx, data) => requireMoney(services).pk.decline(ctx.session.userId, data.battleId)),
      'pk:get': defineHandler(Type.Object({ battleId: Id }, { additionalProperties: false }), (_ctx, data) => requireMoney(services).pk.get(data.battleId)),
      'pk:rankings': defineHandler(Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }, { additionalProperties: false }), async (_ctx, data) => ({
        entries: await requireMoney(services).pk.rankings(data.limit ?? 20),
      })),
    },
    async start() {
      services?.pk.start();
    },
    async stop() {
      services?.pk.stop();
    },
  };
};
