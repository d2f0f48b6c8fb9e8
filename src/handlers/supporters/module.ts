/**
 * Supporters (seed 000 "SupporterBadge"; catalogue /api/supporters): who supports a creator
 * with gifts, ranked by coins, with the highest gift badge each has earned.
 *
 * The read model is `supporters`, one document per (creator, supporter) with running totals
 * changed only by an atomic upsert-$inc (`recordSupport`). The gift flow (wallets/gifts
 * module) calls `recordSupport` after a gift is settled, or the backend posts to
 * /api/supporters/record with service credentials. Anonymous gifts are not recorded here.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Long, type Collection, type Db } from 'mongodb';
import type { Core, ModuleFactory } from '../../core.js';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import { AppError } from '../../kernel/errors.js';
import { DateTime, Nullable, UserId, iso } from '../../kernel/schemas.js';
import type { SupporterBadge } from '../gifts/model.js';

export interface SupporterDoc {
  _id: string;
  creatorId: string;
  supporterId: string;
  totalCoins: number;
  giftCount: number;
  lastGiftAt: Date;
}

/** A supporter badge as stored (the catalogue's SupporterBadge, seed 000). */
export type BadgeDoc = SupporterBadge;

export const SUPPORTERS = 'supporters';
export const BADGES = 'supporter_badges';

/** Adds one settled, non-anonymous gift to the totals (atomic; safe from any node). */
export async function recordSupport(
  db: Db,
  creatorId: string,
  supporterId: string,
  coins: number,
  gifts: number,
  at: Date = new Date(),
): Promise<SupporterDoc> {
  const doc = await db.collection<SupporterDoc>(SUPPORTERS).findOneAndUpdate(
    { _id: `${creatorId}:${supporterId}` },
    // int64 increments: an int32 sum would wrap on servers that do not promote on overflow (FerretDB).
    { $inc: { totalCoins: Long.fromNumber(coins), giftCount: Long.fromNumber(gifts) }, $set: { lastGiftAt: at }, $setOnInsert: { creatorId, supporterId } },
    { upsert: true, returnDocument: 'after' },
  );
  if (!doc) throw new Error('supporter upsert returned no document');
  return doc;
}

const Badge = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    icon: Type.String(),
    color: Type.String(),
    threshold: Type.Number(),
    rarity: Type.Union([Type.Literal('common'), Type.Literal('rare'), Type.Literal('epic'), Type.Literal('legendary')]),
  },
  { $id: 'SupporterBadge', additionalProperties: false },
);

const Supporter = Type.Object(
  {
    userId: Type.String(),
    rank: Type.Integer({ minimum: 1 }),
    totalCoins: Type.Number({ minimum: 0 }),
    giftCount: Type.Integer({ minimum: 0 }),
    lastGiftAt: Nullable(DateTime),
    badge: Nullable(Badge),
  },
  { $id: 'Supporter', additionalProperties: false },
);

const RecordInput = Type.Object(
  {
    creatorId: UserId,
    supporterId: UserId,
    coins: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
    gifts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  },
  { $id: 'SupportRecordInput', additionalProperties: false },
);
const RecordResult = Type.Object(
  { creatorId: Type.String(), supporterId: Type.String(), totalCoins: Type.Number(), giftCount: Type.Integer() },
  { $id: 'SupportRecord', additionalProperties: false },
);

type BadgeView = Static<typeof Badge>;

const badgeView = (b: BadgeDoc): BadgeView => ({
  id: b._id,
  name: b.name,
  description: b.description,
  icon: b.icon,
  color: b.color,
  threshold: b.threshold,
  rarity: b.rarity,
});

export const supportersModule: ModuleFactory = (core: Core) => {
  const supporters = (): Collection<SupporterDoc> => core.documents.db().collection<SupporterDoc>(SUPPORTERS);
  const tags = ['supporters'];

  /** Gift badges, highest threshold first; a supporter holds the first one their coins reach. */
  const giftBadges = async (): Promise<BadgeDoc[]> =>
    core.documents.db().collection<BadgeDoc>(BADGES).find({ isActive: true, requirement: 'gifts' }).sort({ threshold: -1 }).limit(100).toArray();
  const badgeFor = (badges: BadgeDoc[], coins: number): BadgeView | null => {
    const badge = badges.find((b) => coins >= b.threshold);
    return badge ? badgeView(badge) : null;
  };

  return {
    name: 'supporters',
    routes: [
      defineRoute(
        {
          method: 'get',
          path: '/api/supporters/top',
          operationId: 'listTopSupporters',
          summary: 'The biggest supporters over all creators',
          tags,
          auth: 'user',
          query: Type.Object(PageQuery),
          response: Paginated(Supporter, 'SupporterPage'),
        },
        async ({ query }) => {
          const w = pageWindow(query);
          const grouped = [{ $group: { _id: '$supporterId', totalCoins: { $sum: '$totalCoins' }, giftCount: { $sum: '$giftCount' } } }];
          const [rows, counted, badges] = await Promise.all([
            supporters()
              .aggregate<{ _id: string; totalCoins: number; giftCount: number }>([
                ...grouped,
                { $sort: { totalCoins: -1, _id: 1 } },
                { $skip: w.skip },
                { $limit: w.limit },
              ])
              .toArray(),
            supporters()
              .aggregate<{ n: number }>([...grouped, { $count: 'n' }])
              .toArray(),
            giftBadges(),
          ]);
          const items = rows.map((r, i) => ({
            userId: r._id,
            rank: w.skip + i + 1,
            totalCoins: r.totalCoins,
            giftCount: r.giftCount,
            lastGiftAt: null,
            badge: badgeFor(badges, r.totalCoins),
          }));
          return pageOf(items, counted[0]?.n ?? 0, w);
        },
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/supporters/:userId',
          operationId: 'listSupporters',
          summary: "A creator's supporters, biggest first",
          tags,
          auth: 'user',
          params: Type.Object({ userId: UserId }),
          query: Type.Object(PageQuery),
          response: Paginated(Supporter, 'SupporterPage'),
        },
        async ({ params, query }) => {
          const w = pageWindow(query);
          const filter = { creatorId: params.userId };
          const [rows, total, badges] = await Promise.all([
            supporters().find(filter).sort({ totalCoins: -1, _id: 1 }).skip(w.skip).limit(w.limit).toArray(),
            supporters().countDocuments(filter),
            giftBadges(),
          ]);
          const items = rows.map((r, i) => ({
            userId: r.supporterId,
            rank: w.skip + i + 1,
            totalCoins: r.totalCoins,
            giftCount: r.giftCount,
            lastGiftAt: iso(r.lastGiftAt),
            badge: badgeFor(badges, r.totalCoins),
          }));
          return pageOf(items, total, w);
        },
      ),
      defineRoute(
        {
          method: 'post',
          path: '/api/supporters/record',
          operationId: 'recordSupport',
          summary: 'Add a settled gift to the supporter totals (backend)',
          tags,
          auth: 'service',
          body: RecordInput,
          response: RecordResult,
        },
        async ({ body }) => {
          if (body.creatorId === body.supporterId) throw new AppError('validation_failed', 'body/supporterId: a creator does not support themselves');
          const doc = await recordSupport(core.documents.db(), body.creatorId, body.supporterId, body.coins, body.gifts ?? 1);
          return { creatorId: doc.creatorId, supporterId: doc.supporterId, totalCoins: doc.totalCoins, giftCount: doc.giftCount };
        },
      ),
    ],
  };
};
