/**
 * The wire atoms every domain uses: id, key and time schemas, and the small helpers around them
 * (docs/PROTOCOL.md, "Wire convention").
 */
import { createHash, randomUUID } from 'node:crypto';
import { Type, type TSchema, type TUnion, type TNull } from '@sinclair/typebox';
import { AppError } from './errors.js';
import type { Principal } from './session.js';

/** Ids are strings: user ids come from token `sub` claims, documents get UUIDs. */
export const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' });
export const IdParams = Type.Object({ id: Id });
/** A user id as tokens carry it (`sub`: 1-128 characters, any of them; src/gateway/auth.ts). */
export const UserId = Type.String({ minLength: 1, maxLength: 128, description: "a user id (the token's sub)" });
/**
 * THE idempotency key of every request that moves coins or money (gift send, transfer, purchase,
 * top-up, checkout, withdrawal, admin credit, live-shopping order), HTTP and socket alike: required,
 * 8-128 of `A-Za-z0-9_.:-`, scoped to the caller. A retry with the same key returns the first
 * outcome. Same rule as WalletService's IDEMPOTENCY_KEY. docs/HTTP.md "Money requests".
 */
export const IdempotencyKey = Type.String({
  minLength: 8,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_.:-]+$',
  description: 'required; names the request per caller: a retry with the same key returns the first outcome and moves nothing twice',
});

/**
 * The deterministic `_id` of the operation an idempotency key names: `<prefix>_` + 32 hex of
 * sha256(actor, kind, key). Inserting it is the de-duplication: `_id` is unique on every
 * MongoDB-wire server, with no secondary index needed.
 */
export const idempotentId = (prefix: string, actorId: string, kind: string, idempotencyKey: string): string =>
  `${prefix}_${createHash('sha256').update(`${actorId}\u0000${kind}\u0000${idempotencyKey}`).digest('hex').slice(0, 32)}`;

/** Ids of documents livegate creates (UUID v4). */
export const DocId = Type.String({ format: 'uuid' });
export const DocIdParams = Type.Object({ id: DocId });
/** Ids of catalogue documents: a UUID when made over the API, a readable id when seeded (`level-1`). */
export const CatalogId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$', description: 'a UUID, or a seeded id such as level-1' });
export const CatalogIdParams = Type.Object({ id: CatalogId });

export const Nullable = <T extends TSchema>(schema: T): TUnion<[T, TNull]> => Type.Union([schema, Type.Null()]);

/** 403 unless the caller owns the resource or is an admin. */
export function assertOwner(ownerId: string, principal: Principal, what: string): void {
  if (ownerId !== principal.userId && principal.role !== 'admin') throw new AppError('forbidden', `${what} belongs to another user`);
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} not found`);
export const DateTime = Type.String({ format: 'date-time' });

export const newId = (): string => randomUUID();
export const iso = (date: Date): string => date.toISOString();
export const isoOrNull = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);
/** An instant kept as epoch milliseconds inside the node, as it goes on the wire. */
export const isoMs = (ms: number): string => new Date(ms).toISOString();
export const isoMsOrNull = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : isoMs(ms));

/**
 * A room's keyed state as the join and resume acks carry it: the latest frame of each key (viewer
 * count, PK score, gift totals, top supporters, settings), exactly as the event would deliver it.
 */
export const RoomStateList = Type.Array(
  Type.Object(
    {
      key: Type.String({ description: 'viewers, pk:<battleId>, gift_totals, top_supporters, settings' }),
      event: Type.String({ description: 'the event this frame goes out as' }),
      data: Type.Unknown({ description: "the event's payload" }),
    },
    { additionalProperties: false },
  ),
  { description: "the room's current keyed state: handle each entry as the event it names" },
);
