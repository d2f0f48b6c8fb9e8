/**
 * Small pieces every HTTP domain uses: the database handle (503 when MongoDB is not configured),
 * id schemas, index creation that tolerates FerretDB's gaps, and date formatting.
 */
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Db, IndexDescription } from 'mongodb';
import type { Core } from '../../core.js';
import { AppError } from '../../gateway/errors.js';

/** Ids are strings: user ids come from token `sub` claims, documents get UUIDs. */
export const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' });
export const IdParams = Type.Object({ id: Id });
export const DateTime = Type.String({ format: 'date-time' });

export const newId = (): string => randomUUID();
export const iso = (date: Date): string => date.toISOString();
export const isoOrNull = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

/** The database, or 503 when this node runs without MONGO_URL. */
export function dbOf(core: Core): Db {
  if (!core.mongo) throw new AppError('unavailable', 'this node has no database configured');
  return core.mongo.db;
}

/**
 * Creates indexes in the background and never throws: a TTL index FerretDB does not implement is
 * logged (expiry is also checked on read), anything else is logged as a warning.
 */
export async function ensureIndexes(core: Core, collection: string, indexes: IndexDescription[]): Promise<void> {
  if (!core.mongo) return;
  for (const index of indexes) {
    try {
      await core.mongo.db.collection(collection).createIndexes([index]);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const ttl = index.expireAfterSeconds !== undefined;
      core.log[ttl ? 'info' : 'warn']({ collection, index: index.key, err: message }, ttl ? 'TTL index not supported here; expiry is enforced on read' : 'index creation failed');
    }
  }
}

/** Escapes a user string for use inside a RegExp (search by prefix). */
export const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
