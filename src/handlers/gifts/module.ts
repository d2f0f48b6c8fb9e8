/**
 * The gifts domain: sending gifts, wallets, the catalogue and supporter leaderboards, over the
 * socket and (routes.ts) over HTTP, on the node's money services (started and stopped by the wallets module).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { AppError } from '../../kernel/errors.js';
import { IdempotencyKey } from '../../kernel/schemas.js';
import { moneyKeys } from '../wallets/keys.js';
import { requireMoney, type MoneyServices } from '../wallets/services.js';
import { CATALOGUE_KINDS } from './model.js';
import { giftRoutes } from './routes.js';
import {
  CatalogAck,
  GIFT_EVENTS,
  GiftCatalogAck,
  GiftSend,
  GiftSendResult,
  GiftTotalsAck,
  LeaderboardAck,
  WalletBalance,
  WalletCreditAck,
  catalogGift,
} from './schemas.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 100 }));

const WalletCredit = Type.Object(
  {
    userId: Id,
    amount: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
    reason: Type.String({ minLength: 1, maxLength: 200 }),
    idempotencyKey: IdempotencyKey,
    type: Type.Optional(
      Type.Union([Type.Literal('bonus'), Type.Literal('purchase'), Type.Literal('refund'), Type.Literal('earning'), Type.Literal('commission')]),
    ),
  },
  { additionalProperties: false },
);

function board(flat: string[]): Array<{ userId: string; coins: number }> {
  const out: Array<{ userId: string; coins: number }> = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ userId: flat[i]!, coins: Number(flat[i + 1]) });
  return out;
}

export const giftsModule =
  (services: MoneyServices | undefined): ModuleFactory =>
  () => {
    return {
      name: 'gifts',
      emits: GIFT_EVENTS,
      routes: giftRoutes(services),
      handlers: {
        'gift:send': defineHandler(GiftSend, (ctx, data) => requireMoney(services).gifts.send(ctx.session.userId, data), GiftSendResult),

        'gift:catalog': defineHandler(
          Type.Object({}, { additionalProperties: false }),
          () => {
            const { catalog } = requireMoney(services);
            const now = new Date();
            return {
              version: catalog.currentVersion,
              gifts: catalog
                .list('gifts')
                .filter((g) => g.isActive)
                .map((g) => catalogGift(g, now)),
            };
          },
          GiftCatalogAck,
        ),

        'catalog:get': defineHandler(
          Type.Object({ kind: Type.Union(CATALOGUE_KINDS.map((k) => Type.Literal(k))) }, { additionalProperties: false }),
          (_ctx, data) => {
            const { catalog } = requireMoney(services);
            const now = new Date();
            const version = catalog.currentVersion;
            if (data.kind === 'gifts') return { kind: data.kind, version, items: catalog.list('gifts').map((g) => catalogGift(g, now)) };
            return { kind: data.kind, version, items: catalog.list(data.kind) } as Static<typeof CatalogAck>;
          },
          CatalogAck,
        ),

        'wallet:balance': defineHandler(
          Type.Object({}, { additionalProperties: false }),
          async (ctx) => ({
            userId: ctx.session.userId,
            balance: await requireMoney(services).wallets.balance(ctx.session.userId),
            currency: 'coins' as const,
          }),
          WalletBalance,
        ),

        'wallet:credit': defineHandler(
          WalletCredit,
          (ctx, data) => {
            if (ctx.session.role !== 'admin' && ctx.session.role !== 'service') throw new AppError('forbidden', 'wallet:credit is for administrators');
            ctx.log.info({ audit: 'wallet:credit', target: data.userId, amount: data.amount, reason: data.reason }, 'admin credit');
            return requireMoney(services).wallets.credit(data.userId, data.amount, data.reason, data.idempotencyKey, data.type);
          },
          WalletCreditAck,
        ),

        'gift:leaderboard': defineHandler(
          Type.Object({ livestreamId: Type.Optional(Id), creatorId: Type.Optional(Id), limit: Limit }, { additionalProperties: false }),
          async (_ctx, data) => {
            const { redis } = requireMoney(services);
            if (!data.livestreamId === !data.creatorId) throw new AppError('validation_failed', 'give exactly one of livestreamId or creatorId');
            const key = data.livestreamId ? moneyKeys.streamBoard(data.livestreamId) : moneyKeys.creatorBoard(data.creatorId!);
            return { ...data, entries: board(await redis.zrevrange(key, 0, (data.limit ?? 10) - 1, 'WITHSCORES')) };
          },
          LeaderboardAck,
        ),

        'gift:totals': defineHandler(
          Type.Object({ livestreamId: Id }, { additionalProperties: false }),
          async (_ctx, data) => {
            const raw = await requireMoney(services).redis.hgetall(moneyKeys.streamTotals(data.livestreamId));
            const gifts: Record<string, { count: number; coins: number }> = {};
            for (const [field, value] of Object.entries(raw)) {
              const m = /^(.*):([nc])$/.exec(field);
              if (!m) continue;
              const entry = (gifts[m[1]!] ??= { count: 0, coins: 0 });
              if (m[2] === 'n') entry.count = Number(value);
              else entry.coins = Number(value);
            }
            return { livestreamId: data.livestreamId, coins: Number(raw['coins'] ?? 0), gifts: Number(raw['gifts'] ?? 0), byGift: gifts };
          },
          GiftTotalsAck,
        ),
      },
    };
  };
