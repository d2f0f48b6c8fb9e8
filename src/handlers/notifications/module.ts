/**
 * Notifications: the socket events of the notification service (built once in src/modules.ts and
 * handed to every module that raises notifications), and its HTTP routes (notifications/routes.ts).
 * Events: docs/events/notifications.md.
 */
import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { notificationRoutes } from './routes.js';
import { DeleteResult, NOTIFICATION_EVENTS, NotificationList, ReadAllResult, ReadResult, UnreadCount, asNotification } from './schemas.js';
import type { NotificationService } from './service.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });
const strict = { additionalProperties: false } as const;

export const notificationsModule =
  (notifications: NotificationService): ModuleFactory =>
  () => {
    return {
      name: 'notifications',
      routes: notificationRoutes(notifications),
      emits: NOTIFICATION_EVENTS,
      handlers: {
        'notification:list': defineHandler(
          Type.Object(
            { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), before: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })) },
            strict,
          ),
          async (ctx, data) => {
            const page = await notifications.list(ctx.session.userId, data.limit ?? 20, data.before);
            return { notifications: page.notifications.map(asNotification), unreadCount: page.unreadCount };
          },
          NotificationList,
        ),
        'notification:unread_count': defineHandler(
          Type.Object({}, strict),
          async (ctx) => ({ unreadCount: await notifications.unreadCount(ctx.session.userId) }),
          UnreadCount,
        ),
        'notification:read': defineHandler(Type.Object({ id: Id }, strict), (ctx, data) => notifications.markRead(ctx.session.userId, data.id), ReadResult),
        'notification:read_all': defineHandler(Type.Object({}, strict), (ctx) => notifications.markAllRead(ctx.session.userId), ReadAllResult),
        'notification:delete': defineHandler(Type.Object({ id: Id }, strict), (ctx, data) => notifications.remove(ctx.session.userId, data.id), DeleteResult),
      },
    };
  };
