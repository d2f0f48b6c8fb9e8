import type { NotificationRecord } from './model.js';

/**
 * Each user's unread notifications, kept hot so counts and mark-read never wait for MongoDB.
 * A notification read, deleted, or older than its expiry is no longer in here.
 */
export interface NotificationState {
  /** Adds an unread notification unless `dedupeKey` was used before. */
  add(record: NotificationRecord, dedupeKey: string | undefined): Promise<{ added: boolean; unread: number }>;
  /** Removes one notification from the unread set; returns it if it was unread. */
  take(userId: string, id: string): Promise<{ record: NotificationRecord | undefined; unread: number }>;
  /** Removes and returns every unread notification of the user. */
  takeAll(userId: string): Promise<NotificationRecord[]>;
  unreadIds(userId: string): Promise<Set<string>>;
  unreadCount(userId: string): Promise<number>;
}
