/** TypeBox schemas of the notifications: the record clients see, the acks of the socket events (same as the HTTP responses) and the server events. */
import { Type, type Static } from '@sinclair/typebox';
import type { EmittedEvents } from '../../gateway/handler.js';
import { DateTime } from '../../kernel/schemas.js';
import { PRIORITIES } from './model.js';

const strict = { additionalProperties: false } as const;

export const NotificationSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    title: Type.String(),
    body: Type.String(),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    imageUrl: Type.Optional(Type.String()),
    senderId: Type.Optional(Type.String()),
    priority: Type.Union(PRIORITIES.map((p) => Type.Literal(p))),
    isRead: Type.Boolean(),
    readAt: Type.Optional(DateTime),
    createdAt: DateTime,
  },
  { $id: 'Notification', ...strict },
);
export type NotificationBody = Static<typeof NotificationSchema>;
/** model.ts's `view` has exactly this shape (schemathesis checks the responses). */
export const asNotification = (v: Record<string, unknown>): NotificationBody => v as NotificationBody;

export const UnreadCount = Type.Object({ unreadCount: Type.Integer({ minimum: 0 }) }, { $id: 'NotificationUnreadCount', ...strict });
export const ReadResult = Type.Object(
  { id: Type.String(), updated: Type.Boolean({ description: 'false if it was already read' }), unreadCount: Type.Integer({ minimum: 0 }) },
  { $id: 'NotificationReadResult', ...strict },
);
export const ReadAllResult = Type.Object(
  { updated: Type.Integer({ minimum: 0 }), unreadCount: Type.Integer({ minimum: 0 }) },
  { $id: 'NotificationReadAllResult', ...strict },
);
export const DeleteResult = Type.Object({ id: Type.String(), unreadCount: Type.Integer({ minimum: 0 }) }, { $id: 'NotificationDeleteResult', ...strict });

export const NotificationList = Type.Object(
  { notifications: Type.Array(NotificationSchema), unreadCount: Type.Integer({ minimum: 0 }) },
  { $id: 'NotificationList', ...strict },
);

export const NOTIFICATION_EVENTS: EmittedEvents = {
  'notification:new': {
    schema: Type.Object({ notification: NotificationSchema, unreadCount: Type.Integer({ minimum: 0 }) }, strict),
    to: 'user',
    description: 'A new notification for you, with your unread count after it.',
  },
  'notification:update': {
    schema: Type.Object(
      {
        action: Type.Union([Type.Literal('read'), Type.Literal('read_all'), Type.Literal('delete')]),
        ids: Type.Array(Type.String()),
        unreadCount: Type.Integer({ minimum: 0 }),
      },
      strict,
    ),
    to: 'user',
    description: 'Notifications were read or deleted (on any of your devices or over HTTP).',
  },
};
