/**
 * Multi-host (co-hosts) over REST: `/api/multi-host/:streamId/{invite,accept,kick,co-hosts}`.
 *
 * The socket side (`livestream:cohost:*`, src/handlers/livestream.ts on the cluster branch)
 * keeps co-hosts in its Redis stream store. Until that is merged, this module keeps the
 * co-host list in MongoDB (`multi_host`, one document per stream, updated with an optimistic
 * `version` check so concurrent invites never lose one another) and publishes the same event
 * names to the users' rooms: `livestream:cohost:invited` to the invitee, `livestream:cohost:joined`
 * and `livestream:cohost:removed` to the host and every co-host. The host of a stream comes from
 * a StreamDirectory (seam below); the default reads the `livestreams` collection.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Collection } from 'mongodb';
import type { Core, ModuleFactory } from '../../core.js';
import { AppError } from '../../gateway/errors.js';
import { userRoom } from '../../gateway/connection.js';
import { defineRoute } from '../../gateway/http/route.js';
import { isDuplicateKey } from '../../store/mongo.js';
import { DateTime, Id, Nullable, dbOf, iso, isoOrNull } from '../common/http.js';

/** Where the host of a stream is looked up. The livestream module can provide its own. */
export interface StreamDirectory {
  hostOf(streamId: string): Promise<string | undefined>;
}

export const MAX_COHOSTS = 8;
export const MULTI_HOST = 'multi_host';
export const LIVESTREAMS = 'livestreams';

type CohostStatus = 'invited' | 'active' | 'kicked';

interface CohostEntry {
  userId: string;
  status: CohostStatus;
  invitedAt: Date;
  joinedAt: Date | null;
}

interface MultiHostDoc {
  _id: string;
  hostId: string;
  cohosts: CohostEntry[];
  version: number;
  updatedAt: Date;
}

const Cohost = Type.Object(
  { userId: Type.String(), status: Type.Union([Type.Literal('invited'), Type.Literal('active'), Type.Literal('kicked')]), invitedAt: DateTime, joinedAt: Nullable(DateTime) },
  { $id: 'Cohost', additionalProperties: false },
);
const CohostList = Type.Object({ streamId: Type.String(), hostId: Type.String(), cohosts: Type.Array(Cohost) }, { $id: 'CohostList', additionalProperties: false });
const Params = Type.Object({ streamId: Id });
const Target = Type.Object({ userId: Id }, { $id: 'CohostTarget', additionalProperties: false });

type ListView = Static<typeof CohostList>;

const view = (streamId: string, hostId: string, doc: MultiHostDoc | null): ListView => ({
  streamId,
  hostId,
  cohosts: (doc?.cohosts ?? []).map((c) => ({ userId: c.userId, status: c.status, invitedAt: iso(c.invitedAt), joinedAt: isoOrNull(c.joinedAt) })),
});

export const mongoStreamDirectory = (core: Core): StreamDirectory => ({
  async hostOf(streamId) {
    const stream = await dbOf(core).collection<{ _id: string; hostId?: string; status?: string }>(LIVESTREAMS).findOne({ _id: streamId });
    return stream && stream.status !== 'ended' ? stream.hostId : undefined;
  },
});

export function multiHostModule(directoryFor: (core: Core) => StreamDirectory = mongoStreamDirectory): ModuleFactory {
  return (core: Core) => {
    const docs = (): Collection<MultiHostDoc> => dbOf(core).collection<MultiHostDoc>(MULTI_HOST);
    const directory = directoryFor(core);
    const tags = ['multi-host'];

    const hostOf = async (streamId: string): Promise<string> => {
      const hostId = await directory.hostOf(streamId);
      if (!hostId) throw new AppError('not_found', 'no such live stream');
      return hostId;
    };

    /** Reads, changes and writes back the co-host list; a concurrent change makes the write miss and answers 409. */
    const change = async (streamId: string, hostId: string, edit: (cohosts: CohostEntry[]) => CohostEntry[]): Promise<MultiHostDoc> => {
      const current = (await docs().findOne({ _id: streamId })) ?? { _id: streamId, hostId, cohosts: [], version: 0, updatedAt: new Date() };
      const next: MultiHostDoc = { ...current, hostId, cohosts: edit(current.cohosts.map((c) => ({ ...c }))), version: current.version + 1, updatedAt: new Date() };
      const { _id, ...fields } = next;
      let written: number;
      try {
        const result =
          current.version === 0
            ? await docs().updateOne({ _id, version: { $exists: false } }, { $setOnInsert: fields }, { upsert: true })
            : await docs().updateOne({ _id, version: current.version }, { $set: { cohosts: next.cohosts, version: next.version, updatedAt: next.updatedAt, hostId } });
        written = result.modifiedCount + result.upsertedCount;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        written = 0; // another request created the document first
      }
      if (written === 0) throw new AppError('conflict', 'the co-host list changed meanwhile; retry');
      return next;
    };

    const announce = async (doc: MultiHostDoc, event: string, payload: Record<string, unknown>, extra: string[] = []): Promise<void> => {
      const to = new Set([doc.hostId, ...doc.cohosts.filter((c) => c.status === 'active').map((c) => c.userId), ...extra]);
      for (const userId of to) await core.hub.publish(userRoom(userId), event, payload);
    };

    return {
      name: 'multi-host',
      routes: [
        defineRoute(
          {
            method: 'post', path: '/api/multi-host/:streamId/invite', operationId: 'inviteCohost', summary: 'Invite a co-host (stream host only)', tags, auth: 'user',
            params: Params, body: Target, response: CohostList, errors: ['not_found', 'conflict'],
          },
          async ({ params, body, principal }) => {
            const hostId = await hostOf(params.streamId);
            if (hostId !== principal.userId) throw new AppError('forbidden', 'only the host invites co-hosts');
            if (body.userId === hostId) throw new AppError('conflict', 'the host cannot co-host their own stream');
            const doc = await change(params.streamId, hostId, (cohosts) => {
              const existing = cohosts.find((c) => c.userId === body.userId);
              if (existing && existing.status !== 'kicked') throw new AppError('conflict', `user is already ${existing.status}`);
              if (cohosts.filter((c) => c.status !== 'kicked').length >= MAX_COHOSTS) throw new AppError('conflict', `at most ${MAX_COHOSTS} co-hosts`);
              return [...cohosts.filter((c) => c.userId !== body.userId), { userId: body.userId, status: 'invited', invitedAt: new Date(), joinedAt: null }];
            });
            await core.hub.publish(userRoom(body.userId), 'livestream:cohost:invited', { streamId: params.streamId, hostId });
            return view(params.streamId, hostId, doc);
          },
        ),
        defineRoute(
          {
            method: 'post', path: '/api/multi-host/:streamId/accept', operationId: 'acceptCohost', summary: 'Accept an invitation to co-host', tags, auth: 'user',
            params: Params, response: CohostList, errors: ['not_found', 'conflict'],
          },
          async ({ params, principal }) => {
            const hostId = await hostOf(params.streamId);
            const doc = await change(params.streamId, hostId, (cohosts) => {
              const mine = cohosts.find((c) => c.userId === principal.userId && c.status === 'invited');
              if (!mine) throw new AppError('not_found', 'no invitation for you on this stream');
              mine.status = 'active';
              mine.joinedAt = new Date();
              return cohosts;
            });
            await announce(doc, 'livestream:cohost:joined', { streamId: params.streamId, userId: principal.userId });
            return view(params.streamId, hostId, doc);
          },
        ),
        defineRoute(
          {
            method: 'post', path: '/api/multi-host/:streamId/kick', operationId: 'kickCohost', summary: 'Remove a co-host or withdraw an invitation (stream host only)', tags, auth: 'user',
            params: Params, body: Target, response: CohostList, errors: ['not_found', 'conflict'],
          },
          async ({ params, body, principal }) => {
            const hostId = await hostOf(params.streamId);
            if (hostId !== principal.userId) throw new AppError('forbidden', 'only the host removes co-hosts');
            const doc = await change(params.streamId, hostId, (cohosts) => {
              const target = cohosts.find((c) => c.userId === body.userId && c.status !== 'kicked');
              if (!target) throw new AppError('not_found', 'that user is not a co-host or invitee of this stream');
              target.status = 'kicked';
              return cohosts;
            });
            await announce(doc, 'livestream:cohost:removed', { streamId: params.streamId, userId: body.userId }, [body.userId]);
            return view(params.streamId, hostId, doc);
          },
        ),
        defineRoute(
          { method: 'get', path: '/api/multi-host/:streamId/co-hosts', operationId: 'listCohosts', summary: 'The host and co-hosts of a live stream', tags, auth: 'user', params: Params, response: CohostList, errors: ['not_found'] },
          async ({ params }) => {
            const hostId = await hostOf(params.streamId);
            return view(params.streamId, hostId, await docs().findOne({ _id: params.streamId }));
          },
        ),
      ],
    };
  };
}
