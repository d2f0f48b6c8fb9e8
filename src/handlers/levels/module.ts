/**
 * Levels (seed 000 "Level"): the level table, a user's XP and current level. XP is granted by
 * the backend (service credentials) with an atomic $inc; crossing into a new level publishes
 * `level:up` to the user's devices. Reads and writes go to MongoDB directly.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Collection } from 'mongodb';
import type { Core, ModuleFactory } from '../../core.js';
import type { EmittedEvents } from '../../gateway/handler.js';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { CatalogIdParams, Nullable, UserId, newId, notFound } from '../../kernel/schemas.js';
import { isDuplicateKey } from '../../store/mongo.js';
import type { Level } from '../gifts/model.js';

/** A level as stored: the catalogue's Level (seed 000), icon and color optional, with its creation time. */
export interface LevelDoc extends Omit<Level, 'icon' | 'color'> {
  icon: string | null;
  color: string | null;
  createdAt: Date;
}

interface XpDoc {
  _id: string;
  xp: number;
  updatedAt: Date;
}

export const LEVELS = 'levels';
export const USER_XP = 'user_xp';

const Rewards = Type.Object(
  {
    coins: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    badges: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 }),
    features: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 }),
  },
  { $id: 'LevelRewards', additionalProperties: false },
);

const Level = Type.Object(
  {
    id: Type.String(),
    level: Type.Integer({ minimum: 1 }),
    name: Type.String(),
    minXP: Type.Integer({ minimum: 0 }),
    maxXP: Type.Integer({ minimum: 1 }),
    rewards: Rewards,
    icon: Nullable(Type.String()),
    color: Nullable(Type.String()),
  },
  { $id: 'Level', additionalProperties: false },
);

const LevelInput = Type.Object(
  {
    level: Type.Integer({ minimum: 1, maximum: 10_000 }),
    name: Type.String({ minLength: 1, maxLength: 60 }),
    minXP: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
    maxXP: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
    rewards: Type.Optional(Rewards),
    icon: Type.Optional(Type.String({ maxLength: 512 })),
    color: Type.Optional(Type.String({ pattern: '^#[0-9A-Fa-f]{6}$' })),
  },
  { $id: 'LevelInput', additionalProperties: false },
);

const MyLevel = Type.Object(
  {
    userId: Type.String(),
    xp: Type.Integer({ minimum: 0 }),
    level: Nullable(Level),
    nextLevel: Nullable(Level),
    progress: Type.Number({ minimum: 0, maximum: 1, description: '(xp - minXP) / (maxXP - minXP) within the current level' }),
  },
  { $id: 'MyLevel', additionalProperties: false },
);

const XpGrant = Type.Object(
  { userId: UserId, amount: Type.Integer({ minimum: 1, maximum: 1_000_000 }), reason: Type.Optional(Type.String({ maxLength: 120 })) },
  { $id: 'XpGrant', additionalProperties: false },
);
const XpResult = Type.Object(
  { userId: Type.String(), xp: Type.Integer(), level: Nullable(Type.Integer()), leveledUp: Type.Boolean() },
  { $id: 'XpResult', additionalProperties: false },
);

type LevelView = Static<typeof Level>;

const view = (d: LevelDoc): LevelView => ({
  id: d._id,
  level: d.level,
  name: d.name,
  minXP: d.minXP,
  maxXP: d.maxXP,
  rewards: d.rewards,
  icon: d.icon,
  color: d.color,
});

const LEVEL_EVENTS: EmittedEvents = {
  'level:up': {
    schema: Type.Object(
      { userId: Type.String(), level: Type.Integer(), name: Type.String(), xp: Type.Number(), rewards: Rewards },
      { additionalProperties: false },
    ),
    to: 'user',
    description: 'An XP grant (POST /api/server/levels/xp) took you to a new level.',
  },
};

export const levelsModule: ModuleFactory = (core: Core) => {
  const levels = (): Collection<LevelDoc> => core.documents.db().collection<LevelDoc>(LEVELS);
  const xps = (): Collection<XpDoc> => core.documents.db().collection<XpDoc>(USER_XP);
  const levelFor = async (xp: number): Promise<LevelDoc | null> => levels().findOne({ minXP: { $lte: xp } }, { sort: { minXP: -1 } });
  const tags = ['levels'];

  return {
    name: 'levels',
    emits: LEVEL_EVENTS,
    routes: [
      defineRoute(
        {
          method: 'get',
          path: '/api/levels',
          operationId: 'listLevels',
          summary: 'The level table, lowest first',
          tags,
          auth: 'user',
          query: Type.Object(PageQuery),
          response: Paginated(Level, 'LevelPage'),
        },
        async ({ query }) => {
          const w = pageWindow(query);
          const [items, total] = await Promise.all([levels().find().sort({ level: 1 }).skip(w.skip).limit(w.limit).toArray(), levels().countDocuments()]);
          return pageOf(items.map(view), total, w);
        },
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/levels/my-level',
          operationId: 'getMyLevel',
          summary: "The caller's XP, level and progress to the next one",
          tags,
          auth: 'user',
          response: MyLevel,
        },
        async ({ principal }) => {
          const xp = (await xps().findOne({ _id: principal.userId }))?.xp ?? 0;
          const current = await levelFor(xp);
          const next = await levels().findOne({ minXP: { $gt: xp } }, { sort: { minXP: 1 } });
          const span = current ? current.maxXP - current.minXP : 0;
          const progress = current && span > 0 ? Math.min(1, Math.max(0, (xp - current.minXP) / span)) : 0;
          return { userId: principal.userId, xp, level: current ? view(current) : null, nextLevel: next ? view(next) : null, progress };
        },
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/levels/:id',
          operationId: 'getLevel',
          summary: 'One level (seeded levels have ids level-1, level-2, …)',
          tags,
          auth: 'user',
          params: CatalogIdParams,
          response: Level,
          errors: ['not_found'],
        },
        async ({ params }) => {
          const doc = await levels().findOne({ _id: params.id });
          if (!doc) throw notFound('level');
          return view(doc);
        },
      ),
      defineRoute(
        {
          method: 'post',
          path: '/api/levels',
          operationId: 'createLevel',
          summary: 'Add a level (admin)',
          tags,
          auth: 'admin',
          body: LevelInput,
          response: Level,
          status: 201,
          errors: ['conflict'],
          links: { GetLevel: { operationId: 'getLevel', parameters: { id: '$response.body#/id' } } },
        },
        async ({ body, principal }) => {
          if (body.minXP >= body.maxXP) throw new AppError('validation_failed', 'body/maxXP: must be greater than minXP');
          const doc: LevelDoc = {
            _id: newId(),
            level: body.level,
            name: body.name,
            minXP: body.minXP,
            maxXP: body.maxXP,
            rewards: body.rewards ?? { coins: 0, badges: [], features: [] },
            icon: body.icon ?? null,
            color: body.color ?? null,
            createdAt: new Date(),
          };
          if (await levels().findOne({ level: body.level })) throw new AppError('conflict', `level ${body.level} exists`);
          try {
            await levels().insertOne(doc);
          } catch (err) {
            if (isDuplicateKey(err)) throw new AppError('conflict', `level ${body.level} exists`);
            throw err;
          }
          core.log.info({ audit: true, actor: principal.userId, action: 'level.create', level: body.level }, 'admin action');
          return view(doc);
        },
      ),
      defineRoute(
        {
          method: 'post',
          path: '/api/levels/xp',
          operationId: 'grantXp',
          summary: 'Add XP to a user (backend); publishes level:up on a new level',
          tags,
          auth: 'service',
          body: XpGrant,
          response: XpResult,
        },
        async ({ body }) => {
          const after = await xps().findOneAndUpdate(
            { _id: body.userId },
            { $inc: { xp: body.amount }, $set: { updatedAt: new Date() } },
            { upsert: true, returnDocument: 'after' },
          );
          const xp = after?.xp ?? body.amount;
          const [before, now] = await Promise.all([levelFor(xp - body.amount), levelFor(xp)]);
          const leveledUp = now !== null && now.level !== before?.level;
          if (leveledUp && now)
            await core.hub.publish(userRoom(body.userId), 'level:up', { userId: body.userId, level: now.level, name: now.name, xp, rewards: now.rewards });
          return { userId: body.userId, xp, level: now?.level ?? null, leveledUp };
        },
      ),
    ],
  };
};
