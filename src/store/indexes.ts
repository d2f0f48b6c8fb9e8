import type { CreateIndexesOptions, Db, IndexSpecification } from 'mongodb';
import type { Logger } from 'pino';

export interface IndexSpec {
  collection: string;
  key: IndexSpecification;
  options?: CreateIndexesOptions;
}

/** Notifications expire 90 days after creation (seed 000: TTL index). */
export const NOTIFICATION_TTL_DAYS = 90;

/** The indexes the seeds list for the collections livegate writes. A domain adds its lines here. */
export const INDEXES: IndexSpec[] = [
  // Conversation: getUserConversations(userId) newest first; findBetweenUsers uses the deterministic _id.
  { collection: 'conversations', key: { participants: 1, updatedAt: -1 } },
  // Message: conversationId and senderId are indexed; history pages by conversation, newest first.
  { collection: 'messages', key: { conversationId: 1, createdAt: -1 } },
  { collection: 'messages', key: { senderId: 1, createdAt: -1 } },
  // Notification: userId indexed, unread count, paginated list, and the 90-day TTL on expiresAt.
  { collection: 'notifications', key: { userId: 1, createdAt: -1 } },
  { collection: 'notifications', key: { userId: 1, isRead: 1, createdAt: -1 } },
  { collection: 'notifications', key: { expiresAt: 1 }, options: { expireAfterSeconds: 0, name: 'ttl_expiresAt' } },
];

const NOT_SUPPORTED = new Set(['NotImplemented', 'CommandNotSupported', 'InvalidOptions']);

/**
 * Creates the indexes (idempotent). An index kind the server does not support (FerretDB has no
 * TTL indexes) is logged once and skipped; any other failure throws so the caller retries.
 */
export async function ensureIndexes(db: Db, specs: IndexSpec[], log: Logger): Promise<void> {
  for (const spec of specs) {
    try {
      await db.collection(spec.collection).createIndex(spec.key, spec.options ?? {});
    } catch (err) {
      const codeName = (err as { codeName?: string }).codeName ?? '';
      if (!NOT_SUPPORTED.has(codeName)) throw err;
      log.warn({ collection: spec.collection, key: spec.key, codeName, err: (err as Error).message }, 'index not supported by this server; skipped');
    }
  }
}
