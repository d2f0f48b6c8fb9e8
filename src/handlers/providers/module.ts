/**
 * Stream providers (seed 000 "StreamProvider"): which video SDKs (agora, zegocloud, webrtc) the
 * app may use, in failover order. Users see enabled, non-inactive providers with their public
 * configuration only (app ids, regions); secrets (certificates, server keys) never live here.
 * Admins upsert a provider by name. MongoDB directly.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Collection } from 'mongodb';
import type { Core, ModuleFactory } from '../../core.js';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import { DateTime, Nullable, iso, isoOrNull } from '../../kernel/schemas.js';

const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const NAMES = ['agora', 'zegocloud', 'webrtc'] as const;
export const STATUSES = ['active', 'maintenance', 'inactive'] as const;

export interface ProviderDoc {
  _id: (typeof NAMES)[number];
  displayName: string;
  enabled: boolean;
  status: (typeof STATUSES)[number];
  priority: number;
  publicConfig: Record<string, string>;
  features: Record<string, boolean>;
  monthlyUsage: number;
  usageLimit: number | null;
  lastHealthCheck: Date | null;
  healthStatus: string | null;
  updatedAt: Date;
}

export const PROVIDERS = 'stream_providers';

const ConfigKey = '^[A-Za-z][A-Za-z0-9_]{0,63}$';
// additionalProperties: false, or keys outside the pattern would pass unchecked.
const PublicConfig = Type.Record(Type.String({ pattern: ConfigKey }), Type.String({ maxLength: 512 }), {
  additionalProperties: false,
  description: 'public settings the app needs (app id, region); never secrets',
});
const Features = Type.Record(Type.String({ pattern: ConfigKey }), Type.Boolean(), { additionalProperties: false });

const Provider = Type.Object(
  {
    name: lit(NAMES),
    displayName: Type.String(),
    enabled: Type.Boolean(),
    status: lit(STATUSES),
    priority: Type.Integer({ description: 'higher first' }),
    publicConfig: PublicConfig,
    features: Features,
    monthlyUsage: Type.Number({ minimum: 0 }),
    usageLimit: Nullable(Type.Number({ minimum: 0 })),
    lastHealthCheck: Nullable(DateTime),
    healthStatus: Nullable(Type.String()),
    updatedAt: DateTime,
  },
  { $id: 'StreamProvider', additionalProperties: false },
);

const ProviderInput = Type.Object(
  {
    displayName: Type.String({ minLength: 1, maxLength: 60 }),
    enabled: Type.Boolean(),
    status: lit(STATUSES),
    priority: Type.Integer({ minimum: -1000, maximum: 1000 }),
    publicConfig: Type.Optional(
      Type.Record(Type.String({ pattern: ConfigKey }), Type.String({ maxLength: 512 }), { maxProperties: 32, additionalProperties: false }),
    ),
    features: Type.Optional(Type.Record(Type.String({ pattern: ConfigKey }), Type.Boolean(), { maxProperties: 32, additionalProperties: false })),
    usageLimit: Type.Optional(Type.Number({ minimum: 0, maximum: 1e15 })),
  },
  { $id: 'StreamProviderInput', additionalProperties: false },
);

type ProviderView = Static<typeof Provider>;

const view = (d: ProviderDoc): ProviderView => ({
  name: d._id,
  displayName: d.displayName,
  enabled: d.enabled,
  status: d.status,
  priority: d.priority,
  publicConfig: d.publicConfig,
  features: d.features,
  // Fields a partial write could leave out read as their defaults.
  monthlyUsage: d.monthlyUsage ?? 0,
  usageLimit: d.usageLimit ?? null,
  lastHealthCheck: isoOrNull(d.lastHealthCheck),
  healthStatus: d.healthStatus ?? null,
  updatedAt: iso(d.updatedAt),
});

export const providersModule: ModuleFactory = (core: Core) => {
  const providers = (): Collection<ProviderDoc> => core.documents.db().collection<ProviderDoc>(PROVIDERS);
  const tags = ['livestreaming'];
  const list = async ({ query }: { query: { page?: number; limit?: number } }) => {
    const w = pageWindow(query);
    const filter = { enabled: true, status: { $ne: 'inactive' as const } };
    const [items, total] = await Promise.all([
      providers().find(filter).sort({ priority: -1, _id: 1 }).skip(w.skip).limit(w.limit).toArray(),
      providers().countDocuments(filter),
    ]);
    return pageOf(items.map(view), total, w);
  };
  return {
    name: 'stream-providers',
    routes: [
      defineRoute(
        {
          method: 'get',
          path: '/api/livestreaming/providers',
          operationId: 'listStreamProviders',
          summary: 'Usable stream providers, preferred first',
          tags,
          auth: 'user',
          query: Type.Object(PageQuery),
          response: Paginated(Provider, 'StreamProviderPage'),
        },
        list,
      ),
      // The same list under the livestreams catalogue path (seed 001 names both).
      defineRoute(
        {
          method: 'get',
          path: '/api/livestreams/providers',
          operationId: 'listLivestreamProviders',
          summary: 'Usable stream providers, preferred first (same as /api/livestreaming/providers)',
          tags: ['livestreams'],
          auth: 'user',
          query: Type.Object(PageQuery),
          response: Paginated(Provider, 'StreamProviderPage'),
        },
        list,
      ),
      defineRoute(
        {
          method: 'put',
          path: '/api/livestreaming/providers/:name',
          operationId: 'upsertStreamProvider',
          summary: 'Create or change a provider (admin)',
          tags,
          auth: 'admin',
          params: Type.Object({ name: lit(NAMES) }),
          body: ProviderInput,
          response: Provider,
        },
        async ({ params, body, principal }) => {
          const now = new Date();
          const updated = await providers().findOneAndUpdate(
            { _id: params.name },
            {
              $set: {
                displayName: body.displayName,
                enabled: body.enabled,
                status: body.status,
                priority: body.priority,
                publicConfig: body.publicConfig ?? {},
                features: body.features ?? {},
                usageLimit: body.usageLimit ?? null,
                updatedAt: now,
              },
              $setOnInsert: { monthlyUsage: 0, lastHealthCheck: null, healthStatus: null },
            },
            { upsert: true, returnDocument: 'after' },
          );
          core.log.info(
            { audit: true, actor: principal.userId, action: 'provider.upsert', provider: params.name, enabled: body.enabled, status: body.status },
            'admin action',
          );
          if (!updated) throw new Error('upsert returned no document');
          return view(updated);
        },
      ),
    ],
  };
};
