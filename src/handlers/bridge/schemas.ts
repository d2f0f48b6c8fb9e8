/**
 * Request bodies of the server API. Event names follow the socket rule (src/gateway/codecs/native.ts);
 * `sys:` rooms are the cluster's own and cannot be published to.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_NAME, MAX_EVENT_NAME } from '../../gateway/codecs/native.js';

export const EventName = Type.String({ minLength: 1, maxLength: MAX_EVENT_NAME, pattern: EVENT_NAME.source });
export const RoomName = Type.String({ minLength: 1, maxLength: 200, pattern: '^(?!sys:)[A-Za-z0-9_:.@-]+$' });
export const UserId = Type.String({ minLength: 1, maxLength: 128 });
const Data = Type.Optional(Type.Unknown());

export const PublishUser = Type.Object({ userId: UserId, event: EventName, data: Data }, { $id: 'ServerPublishToUser', additionalProperties: false });
export const PublishUsers = Type.Object(
  { userIds: Type.Array(UserId, { minItems: 1, maxItems: 1000 }), event: EventName, data: Data },
  { $id: 'ServerPublishToUsers', additionalProperties: false },
);
export const PublishRoom = Type.Object({ room: RoomName, event: EventName, data: Data }, { $id: 'ServerPublishToRoom', additionalProperties: false });
export const PublishAll = Type.Object({ event: EventName, data: Data }, { $id: 'ServerPublishToAll', additionalProperties: false });

export const BatchItem = Type.Union([
  Type.Object({ to: Type.Literal('user'), userId: UserId, event: EventName, data: Data }, { additionalProperties: false }),
  Type.Object(
    { to: Type.Literal('users'), userIds: Type.Array(UserId, { minItems: 1, maxItems: 1000 }), event: EventName, data: Data },
    { additionalProperties: false },
  ),
  Type.Object({ to: Type.Literal('room'), room: RoomName, event: EventName, data: Data }, { additionalProperties: false }),
  Type.Object({ to: Type.Literal('all'), event: EventName, data: Data }, { additionalProperties: false }),
]);
export const PublishBatch = Type.Object({ publishes: Type.Array(BatchItem, { minItems: 1 }) }, { $id: 'ServerPublishBatch', additionalProperties: false });

const Count = Type.Integer({ minimum: 0 });
export const PublishResult = Type.Object(
  {
    published: Type.Array(Type.Object({ room: Type.String(), seq: Type.Integer(), nodes: Count }, { additionalProperties: false })),
    nodes: Type.Integer({ minimum: 0, description: 'nodes that took the event, summed over its rooms (0: nobody connected)' }),
  },
  { $id: 'ServerPublishResult', additionalProperties: false },
);
export const PublishBatchResult = Type.Object(
  { results: Type.Array(PublishResult), nodes: Count },
  { $id: 'ServerPublishBatchResult', additionalProperties: false },
);

const ClusterFields = {
  perNode: Type.Array(Type.Object({ nodeId: Type.String(), count: Count }, { additionalProperties: false })),
  answered: Type.Integer({ minimum: 0, description: 'nodes that answered in time' }),
  expected: Type.Integer({ minimum: 0, description: 'nodes the command reached' }),
  complete: Type.Boolean({ description: 'every node answered (and applied the command)' }),
};
export const MembershipResult = Type.Object(
  { room: Type.String(), op: Type.Union([Type.Literal('join'), Type.Literal('leave')]), connections: Count, ...ClusterFields },
  { $id: 'ServerMembershipResult', additionalProperties: false },
);
export const DisconnectResult = Type.Object(
  { userId: Type.String(), closed: Count, ...ClusterFields },
  { $id: 'ServerDisconnectResult', additionalProperties: false },
);
export const PresenceResult = Type.Object(
  { userId: Type.String(), online: Type.Boolean(), connections: Count, ...ClusterFields },
  { $id: 'ServerPresenceResult', additionalProperties: false },
);
export const OccupancyResult = Type.Object(
  { room: Type.String(), members: Count, ...ClusterFields },
  { $id: 'ServerOccupancyResult', additionalProperties: false },
);

export const Membership = Type.Object(
  { userIds: Type.Array(UserId, { minItems: 1, maxItems: 1000 }) },
  { $id: 'ServerMembership', additionalProperties: false },
);
export const Disconnect = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 100 })) }, { $id: 'ServerDisconnect', additionalProperties: false });

export type BatchItem = Static<typeof BatchItem>;
