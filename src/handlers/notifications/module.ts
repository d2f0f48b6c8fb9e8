/**
 * Notifications: the socket events of the notification service (built once in src/modules.ts and
 * handed to every module that raises notifications), and its HTTP routes (notifications/routes.ts).
 * Events: docs/events/notifications.md.
 */
import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { notificationRoutes } from './routes.js';
import type { NotificationService } from './service.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });
const strict = { additionalProperties: false } as const;

export const notificationsModule =
  (notifications: NotificationService): ModuleFactory =>
  () => {
    return {
      name: 'notifications',
      routes: notificationRoutes(notifications),
      handlers: {
        'notification:list': defineHandler(
          Type.Object(
            { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), before: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })) },
            strict,
          ),
          (ctx, data) => notifications.list(ctx.session.userId, data.limit ?? 20, data.before),
        ),
        'notification:unread_count': defineHandler(Type.Object({}, strict), async (ctx) => ({
          unreadCount: await notifications.unreadCount(ctx.session.userId),
        })),
        'notification:read': defineHandler(Type.Object({ id: Id }, strict), (ctx, data) => notifications.markRead(ctx.session.userId, data.id)),
        'notification:read_all': defineHandler(Type.Object({}, strict), (ctx) => notifications.markAllRead(ctx.session.userId)),
        'notification:delete': defineHandler(Type.Object({ id: Id }, strict), (ctx, data) => notifications.remove(ctx.session.userId, data.id)),
      },
    };
  };
