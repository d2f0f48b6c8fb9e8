/**
 * Notifications over HTTP (`/api/notifications/*`, seed 001): the same NotificationService the
 * socket events use, so a mark-read or delete publishes the same `notification:update` to the
 * user's devices. A user only ever addresses their own notifications: another user's id is 404.
 */
import { Type } from '@sinclair/typebox';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { AppError } from '../../kernel/errors.js';
import { IdParams } from '../../kernel/schemas.js';
import { DeleteResult, NotificationSchema, ReadAllResult, ReadResult, UnreadCount, asNotification } from './schemas.js';
import type { NotificationService } from './service.js';

const tags = ['notifications'];

export function notificationRoutes(notifications: NotificationService): RouteDef[] {
  return [
    defineRoute(
      {
        method: 'get',
        path: '/api/notifications',
        operationId: 'listNotifications',
        summary: "The caller's notifications, newest first (expired and deleted ones left out)",
        tags,
        auth: 'user',
        query: Type.Object(PageQuery),
        response: Paginated(NotificationSchema, 'NotificationPage'),
      },
      async ({ principal, query }) => {
        const w = pageWindow(query);
        const { items, total } = await notifications.page(principal.userId, w);
        return pageOf(items.map(asNotification), total, w);
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/notifications/unread-count',
        operationId: 'getUnreadNotificationCount',
        summary: "The caller's unread notifications",
        tags,
        auth: 'user',
        response: UnreadCount,
      },
      async ({ principal }) => ({ unreadCount: await notifications.unreadCount(principal.userId) }),
    ),
    defineRoute(
      {
        method: 'put',
        path: '/api/notifications/read-all',
        operationId: 'markAllNotificationsRead',
        tags,
        auth: 'user',
        response: ReadAllResult,
        summary: 'Mark every notification read (same as `notification:read_all`; devices get `notification:update`)',
      },
      ({ principal }) => notifications.markAllRead(principal.userId),
    ),
    defineRoute(
      {
        method: 'put',
        path: '/api/notifications/:id/read',
        operationId: 'markNotificationRead',
        tags,
        auth: 'user',
        params: IdParams,
        response: ReadResult,
        errors: ['not_found'],
        summary: 'Mark one notification read (same as `notification:read`; devices get `notification:update`)',
      },
      async ({ principal, params }) => {
        const result = await notifications.markRead(principal.userId, params.id);
        // Already read is fine (updated: false); an id the caller does not have is 404.
        if (!result.updated && !(await notifications.has(principal.userId, params.id))) throw new AppError('not_found', 'notification not found');
        return result;
      },
    ),
    defineRoute(
      {
        method: 'del',
        path: '/api/notifications/:id',
        operationId: 'deleteNotification',
        tags,
        auth: 'user',
        params: IdParams,
        response: DeleteResult,
        errors: ['not_found'],
        summary: 'Delete one notification (same as `notification:delete`; devices get `notification:update`)',
      },
      ({ principal, params }) => notifications.remove(principal.userId, params.id),
    ),
  ];
}
