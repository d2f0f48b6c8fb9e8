/**
 * Request bodies of the server API. Event names follow the socket rule (src/gateway/codecs/native.ts);
 * `sys:` rooms are the cluster's own and cannot be published to.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_NAME, MAX_EVENT_NAME } from '../gateway/codecs/native.js';

export const EventName = Type.String({ minLength: 1, maxLength: MAX_EVENT_NAME, pattern: EVENT_NAME.source });
export const RoomName = Type.String({ minLength: 1, maxLength: 200, pattern: '^(?!sys:)[A-Za-z0-9_:.@-]+$' });
export const UserId = Type.String({ minLength: 1, maxLength: 128 });
const Data = Type.Optional(Type.Unknown());

export const PublishUser = Type.Object({ userId: UserId, event: EventName, data: Data }, { additionalProperties: false });
export const PublishUsers = Type.Object({ userIds: Type.Array(UserId, { minItems: 1, maxItems: 1000 }), event: EventName, data: Data }, { additionalProperties: false });
export const PublishRoom = Type.Object({ room: RoomName, event: EventName, data: Data }, { additionalProperties: false });
export const PublishAll = Type.Object({ event: EventName, data: Data }, { additionalProperties: false });

export const BatchItem = Type.Union([
  Type.Object({ to: Type.Literal('user'), userId: UserId, event: EventName, data: Data }, { additionalProperties: false }),
  Type.Object({ to: Type.Literal('users'), userIds: Type.Array(UserId, { minItems: 1, maxItems: 1000 }), event: EventName, data: Data }, { additionalProperties: false }),
  Type.Object({ to: Type.Literal('room'), room: RoomName, event: EventName, data: Data }, { additionalProperties: false }),
  Type.Object({ to: Type.Literal('all'), event: EventName, data: Data }, { additionalProperties: false }),
]);
export const PublishBatch = Type.Object({ publishes: Type.Array(BatchItem, { minItems: 1 }) }, { additionalProperties: false });

export const Membership = Type.Object({ userIds: Type.Array(UserId, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false });
export const NoBody = Type.Object({});
export const Disconnect = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false });

export type BatchItem = Static<typeof BatchItem>;
