/** Notification (seed 000; 90-day expiry): the hot record, the MongoDB document, the client view. */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** What a domain hands to `notify`. `key` makes the call idempotent (same key, one notification). */
export interface NotificationInput {
  type: string;
  title: string;
  body: string;
  data?: Record<string, unknown>;
  imageUrl?: string;
  senderId?: string;
  priority?: Priority;
  key?: string;
}

export interface NotificationRecord {
  id: string;
  userId: string;
  type: string;
  title: string;
  body: string;
  data?: Record<string, unknown>;
  imageUrl?: string;
  senderId?: string;
  priority: Priority;
  /** ms since epoch */
  createdAt: number;
  expiresAt: number;
  readAt?: number;
  deletedAt?: number;
}

/** Document versions: each state is final for what it sets, so versions order them. */
export const VERSION = { created: 1, read: 2, deleted: 3 } as const;

const defined = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const toMs = (d: unknown): number | undefined => (d instanceof Date ? d.getTime() : typeof d === 'number' ? d : undefined);

export function toDoc(n: NotificationRecord): { _id: string } & Record<string, unknown> {
  return defined({
    _id: n.id,
    userId: n.userId,
    type: n.type,
    title: n.title,
    body: n.body,
    data: n.data,
    imageUrl: n.imageUrl,
    senderId: n.senderId,
    priority: n.priority,
    isRead: n.readAt !== undefined,
    readAt: n.readAt === undefined ? undefined : new Date(n.readAt),
    deletedAt: n.deletedAt === undefined ? undefined : new Date(n.deletedAt),
    createdAt: new Date(n.createdAt),
    expiresAt: new Date(n.expiresAt),
  });
}

export function fromDoc(d: Record<string, unknown>): NotificationRecord {
  return defined({
    id: String(d['_id']),
    userId: String(d['userId']),
    type: String(d['type']),
    title: String(d['title'] ?? ''),
    body: String(d['body'] ?? ''),
    data: d['data'] as Record<string, unknown> | undefined,
    imageUrl: d['imageUrl'] as string | undefined,
    senderId: d['senderId'] as string | undefined,
    priority: (d['priority'] as Priority | undefined) ?? 'normal',
    createdAt: toMs(d['createdAt']) ?? 0,
    expiresAt: toMs(d['expiresAt']) ?? 0,
    readAt: toMs(d['readAt']),
    deletedAt: toMs(d['deletedAt']),
  });
}

export function view(n: NotificationRecord, isRead: boolean): Record<string, unknown> {
  return defined({
    id: n.id,
    type: n.type,
    title: n.title,
    body: n.body,
    data: n.data,
    imageUrl: n.imageUrl,
    senderId: n.senderId,
    priority: n.priority,
    isRead,
    readAt: n.readAt === undefined ? undefined : new Date(n.readAt).toISOString(),
    createdAt: new Date(n.createdAt).toISOString(),
  });
}
