/**
 * Reports and moderation (seed 000 "Report"). Users report content, users, messages, streams...;
 * they see their own reports. Admins work the queue: review one report, or act on a piece of
 * content, which resolves every open report about it. The reported user hears `moderation:action`
 * and reporters hear `report:resolved` on their user rooms; a ban also closes the banned user's
 * sockets on this node. Every admin action writes an audit log line. MongoDB directly.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Collection, Filter } from 'mongodb';
import type { Core, ModuleFactory } from '../../core.js';
import type { EmittedEvents } from '../../gateway/handler.js';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { DateTime, DocIdParams, Id, Nullable, assertOwner, iso, isoOrNull, newId, notFound } from '../../kernel/schemas.js';

const lit = <T extends string>(values: readonly T[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

export const REPORTED_TYPES = ['content', 'user', 'comment', 'livestream', 'message', 'product', 'store'] as const;
export const REASONS = ['spam', 'harassment', 'hate_speech', 'violence', 'nudity', 'copyright', 'false_info', 'scam', 'inappropriate', 'other'] as const;
export const STATUSES = ['pending', 'under_review', 'resolved', 'dismissed'] as const;
export const ACTIONS = ['none', 'warning', 'content_removed', 'account_suspended', 'account_banned'] as const;
type Status = (typeof STATUSES)[number];
type Action = (typeof ACTIONS)[number];

export interface ReportDoc {
  _id: string;
  reporterId: string;
  reportedType: (typeof REPORTED_TYPES)[number];
  reportedId: string;
  reportedUserId: string | null;
  reason: (typeof REASONS)[number];
  description: string;
  screenshots: string[];
  status: Status;
  reviewedBy: string | null;
  reviewedAt: Date | null;
  reviewNotes: string;
  actionTaken: Action;
  createdAt: Date;
  updatedAt: Date;
}

export const REPORTS = 'reports';
const OPEN: Status[] = ['pending', 'under_review'];

const Report = Type.Object(
  {
    id: Type.String(),
    reporterId: Type.String(),
    reportedType: lit(REPORTED_TYPES),
    reportedId: Type.String(),
    reportedUserId: Nullable(Type.String()),
    reason: lit(REASONS),
    description: Type.String(),
    screenshots: Type.Array(Type.String()),
    status: lit(STATUSES),
    reviewedBy: Nullable(Type.String()),
    reviewedAt: Nullable(DateTime),
    reviewNotes: Type.String(),
    actionTaken: lit(ACTIONS),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Report', additionalProperties: false },
);

const ReportInput = Type.Object(
  {
    reportedType: lit(REPORTED_TYPES),
    reportedId: Id,
    reportedUserId: Type.Optional(Id),
    reason: lit(REASONS),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    screenshots: Type.Optional(Type.Array(Type.String({ format: 'uri', maxLength: 2048 }), { maxItems: 5 })),
  },
  { $id: 'ReportInput', additionalProperties: false },
);

const ReviewInput = Type.Object(
  {
    status: lit(['under_review', 'resolved', 'dismissed'] as const),
    reviewNotes: Type.Optional(Type.String({ maxLength: 2000 })),
    actionTaken: Type.Optional(lit(ACTIONS)),
  },
  { $id: 'ReportReview', additionalProperties: false },
);

const ModerationInput = Type.Object(
  { action: lit(ACTIONS), notes: Type.Optional(Type.String({ maxLength: 2000 })), reportedType: Type.Optional(lit(REPORTED_TYPES, 'default: content')) },
  { $id: 'ModerationAction', additionalProperties: false },
);
const ModerationResult = Type.Object(
  {
    contentId: Type.String(),
    reportedType: lit(REPORTED_TYPES),
    action: lit(ACTIONS),
    resolvedReports: Type.Integer({ minimum: 0 }),
    affectedUsers: Type.Array(Type.String()),
  },
  { $id: 'ModerationResult', additionalProperties: false },
);

type ReportView = Static<typeof Report>;

const view = (d: ReportDoc): ReportView => ({
  id: d._id,
  reporterId: d.reporterId,
  reportedType: d.reportedType,
  reportedId: d.reportedId,
  reportedUserId: d.reportedUserId,
  reason: d.reason,
  description: d.description,
  screenshots: d.screenshots,
  status: d.status,
  reviewedBy: d.reviewedBy,
  reviewedAt: isoOrNull(d.reviewedAt),
  reviewNotes: d.reviewNotes,
  actionTaken: d.actionTaken,
  createdAt: iso(d.createdAt),
  updatedAt: iso(d.updatedAt),
});

const MODERATION_EVENTS: EmittedEvents = {
  'moderation:action': {
    schema: Type.Object(
      { reportedType: lit(REPORTED_TYPES), contentId: Type.String(), action: lit(ACTIONS.filter((a) => a !== 'none')) },
      { additionalProperties: false },
    ),
    to: 'user',
    description: 'A moderator acted on your content or account (account_banned: your connections close next).',
  },
  'report:resolved': {
    schema: Type.Union([
      Type.Object({ reportId: Type.String(), status: lit(STATUSES), actionTaken: lit(ACTIONS) }, { additionalProperties: false }),
      Type.Object(
        { reportedType: lit(REPORTED_TYPES), contentId: Type.String(), status: lit(STATUSES), actionTaken: lit(ACTIONS) },
        { additionalProperties: false },
      ),
    ]),
    to: 'user',
    description: 'A report you made was reviewed (by report id) or closed by an action on the content (by content id).',
  },
};

export const moderationModule: ModuleFactory = (core: Core) => {
  const reports = (): Collection<ReportDoc> => core.documents.db().collection<ReportDoc>(REPORTS);
  const page = async (filter: Filter<ReportDoc>, query: { page?: number; limit?: number }, sort: 1 | -1) => {
    const w = pageWindow(query);
    const [items, total] = await Promise.all([
      reports().find(filter).sort({ createdAt: sort, _id: 1 }).skip(w.skip).limit(w.limit).toArray(),
      reports().countDocuments(filter),
    ]);
    return pageOf(items.map(view), total, w);
  };
  const audit = (actor: string, action: string, detail: Record<string, unknown>): void =>
    core.log.info({ audit: true, actor, action, ...detail }, 'admin action');

  return {
    name: 'moderation',
    emits: MODERATION_EVENTS,
    routes: [
      defineRoute(
        {
          method: 'post',
          path: '/api/reports',
          operationId: 'createReport',
          summary: 'Report content, a user, a message, a stream...',
          tags: ['reports'],
          auth: 'user',
          body: ReportInput,
          response: Report,
          status: 201,
          errors: ['conflict'],
          links: {
            GetReport: { operationId: 'getReport', parameters: { id: '$response.body#/id' } },
            ReviewReport: { operationId: 'reviewReport', parameters: { id: '$response.body#/id' } },
          },
        },
        async ({ body, principal }) => {
          if (body.reportedType === 'user' && body.reportedId === principal.userId)
            throw new AppError('validation_failed', 'body/reportedId: you cannot report yourself');
          const open = await reports().findOne({
            reporterId: principal.userId,
            reportedType: body.reportedType,
            reportedId: body.reportedId,
            status: { $in: OPEN },
          });
          if (open) throw new AppError('conflict', `you already have an open report about this ${body.reportedType} (${open._id})`);
          const now = new Date();
          const doc: ReportDoc = {
            _id: newId(),
            reporterId: principal.userId,
            reportedType: body.reportedType,
            reportedId: body.reportedId,
            reportedUserId: body.reportedUserId ?? (body.reportedType === 'user' ? body.reportedId : null),
            reason: body.reason,
            description: body.description ?? '',
            screenshots: body.screenshots ?? [],
            status: 'pending',
            reviewedBy: null,
            reviewedAt: null,
            reviewNotes: '',
            actionTaken: 'none',
            createdAt: now,
            updatedAt: now,
          };
          await reports().insertOne(doc);
          return view(doc);
        },
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/reports/my',
          operationId: 'listMyReports',
          summary: "The caller's reports, newest first",
          tags: ['reports'],
          auth: 'user',
          query: Type.Object({ ...PageQuery, status: Type.Optional(lit(STATUSES)) }),
          response: Paginated(Report, 'ReportPage'),
        },
        async ({ principal, query }) => page({ reporterId: principal.userId, ...(query.status ? { status: query.status } : {}) }, query, -1),
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/reports/:id',
          operationId: 'getReport',
          summary: 'One of your reports (admins: any)',
          tags: ['reports'],
          auth: 'user',
          params: DocIdParams,
          response: Report,
          errors: ['not_found'],
        },
        async ({ params, principal }) => {
          const doc = await reports().findOne({ _id: params.id });
          if (!doc) throw notFound('report');
          assertOwner(doc.reporterId, principal, 'this report');
          return view(doc);
        },
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/moderation/queue',
          operationId: 'getModerationQueue',
          summary: 'Reports to review, oldest first (admin)',
          tags: ['moderation'],
          auth: 'admin',
          query: Type.Object({
            ...PageQuery,
            status: Type.Optional(lit(STATUSES, 'default: pending and under_review')),
            reportedType: Type.Optional(lit(REPORTED_TYPES)),
          }),
          response: Paginated(Report, 'ReportPage'),
        },
        async ({ query }) =>
          page({ status: query.status ? query.status : { $in: OPEN }, ...(query.reportedType ? { reportedType: query.reportedType } : {}) }, query, 1),
      ),
      defineRoute(
        {
          method: 'put',
          path: '/api/moderation/reports/:id',
          operationId: 'reviewReport',
          summary: 'Review one report (admin); resolved and dismissed are final',
          tags: ['moderation'],
          auth: 'admin',
          params: DocIdParams,
          body: ReviewInput,
          response: Report,
          errors: ['not_found', 'conflict'],
        },
        async ({ params, body, principal }) => {
          const now = new Date();
          const updated = await reports().findOneAndUpdate(
            { _id: params.id, status: { $in: OPEN } },
            {
              $set: {
                status: body.status,
                reviewNotes: body.reviewNotes ?? '',
                actionTaken: body.actionTaken ?? 'none',
                reviewedBy: principal.userId,
                reviewedAt: now,
                updatedAt: now,
              },
            },
            { returnDocument: 'after' },
          );
          if (!updated) {
            if (!(await reports().findOne({ _id: params.id }, { projection: { _id: 1 } }))) throw notFound('report');
            throw new AppError('conflict', 'this report was already closed');
          }
          audit(principal.userId, 'report.review', { reportId: params.id, status: body.status, actionTaken: updated.actionTaken });
          if (body.status !== 'under_review')
            await core.hub.publish(userRoom(updated.reporterId), 'report:resolved', {
              reportId: updated._id,
              status: updated.status,
              actionTaken: updated.actionTaken,
            });
          return view(updated);
        },
      ),
      defineRoute(
        {
          method: 'post',
          path: '/api/moderation/content/:contentId',
          operationId: 'moderateContent',
          summary: 'Act on reported content (admin): resolves every open report about it and notifies the owner',
          tags: ['moderation'],
          auth: 'admin',
          params: Type.Object({ contentId: Id }),
          body: ModerationInput,
          response: ModerationResult,
        },
        async ({ params, body, principal }) => {
          const reportedType = body.reportedType ?? 'content';
          const filter = { reportedType, reportedId: params.contentId, status: { $in: OPEN } };
          const open = await reports().find(filter).toArray();
          const now = new Date();
          const status: Status = body.action === 'none' ? 'dismissed' : 'resolved';
          await reports().updateMany(
            { _id: { $in: open.map((r) => r._id) }, status: { $in: OPEN } },
            { $set: { status, actionTaken: body.action, reviewNotes: body.notes ?? '', reviewedBy: principal.userId, reviewedAt: now, updatedAt: now } },
          );
          const affected = [...new Set(open.map((r) => r.reportedUserId).filter((u): u is string => u !== null))];
          audit(principal.userId, 'content.moderate', { reportedType, contentId: params.contentId, moderationAction: body.action, reports: open.length });
          for (const userId of affected) {
            if (body.action !== 'none')
              await core.hub.publish(userRoom(userId), 'moderation:action', { reportedType, contentId: params.contentId, action: body.action });
            if (body.action === 'account_banned') core.sockets.disconnectUser(userId, 'kicked', 'account banned');
          }
          for (const reporterId of new Set(open.map((r) => r.reporterId))) {
            await core.hub.publish(userRoom(reporterId), 'report:resolved', { reportedType, contentId: params.contentId, status, actionTaken: body.action });
          }
          return { contentId: params.contentId, reportedType, action: body.action, resolvedReports: open.length, affectedUsers: affected };
        },
      ),
    ],
  };
};
