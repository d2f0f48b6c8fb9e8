import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Core } from '../../core.js';
import type { PageWindow } from '../../gateway/http/pagination.js';
import { AppError } from '../../kernel/errors.js';
import type { RoomHub } from '../../rooms/hub.js';
import type { Documents } from '../../store/documents.js';
import { DomainIo, stripId } from '../../store/domain-io.js';
import { NOTIFICATION_TTL_DAYS } from '../../store/indexes.js';
import type { WriteOp, WriteQueue } from '../../store/write-queue.js';
import { VERSION, fromDoc, toDoc, view, type NotificationInput, type NotificationRecord } from './model.js';
import { MemoryNotificationState } from './state-memory.js';
import { RedisNotificationState } from './state-redis.js';
import type { NotificationState } from './state.js';

/** What a domain needs to raise a notification (handed to it by src/modules.ts). */
export type Notifier = Pick<NotificationService, 'notify'>;

export interface NotificationDeps {
  state: NotificationState;
  queue: WriteQueue;
  hub: RoomHub;
  documents: Documents;
  log: Logger;
}

const DAY_MS = 86_400_000;

/**
 * Notifications: created by domain events through `notify`, delivered live to every device of
 * the user (`notification:new`) and stored through the write queue; unread counts, mark read,
 * delete. Reads of the list go to MongoDB.
 */
export class NotificationService {
  private readonly io: DomainIo;

  constructor(private readonly deps: NotificationDeps) {
    this.io = new DomainIo(deps);
  }

  /** Creates, stores and delivers one notification. Returns it, or undefined if `key` was used before. */
  async notify(userId: string, input: NotificationInput): Promise<Record<string, unknown> | undefined> {
    const now = Date.now();
    const id = input.key
      ? `n_${createHash('sha256').update(`${userId}\n${input.key}`).digest('base64url').slice(0, 24)}`
      : `n_${randomBytes(18).toString('base64url')}`;
    const record: NotificationRecord = {
      id,
      userId,
      type: input.type,
      title: input.title.slice(0, 200),
      body: input.body.slice(0, 500),
      ...(input.data ? { data: input.data } : {}),
      ...(input.imageUrl ? { imageUrl: input.imageUrl } : {}),
      ...(input.senderId ? { senderId: input.senderId } : {}),
      priority: input.priority ?? 'normal',
      createdAt: now,
      expiresAt: now + NOTIFICATION_TTL_DAYS * DAY_MS,
    };
    const { added, unread } = await this.deps.state.add(record, input.key);
    if (!added) return undefined;
    await this.io.enqueue([{ kind: 'insert', collection: 'notifications', doc: { ...toDoc(record), version: VERSION.created } }]);
    const notification = view(record, false);
    this.io.publishToUser(userId, 'notification:new', { notification, unreadCount: unread });
    return notification;
  }

  async list(userId: string, limit: number, before: string | undefined): Promise<{ notifications: Array<Record<string, unknown>>; unreadCount: number }> {
    const db = this.io.db();
    const filter: Record<string, unknown> = { userId, deletedAt: { $exists: false }, expiresAt: { $gt: new Date() } };
    if (before) {
      const t = Date.parse(before);
      if (Number.isNaN(t)) throw new AppError('validation_failed', 'before must be an ISO date');
      filter['createdAt'] = { $lt: new Date(t) };
    }
    const [docs, unreadIds] = await Promise.all([
      this.io.read(() => db.collection<{ _id: string }>('notifications').find(filter).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray()),
      this.deps.state.unreadIds(userId),
    ]);
    // The hot state knows what was read even when the queue has not written it yet.
    const notifications = docs.map((d) => view(fromDoc(d), !unreadIds.has(String(d._id))));
    return { notifications, unreadCount: await this.deps.state.unreadCount(userId) };
  }

  /** One page of the user's live notifications, newest first, and how many there are. */
  async page(userId: string, w: PageWindow): Promise<{ items: Array<Record<string, unknown>>; total: number }> {
    const db = this.io.db();
    const notifications = db.collection<{ _id: string }>('notifications');
    const filter = { userId, deletedAt: { $exists: false }, expiresAt: { $gt: new Date() } };
    const [docs, total, unreadIds] = await Promise.all([
      this.io.read(() => notifications.find(filter).sort({ createdAt: -1, _id: -1 }).skip(w.skip).limit(w.limit).toArray()),
      this.io.read(() => notifications.countDocuments(filter)),
      this.deps.state.unreadIds(userId),
    ]);
    return { items: docs.map((d) => view(fromDoc(d), !unreadIds.has(String(d._id)))), total };
  }

  /** Whether the user has this notification (unread, or stored and not deleted). Others' ids are "no". */
  async has(userId: string, id: string): Promise<boolean> {
    if ((await this.deps.state.unreadIds(userId)).has(id)) return true;
    const db = this.io.db();
    return (
      (await this.io.read(() =>
        db.collection<{ _id: string }>('notifications').countDocuments({ _id: id, userId, deletedAt: { $exists: false } }, { limit: 1 }),
      )) > 0
    );
  }

  unreadCount(userId: string): Promise<number> {
    return this.deps.state.unreadCount(userId);
  }

  async markRead(userId: string, id: string): Promise<{ id: string; updated: boolean; unreadCount: number }> {
    const { record, unread } = await this.deps.state.take(userId, id);
    if (record) {
      await this.io.enqueue([this.versioned({ ...record, readAt: Date.now() }, VERSION.read)]);
      this.io.publishToUser(userId, 'notification:update', { action: 'read', ids: [id], unreadCount: unread });
    }
    return { id, updated: record !== undefined, unreadCount: unread };
  }

  async markAllRead(userId: string): Promise<{ updated: number; unreadCount: number }> {
    const records = await this.deps.state.takeAll(userId);
    const now = Date.now();
    if (records.length > 0) {
      await this.io.enqueue(records.map((r) => this.versioned({ ...r, readAt: now }, VERSION.read)));
      this.io.publishToUser(userId, 'notification:update', { action: 'read_all', ids: records.map((r) => r.id), unreadCount: 0 });
    }
    return { updated: records.length, unreadCount: 0 };
  }

  async remove(userId: string, id: string): Promise<{ id: string; unreadCount: number }> {
    const taken = await this.deps.state.take(userId, id);
    const unread = taken.unread;
    let record = taken.record;
    if (!record) {
      const db = this.io.db();
      const doc = await this.io.read(() => db.collection<{ _id: string }>('notifications').findOne({ _id: id, userId, deletedAt: { $exists: false } }));
      if (!doc) throw new AppError('not_found', 'notification not found');
      record = fromDoc(doc);
    }
    await this.io.enqueue([this.versioned({ ...record, deletedAt: Date.now() }, VERSION.deleted)]);
    this.io.publishToUser(userId, 'notification:update', { action: 'delete', ids: [id], unreadCount: unread });
    return { id, unreadCount: unread };
  }

  /** The whole document at a version: whichever order the writers apply them in, the highest wins. */
  private versioned(record: NotificationRecord, version: number): WriteOp {
    return { kind: 'setIfNewer', collection: 'notifications', id: record.id, version, set: stripId(toDoc(record)) };
  }
}

/** The node's notification service: Redis hot state with REDIS_URL, process memory otherwise. */
export function createNotificationService(core: Core): NotificationService {
  return new NotificationService({
    state: core.redis ? new RedisNotificationState(core.redis) : new MemoryNotificationState(),
    queue: core.queue,
    hub: core.hub,
    documents: core.documents,
    log: core.log.child({ module: 'notifications' }),
  });
}
