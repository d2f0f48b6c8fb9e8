/**
 * Scheduled content (seed 000 "ScheduledContent"): posts and livestreams planned for later.
 * Owners create, list (by page or by calendar range), edit and delete them while they are still
 * `scheduled`. A poller on every node claims due items with one atomic update each (so exactly
 * one node fires an item) and pushes `scheduling:due` to the owner's devices; the item becomes
 * `published`. The draft (`contentData`) is stored as JSON text, so client keys never become
 * MongoDB field names. MongoDB directly.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Collection } from 'mongodb';
import type { Core, ModuleFactory } from '../../core.js';
import type { EmittedEvents } from '../../gateway/handler.js';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { DateTime, DocId, Nullable, assertOwner, iso, isoOrNull, newId, notFound } from '../../kernel/schemas.js';
import type { Principal } from '../../kernel/session.js';

const lit = <T extends string>(values: readonly T[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

export const STATUSES = ['scheduled', 'published', 'failed', 'cancelled'] as const;
export const KINDS = ['post', 'livestream'] as const;
const MAX_CONTENT_BYTES = 64 * 1024;
const MAX_AHEAD_MS = 366 * 24 * 3600 * 1000;
const MAX_CALENDAR_MS = 92 * 24 * 3600 * 1000;
const CALENDAR_LIMIT = 500;

export interface ScheduledDoc {
  _id: string;
  userId: string;
  kind: (typeof KINDS)[number];
  title: string;
  contentJson: string;
  scheduledFor: Date;
  status: (typeof STATUSES)[number];
  contentId: string | null;
  publishedAt: Date | null;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const SCHEDULED = 'scheduled_content';

const ContentData = Type.Record(Type.String(), Type.Unknown(), { description: 'the draft, as the client wants it back (at most 64 KiB as JSON)' });

const Scheduled = Type.Object(
  {
    id: Type.String(),
    userId: Type.String(),
    kind: lit(KINDS),
    title: Type.String(),
    contentData: ContentData,
    scheduledFor: DateTime,
    status: lit(STATUSES),
    contentId: Nullable(Type.String()),
    publishedAt: Nullable(DateTime),
    error: Nullable(Type.String()),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'ScheduledContent', additionalProperties: false },
);

const PostInput = Type.Object(
  { scheduledFor: DateTime, title: Type.Optional(Type.String({ maxLength: 120 })), contentData: ContentData },
  { $id: 'SchedulePostInput', additionalProperties: false },
);
const LivestreamInput = Type.Object(
  { scheduledFor: DateTime, title: Type.String({ minLength: 1, maxLength: 120 }), description: Type.Optional(Type.String({ maxLength: 1000 })) },
  { $id: 'ScheduleLivestreamInput', additionalProperties: false },
);
const UpdateInput = Type.Object(
  { scheduledFor: Type.Optional(DateTime), title: Type.Optional(Type.String({ maxLength: 120 })), contentData: Type.Optional(ContentData) },
  { $id: 'ScheduleUpdateInput', additionalProperties: false, minProperties: 1 },
);
const Params = Type.Object({ scheduledId: DocId });
const Deleted = Type.Object({ id: Type.String(), deleted: Type.Literal(true) }, { $id: 'ScheduledDeleted', additionalProperties: false });
const Calendar = Type.Object({ from: DateTime, to: DateTime, items: Type.Array(Scheduled) }, { $id: 'ScheduleCalendar', additionalProperties: false });

type ScheduledView = Static<typeof Scheduled>;

const byId = { scheduledId: '$response.body#/id' };
const SCHEDULED_LINKS = {
  GetScheduled: { operationId: 'getScheduled', parameters: byId },
  UpdateScheduled: { operationId: 'updateScheduled', parameters: byId },
  DeleteScheduled: { operationId: 'deleteScheduled', parameters: byId },
};

const view = (d: ScheduledDoc): ScheduledView => ({
  id: d._id,
  userId: d.userId,
  kind: d.kind,
  title: d.title,
  contentData: JSON.parse(d.contentJson) as Record<string, unknown>,
  scheduledFor: iso(d.scheduledFor),
  status: d.status,
  contentId: d.contentId,
  publishedAt: isoOrNull(d.publishedAt),
  error: d.error,
  createdAt: iso(d.createdAt),
  updatedAt: iso(d.updatedAt),
});

function futureDate(value: string, field: string, now: Date): Date {
  const date = new Date(value);
  if (date.getTime() <= now.getTime()) throw new AppError('validation_failed', `body/${field}: must be in the future`);
  if (date.getTime() - now.getTime() > MAX_AHEAD_MS) throw new AppError('validation_failed', `body/${field}: at most one year ahead`);
  return date;
}

function contentJson(data: Record<string, unknown>): string {
  const json = JSON.stringify(data);
  if (Buffer.byteLength(json) > MAX_CONTENT_BYTES) throw new AppError('validation_failed', `body/contentData: larger than ${MAX_CONTENT_BYTES} bytes`);
  return json;
}

const SCHEDULING_EVENTS: EmittedEvents = {
  'scheduling:due': {
    schema: Type.Object(
      { id: Type.String(), kind: lit(KINDS), title: Type.String(), scheduledFor: DateTime, contentData: ContentData },
      { additionalProperties: false },
    ),
    to: 'user',
    description: 'Your scheduled content is due now (published once, by one node).',
  },
};

export const schedulingModule: ModuleFactory = (core: Core) => {
  const items = (): Collection<ScheduledDoc> => core.documents.db().collection<ScheduledDoc>(SCHEDULED);
  const tags = ['scheduling'];
  let timer: NodeJS.Timeout | undefined;
  let polling = false;

  const create = async (
    principal: Principal,
    kind: ScheduledDoc['kind'],
    title: string,
    data: Record<string, unknown>,
    when: string,
  ): Promise<ScheduledView> => {
    const now = new Date();
    const doc: ScheduledDoc = {
      _id: newId(),
      userId: principal.userId,
      kind,
      title,
      contentJson: contentJson(data),
      scheduledFor: futureDate(when, 'scheduledFor', now),
      status: 'scheduled',
      contentId: null,
      publishedAt: null,
      error: null,
      createdAt: now,
      updatedAt: now,
    };
    await items().insertOne(doc);
    return view(doc);
  };

  const owned = async (id: string, principal: Principal): Promise<ScheduledDoc> => {
    const doc = await items().findOne({ _id: id });
    if (!doc) throw notFound('scheduled item');
    assertOwner(doc.userId, principal, 'this scheduled item');
    return doc;
  };

  /** Claims and fires due items; each claim is one conditional update, so two nodes never fire the same item. */
  async function fireDue(): Promise<void> {
    if (polling || !core.documents.connected) return;
    polling = true;
    try {
      const now = new Date();
      const due = await items()
        .find({ status: 'scheduled', scheduledFor: { $lte: now } })
        .sort({ scheduledFor: 1 })
        .limit(100)
        .toArray();
      for (const item of due) {
        const claimed = await items().findOneAndUpdate(
          { _id: item._id, status: 'scheduled' },
          { $set: { status: 'published', publishedAt: now, updatedAt: now } },
          { returnDocument: 'after' },
        );
        if (!claimed) continue;
        await core.hub.publish(userRoom(claimed.userId), 'scheduling:due', {
          id: claimed._id,
          kind: claimed.kind,
          title: claimed.title,
          scheduledFor: iso(claimed.scheduledFor),
          contentData: JSON.parse(claimed.contentJson) as unknown,
        });
      }
    } catch (err) {
      core.log.warn({ err: (err as Error).message }, 'scheduler poll failed');
    } finally {
      polling = false;
    }
  }

  return {
    name: 'scheduling',
    emits: SCHEDULING_EVENTS,
    start: async () => {
      if (core.documents.configured && core.config.scheduler.pollMs > 0) timer = setInterval(() => void fireDue(), core.config.scheduler.pollMs);
    },
    stop: async () => {
      if (timer) clearInterval(timer);
    },
    routes: [
      defineRoute(
        {
          method: 'post',
          path: '/api/scheduling/schedule',
          operationId: 'schedulePost',
          summary: 'Schedule a post for later',
          tags,
          auth: 'user',
          body: PostInput,
          response: Scheduled,
          status: 201,
          links: SCHEDULED_LINKS,
        },
        async ({ body, principal }) => create(principal, 'post', body.title ?? '', body.contentData, body.scheduledFor),
      ),
      defineRoute(
        {
          method: 'post',
          path: '/api/scheduling/livestream',
          operationId: 'scheduleLivestream',
          summary: 'Schedule a livestream',
          tags,
          auth: 'user',
          body: LivestreamInput,
          response: Scheduled,
          status: 201,
          links: SCHEDULED_LINKS,
        },
        async ({ body, principal }) =>
          create(principal, 'livestream', body.title, { title: body.title, description: body.description ?? '' }, body.scheduledFor),
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/scheduling/my-scheduled',
          operationId: 'listMyScheduled',
          summary: "The caller's scheduled items, soonest first",
          tags,
          auth: 'user',
          query: Type.Object({ ...PageQuery, status: Type.Optional(lit(STATUSES)) }),
          response: Paginated(Scheduled, 'ScheduledContentPage'),
        },
        async ({ principal, query }) => {
          const w = pageWindow(query);
          const filter = { userId: principal.userId, ...(query.status ? { status: query.status } : {}) };
          const [list, total] = await Promise.all([
            items().find(filter).sort({ scheduledFor: 1, _id: 1 }).skip(w.skip).limit(w.limit).toArray(),
            items().countDocuments(filter),
          ]);
          return pageOf(list.map(view), total, w);
        },
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/scheduling/calendar',
          operationId: 'getScheduleCalendar',
          summary: "The caller's items between from and to (at most 92 days, 500 items)",
          tags,
          auth: 'user',
          query: Type.Object({ from: DateTime, to: DateTime }),
          response: Calendar,
        },
        async ({ principal, query }) => {
          const from = new Date(query.from);
          const to = new Date(query.to);
          if (to <= from) throw new AppError('validation_failed', 'query/to: must be after from');
          if (to.getTime() - from.getTime() > MAX_CALENDAR_MS) throw new AppError('validation_failed', 'query/to: the range is at most 92 days');
          const list = await items()
            .find({ userId: principal.userId, scheduledFor: { $gte: from, $lt: to } })
            .sort({ scheduledFor: 1, _id: 1 })
            .limit(CALENDAR_LIMIT)
            .toArray();
          return { from: iso(from), to: iso(to), items: list.map(view) };
        },
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/scheduling/:scheduledId',
          operationId: 'getScheduled',
          summary: 'One scheduled item (owner)',
          tags,
          auth: 'user',
          params: Params,
          response: Scheduled,
          errors: ['not_found'],
        },
        async ({ params, principal }) => view(await owned(params.scheduledId, principal)),
      ),
      defineRoute(
        {
          method: 'put',
          path: '/api/scheduling/:scheduledId',
          operationId: 'updateScheduled',
          summary: 'Change time, title or draft while still scheduled (owner)',
          tags,
          auth: 'user',
          params: Params,
          body: UpdateInput,
          response: Scheduled,
          errors: ['not_found', 'conflict'],
        },
        async ({ params, body, principal }) => {
          await owned(params.scheduledId, principal);
          const now = new Date();
          const set: Partial<ScheduledDoc> = { updatedAt: now };
          if (body.scheduledFor !== undefined) set.scheduledFor = futureDate(body.scheduledFor, 'scheduledFor', now);
          if (body.title !== undefined) set.title = body.title;
          if (body.contentData !== undefined) set.contentJson = contentJson(body.contentData);
          const updated = await items().findOneAndUpdate({ _id: params.scheduledId, status: 'scheduled' }, { $set: set }, { returnDocument: 'after' });
          if (!updated) throw new AppError('conflict', 'only items still scheduled can change');
          return view(updated);
        },
      ),
      defineRoute(
        {
          method: 'del',
          path: '/api/scheduling/:scheduledId',
          operationId: 'deleteScheduled',
          summary: 'Delete a scheduled item (owner)',
          tags,
          auth: 'user',
          params: Params,
          response: Deleted,
          errors: ['not_found'],
        },
        async ({ params, principal }) => {
          await owned(params.scheduledId, principal);
          const result = await items().deleteOne({ _id: params.scheduledId });
          if (result.deletedCount === 0) throw notFound('scheduled item');
          return { id: params.scheduledId, deleted: true as const };
        },
      ),
    ],
  };
};
