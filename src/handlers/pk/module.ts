/** The PK battles domain: invite, accept (starts the battle), decline, read, rankings; HTTP: /api/pk-battles (routes.ts). */
import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { AppError } from '../../kernel/errors.js';
import { streamDirectoryFor } from '../livestream/directory.js';
import { requireMoney, type MoneyServices } from '../wallets/services.js';
import { PkBattle, battleBody, pkRoutes } from './routes.js';
import { PK_EVENTS, PkRankingsAck } from './schemas.js';
import { DEFAULT_PK_DURATION_MS, PkDurationMs } from './service.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });

export const pkModule =
  (services: MoneyServices | undefined): ModuleFactory =>
  (core) => {
    const streams = streamDirectoryFor(core);
    /** A battle's frames go to the stream a host names: it must be that host's live stream. */
    const assertOwnStream = async (userId: string, livestreamId: string | undefined): Promise<void> => {
      if (livestreamId === undefined) return;
      const host = await streams.hostOf(livestreamId);
      if (!host) throw new AppError('not_found', `livestream "${livestreamId}" does not exist or has ended`);
      if (host !== userId) throw new AppError('forbidden', `livestream "${livestreamId}" is not yours`);
    };
    return {
      name: 'pk',
      emits: PK_EVENTS,
      routes: pkRoutes({ pk: () => requireMoney(services).pk, gifts: () => requireMoney(services).gifts, assertOwnStream }),
      handlers: {
        'pk:invite': defineHandler(
          Type.Object({ opponentId: Id, durationMs: Type.Optional(PkDurationMs), livestreamId: Type.Optional(Id) }, { additionalProperties: false }),
          async (ctx, data) => {
            await assertOwnStream(ctx.session.userId, data.livestreamId);
            return battleBody(
              await requireMoney(services).pk.invite(ctx.session.userId, data.opponentId, data.durationMs ?? DEFAULT_PK_DURATION_MS, data.livestreamId),
            );
          },
          PkBattle,
        ),
        'pk:accept': defineHandler(
          Type.Object({ battleId: Id, livestreamId: Type.Optional(Id) }, { additionalProperties: false }),
          async (ctx, data) => {
            await assertOwnStream(ctx.session.userId, data.livestreamId);
            return battleBody(await requireMoney(services).pk.accept(ctx.session.userId, data.battleId, data.livestreamId));
          },
          PkBattle,
        ),
        'pk:decline': defineHandler(
          Type.Object({ battleId: Id }, { additionalProperties: false }),
          async (ctx, data) => battleBody(await requireMoney(services).pk.decline(ctx.session.userId, data.battleId)),
          PkBattle,
        ),
        'pk:get': defineHandler(
          Type.Object({ battleId: Id }, { additionalProperties: false }),
          async (_ctx, data) => battleBody(await requireMoney(services).pk.get(data.battleId)),
          PkBattle,
        ),
        'pk:rankings': defineHandler(
          Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }, { additionalProperties: false }),
          async (_ctx, data) => ({
            entries: await requireMoney(services).pk.rankings(data.limit ?? 20),
          }),
          PkRankingsAck,
        ),
      },
      async start() {
        services?.pk.start();
      },
      async stop() {
        services?.pk.stop();
      },
    };
  };
