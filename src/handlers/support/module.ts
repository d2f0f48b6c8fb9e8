/**
 * Customer support tickets (seed 000 "CustomerService"). A user opens tickets and talks in the
 * thread; staff (admins) see the queue and reply. A staff reply is pushed live to the ticket
 * owner as `support:reply`; a user reply is pushed to the assigned agent, if any. Each message is
 * its own document in `support_messages` (an insert never loses a concurrent reply, and a long
 * thread never grows one document without bound); a closed ticket takes no replies (409).
 * MongoDB directly.
 */
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { Collection, Filter } from 'mongodb';
import type { Core, ModuleFactory } from '../../core.js';
import type { EmittedEvents } from '../../gateway/handler.js';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { DateTime, DocIdParams, Nullable, assertOwner, iso, isoOrNull, newId, notFound } from '../../kernel/schemas.js';
import type { Principal } from '../../kernel/session.js';

const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const CATEGORIES = ['account', 'payment', 'technical', 'content', 'order', 'other'] as const;
export const STATUSES = ['open', 'in_progress', 'resolved', 'closed'] as const;
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

interface TicketMessage {
  _id: string;
  ticketId: string;
  from: string;
  message: string;
  createdAt: Date;
  isStaff: boolean;
}

export interface TicketDoc {
  _id: string;
  ticketNumber: string;
  userId: string;
  subject: string;
  category: (typeof CATEGORIES)[number];
  description: string;
  status: (typeof STATUSES)[number];
  priority: (typeof PRIORITIES)[number];
  assignedTo: string | null;
  messageCount: number;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const TICKETS = 'support_tickets';
export const TICKET_MESSAGES = 'support_messages';

const Message = Type.Object(
  { from: Type.String(), message: Type.String(), createdAt: DateTime, isStaff: Type.Boolean() },
  { $id: 'TicketMessage', additionalProperties: false },
);

const Ticket = Type.Object(
  {
    id: Type.String(),
    ticketNumber: Type.String(),
    userId: Type.String(),
    subject: Type.String(),
    category: lit(CATEGORIES),
    description: Type.String(),
    status: lit(STATUSES),
    priority: lit(PRIORITIES),
    assignedTo: Nullable(Type.String()),
    messageCount: Type.Integer({ minimum: 0 }),
    messages: Type.Array(Message, { description: 'the thread, oldest first; empty in lists (see messageCount)' }),
    resolvedAt: Nullable(DateTime),
    resolvedBy: Nullable(Type.String()),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'SupportTicket', additionalProperties: false },
);

const TicketInput = Type.Object(
  {
    subject: Type.String({ minLength: 1, maxLength: 200 }),
    category: lit(CATEGORIES),
    description: Type.String({ minLength: 1, maxLength: 5000 }),
    priority: Type.Optional(lit(PRIORITIES)),
  },
  { $id: 'SupportTicketInput', additionalProperties: false },
);
const ReplyInput = Type.Object({ message: Type.String({ minLength: 1, maxLength: 5000 }) }, { $id: 'SupportReplyInput', additionalProperties: false });
const ListQuery = Type.Object({ ...PageQuery, status: Type.Optional(lit(STATUSES)) });

type TicketView = Static<typeof Ticket>;

const view = (d: TicketDoc, messages: TicketMessage[] = []): TicketView => ({
  id: d._id,
  ticketNumber: d.ticketNumber,
  userId: d.userId,
  subject: d.subject,
  category: d.category,
  description: d.description,
  status: d.status,
  priority: d.priority,
  assignedTo: d.assignedTo,
  messageCount: d.messageCount ?? messages.length,
  messages: messages.map((m) => ({ from: m.from, message: m.message, createdAt: iso(m.createdAt), isStaff: m.isStaff })),
  resolvedAt: isoOrNull(d.resolvedAt),
  resolvedBy: d.resolvedBy,
  createdAt: iso(d.createdAt),
  updatedAt: iso(d.updatedAt),
});

/** T-20251116-7KQ2MX: the day plus 6 random base32 characters (unique index backs it). */
function ticketNumber(now: Date): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const suffix = [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
  return `T-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${suffix}`;
}

const SUPPORT_EVENTS: EmittedEvents = {
  'support:reply': {
    schema: Type.Object(
      { ticketId: Type.String(), ticketNumber: Type.String(), from: Type.String(), isStaff: Type.Boolean(), message: Type.String(), createdAt: DateTime },
      { additionalProperties: false },
    ),
    to: 'user',
    description: 'A reply on a support ticket: to its owner (from staff) or to the assigned agent (from the owner).',
  },
  'support:closed': {
    schema: Type.Object({ ticketId: Type.String(), ticketNumber: Type.String(), closedBy: Type.String() }, { additionalProperties: false }),
    to: 'user',
    description: 'Staff closed your support ticket.',
  },
};

export const supportModule: ModuleFactory = (core: Core) => {
  const tickets = (): Collection<TicketDoc> => core.documents.db().collection<TicketDoc>(TICKETS);
  const messages = (): Collection<TicketMessage> => core.documents.db().collection<TicketMessage>(TICKET_MESSAGES);
  /** A ticket with its whole thread, oldest message first. */
  const full = async (doc: TicketDoc): Promise<TicketView> =>
    view(doc, await messages().find({ ticketId: doc._id }).sort({ createdAt: 1, _id: 1 }).limit(1000).toArray());
  const tags = ['support'];
  const page = async (filter: Filter<TicketDoc>, query: Static<typeof ListQuery>) => {
    const w = pageWindow(query);
    const [items, total] = await Promise.all([
      tickets().find(filter).sort({ updatedAt: -1, _id: 1 }).skip(w.skip).limit(w.limit).toArray(),
      tickets().countDocuments(filter),
    ]);
    return pageOf(
      items.map((d) => view(d)),
      total,
      w,
    );
  };
  const owned = async (id: string, principal: Principal): Promise<TicketDoc> => {
    const doc = await tickets().findOne({ _id: id });
    if (!doc) throw notFound('ticket');
    assertOwner(doc.userId, principal, 'this ticket');
    return doc;
  };

  return {
    name: 'support',
    emits: SUPPORT_EVENTS,
    routes: [
      defineRoute(
        {
          method: 'post',
          path: '/api/support/tickets',
          operationId: 'createSupportTicket',
          summary: 'Open a support ticket',
          tags,
          auth: 'user',
          body: TicketInput,
          response: Ticket,
          status: 201,
          links: {
            GetTicket: { operationId: 'getSupportTicket', parameters: { id: '$response.body#/id' } },
            ReplyTicket: { operationId: 'replySupportTicket', parameters: { id: '$response.body#/id' } },
            CloseTicket: { operationId: 'closeSupportTicket', parameters: { id: '$response.body#/id' } },
          },
        },
        async ({ body, principal }) => {
          const now = new Date();
          const doc: TicketDoc = {
            _id: newId(),
            ticketNumber: ticketNumber(now),
            userId: principal.userId,
            subject: body.subject,
            category: body.category,
            description: body.description,
            status: 'open',
            priority: body.priority ?? 'medium',
            assignedTo: null,
            messageCount: 0,
            resolvedAt: null,
            resolvedBy: null,
            createdAt: now,
            updatedAt: now,
          };
          await tickets().insertOne(doc);
          return view(doc);
        },
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/support/tickets',
          operationId: 'listMySupportTickets',
          summary: "The caller's tickets, recently updated first",
          tags,
          auth: 'user',
          query: ListQuery,
          response: Paginated(Ticket, 'SupportTicketPage'),
        },
        async ({ principal, query }) => page({ userId: principal.userId, ...(query.status ? { status: query.status } : {}) }, query),
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/support/queue',
          operationId: 'getSupportQueue',
          summary: 'All tickets not closed, for staff (admin)',
          tags,
          auth: 'admin',
          query: ListQuery,
          response: Paginated(Ticket, 'SupportTicketPage'),
        },
        async ({ query }) => page(query.status ? { status: query.status } : { status: { $ne: 'closed' } }, query),
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/support/tickets/:id',
          operationId: 'getSupportTicket',
          summary: 'One ticket with its thread (owner or staff)',
          tags,
          auth: 'user',
          params: DocIdParams,
          response: Ticket,
          errors: ['not_found'],
        },
        async ({ params, principal }) => full(await owned(params.id, principal)),
      ),
      defineRoute(
        {
          method: 'post',
          path: '/api/support/tickets/:id/reply',
          operationId: 'replySupportTicket',
          summary: 'Add a message to the thread (owner or staff)',
          tags,
          auth: 'user',
          params: DocIdParams,
          body: ReplyInput,
          response: Ticket,
          status: 201,
          errors: ['not_found', 'conflict'],
        },
        async ({ params, body, principal }) => {
          const ticket = await owned(params.id, principal);
          const isStaff = principal.role === 'admin' && ticket.userId !== principal.userId;
          const now = new Date();
          const set: Partial<TicketDoc> = { updatedAt: now };
          if (isStaff) {
            set.assignedTo = ticket.assignedTo ?? principal.userId;
            if (ticket.status === 'open') set.status = 'in_progress';
          }
          const updated = await tickets().findOneAndUpdate(
            { _id: ticket._id, status: { $ne: 'closed' } },
            { $set: set, $inc: { messageCount: 1 } },
            { returnDocument: 'after' },
          );
          if (!updated) throw new AppError('conflict', 'the ticket is closed');
          await messages().insertOne({ _id: newId(), ticketId: ticket._id, from: principal.userId, message: body.message, createdAt: now, isStaff });
          const notify = isStaff ? updated.userId : updated.assignedTo;
          if (notify && notify !== principal.userId) {
            await core.hub.publish(userRoom(notify), 'support:reply', {
              ticketId: updated._id,
              ticketNumber: updated.ticketNumber,
              from: principal.userId,
              isStaff,
              message: body.message,
              createdAt: iso(now),
            });
          }
          return full(updated);
        },
      ),
      defineRoute(
        {
          method: 'put',
          path: '/api/support/tickets/:id/close',
          operationId: 'closeSupportTicket',
          summary: 'Close a ticket (owner or staff)',
          tags,
          auth: 'user',
          params: DocIdParams,
          response: Ticket,
          errors: ['not_found', 'conflict'],
        },
        async ({ params, principal }) => {
          await owned(params.id, principal);
          const now = new Date();
          const updated = await tickets().findOneAndUpdate(
            { _id: params.id, status: { $ne: 'closed' } },
            { $set: { status: 'closed', resolvedAt: now, resolvedBy: principal.userId, updatedAt: now } },
            { returnDocument: 'after' },
          );
          if (!updated) throw new AppError('conflict', 'the ticket is already closed');
          if (principal.userId !== updated.userId) {
            core.log.info({ audit: true, actor: principal.userId, action: 'ticket.close', ticketId: updated._id }, 'admin action');
            await core.hub.publish(userRoom(updated.userId), 'support:closed', {
              ticketId: updated._id,
              ticketNumber: updated.ticketNumber,
              closedBy: principal.userId,
            });
          }
          return full(updated);
        },
      ),
    ],
  };
};
