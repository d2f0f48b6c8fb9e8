import type { CreateIndexesOptions, Db, IndexSpecification } from 'mongodb';
import type { Logger } from 'pino';
import { COLLECTIONS } from './collections.js';

export interface IndexSpec {
  collection: string;
  key: IndexSpecification;
  options?: CreateIndexesOptions;
  /**
   * Correctness depends on it (a unique index that guards data): a server that cannot build it
   * is a startup error (RequiredIndexError, fatal), never a skipped index. Do not mark indexes
   * of kinds FerretDB lacks (TTL, partial): code must not depend on those.
   */
  required?: true;
}

/** A required index the server refused permanently (unsupported, or existing data violates it). */
export class RequiredIndexError extends Error {
  constructor(
    readonly spec: IndexSpec,
    readonly codeName: string,
    cause: string,
  ) {
    super(`required index ${spec.options?.name ?? JSON.stringify(spec.key)} on ${spec.collection} cannot be built (${codeName}): ${cause}`);
    this.name = 'RequiredIndexError';
  }
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
  // Auth (src/handlers/auth): unique email and case-insensitive username; refresh token families and expiry.
  { collection: 'users', key: { email: 1 }, options: { unique: true, name: 'email_unique' }, required: true },
  { collection: 'users', key: { usernameLower: 1 }, options: { unique: true, name: 'username_unique' }, required: true },
  { collection: 'refresh_tokens', key: { familyId: 1 } },
  { collection: 'refresh_tokens', key: { expiresAt: 1 }, options: { expireAfterSeconds: 0, name: 'ttl_expiresAt' } },
  // Levels: one document per level number; lookups by XP.
  { collection: 'levels', key: { level: 1 }, options: { unique: true, name: 'level_unique' }, required: true },
  { collection: 'levels', key: { minXP: 1 } },
  // Supporters: a creator's supporters by coins; the global ranking groups by supporterId.
  { collection: 'supporters', key: { creatorId: 1, totalCoins: -1 } },
  { collection: 'supporters', key: { supporterId: 1 } },
  // Report: reporterId and reportedId indexed (seed); the moderation queue by status.
  { collection: 'reports', key: { reporterId: 1, createdAt: -1 } },
  { collection: 'reports', key: { reportedType: 1, reportedId: 1, status: 1 } },
  { collection: 'reports', key: { status: 1, createdAt: 1 } },
  // CustomerService: userId indexed, ticketNumber unique (seed).
  { collection: 'support_tickets', key: { userId: 1, updatedAt: -1 } },
  { collection: 'support_tickets', key: { ticketNumber: 1 }, options: { unique: true, name: 'ticket_number_unique' }, required: true },
  { collection: 'support_tickets', key: { status: 1, updatedAt: -1 } },
  { collection: 'support_messages', key: { ticketId: 1, createdAt: 1 } },
  // ScheduledContent: userId and scheduledFor indexed (seed); the poller scans due items.
  { collection: 'scheduled_content', key: { userId: 1, scheduledFor: 1 } },
  { collection: 'scheduled_content', key: { status: 1, scheduledFor: 1 } },
  // Payments: a user's history. A retried checkout finds the first one by its _id, derived from
  // (user, idempotency key): no secondary unique index is needed (or trusted) for idempotency.
  { collection: 'payments', key: { userId: 1, createdAt: -1 } },
  // Payouts (withdrawals): _id is derived from (user, idempotency key); a user's history.
  { collection: 'payouts', key: { userId: 1, createdAt: -1 } },
  // Money (seed 000: Transaction, GiftTransaction, Gift, CoinPackage, PKBattle): ledgers by user and time.
  { collection: COLLECTIONS.transactions, key: { userId: 1, createdAt: -1 } },
  { collection: COLLECTIONS.transactions, key: { walletId: 1 } },
  { collection: COLLECTIONS.giftTransactions, key: { senderId: 1, ts: -1 } },
  { collection: COLLECTIONS.giftTransactions, key: { recipientId: 1, createdAt: -1 } },
  { collection: COLLECTIONS.giftTransactions, key: { livestreamId: 1 } },
  { collection: COLLECTIONS.giftTransactions, key: { giftId: 1 } },
  { collection: COLLECTIONS.giftTransactions, key: { ts: -1 } },
  { collection: COLLECTIONS.walletTransfers, key: { senderId: 1, ts: -1 } },
  { collection: COLLECTIONS.gifts, key: { isActive: 1, category: 1 } },
  { collection: COLLECTIONS.coinPackages, key: { isActive: 1 } },
  { collection: COLLECTIONS.pkBattles, key: { status: 1 } },
  { collection: COLLECTIONS.pkBattles, key: { host1Id: 1 } },
  { collection: COLLECTIONS.pkBattles, key: { host2Id: 1 } },
];

const NOT_SUPPORTED = new Set(['NotImplemented', 'CommandNotSupported', 'InvalidOptions']);
/** Failures that a retry cannot cure for a required index: existing documents violate it. */
const VIOLATED = new Set(['DuplicateKey']);

/**
 * Creates the indexes (idempotent). An index kind the server does not support (FerretDB has no
 * TTL indexes) is logged once and skipped, unless the spec is `required`: then, like existing
 * data that violates a required index, it throws RequiredIndexError (the node must not run). Any
 * other failure throws so the caller retries.
 */
export async function ensureIndexes(db: Db, specs: IndexSpec[], log: Logger): Promise<void> {
  for (const spec of specs) {
    try {
      await db.collection(spec.collection).createIndex(spec.key, spec.options ?? {});
    } catch (err) {
      const { codeName = '', code } = err as { codeName?: string; code?: number };
      // MongoDB: 11000 DuplicateKey; FerretDB: InternalError "UNIQUE constraint failed".
      const name = code === 11000 || /UNIQUE constraint failed|duplicate key/i.test((err as Error).message) ? 'DuplicateKey' : codeName;
      if (spec.required && (NOT_SUPPORTED.has(name) || VIOLATED.has(name))) throw new RequiredIndexError(spec, name, (err as Error).message);
      if (!NOT_SUPPORTED.has(name)) throw err;
      log.warn({ collection: spec.collection, key: spec.key, codeName, err: (err as Error).message }, 'index not supported by this server; skipped');
    }
  }
}
