/** HTTP schemas of the livestream routes, and the gift shapes the PK routes share with them. */
import { Type, type Static } from '@sinclair/typebox';
import type { EmittedEvents } from '../../gateway/handler.js';
import { Nullable } from '../../kernel/schemas.js';
import { GiftSend } from '../gifts/schemas.js';

export const StreamId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const StreamParams = Type.Object({ streamId: StreamId });
const Ms = Type.Integer({ minimum: 0, description: 'milliseconds since the Unix epoch (as in the socket payloads)' });

export const Livestream = Type.Object(
  {
    streamId: Type.String(),
    hostId: Type.String(),
    title: Type.String(),
    status: Type.Union([Type.Literal('created'), Type.Literal('live'), Type.Literal('ended')], { description: 'created (not on air yet) -> live -> ended' }),
    createdAt: Ms,
    startedAt: Nullable(Ms),
    endedAt: Nullable(Ms),
    cohosts: Type.Array(Type.String(), { description: 'accepted co-hosts' }),
    viewers: Type.Integer({ minimum: 0, description: 'socket connections watching now, exact over all nodes (0 unless live); HTTP join does not count' }),
    room: Type.String({ description: 'the socket room of the stream events, live:<streamId>' }),
  },
  { $id: 'Livestream', additionalProperties: false },
);
export type LivestreamBody = Static<typeof Livestream>;

export const LivestreamCreate = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    streamId: Type.Optional(StreamId),
  },
  { $id: 'LivestreamCreate', additionalProperties: false },
);

/** The socket message a client sends to become (or stop being) a counted viewer. */
const socketStep = (event: string) =>
  Type.Object(
    { event: Type.Literal(event), data: Type.Object({ streamId: Type.String() }, { additionalProperties: false }) },
    { additionalProperties: false, description: `send this on the socket: the viewer count and the stream's events belong to socket connections` },
  );

export const LivestreamJoin = Type.Object(
  { stream: Livestream, socket: socketStep('livestream:join') },
  { $id: 'LivestreamJoin', additionalProperties: false },
);
export const LivestreamLeave = Type.Object(
  { stream: Livestream, socket: socketStep('livestream:leave') },
  { $id: 'LivestreamLeave', additionalProperties: false },
);

/** What every gift request says besides where it goes: the fields of `gift:send` (GiftSend), same rules. */
export const giftFields = {
  giftId: GiftSend.properties.giftId,
  quantity: GiftSend.properties.quantity,
  idempotencyKey: GiftSend.properties.idempotencyKey,
  message: GiftSend.properties.message,
  isAnonymous: GiftSend.properties.isAnonymous,
};

export const LiveGiftInput = Type.Object(giftFields, { $id: 'LiveGiftInput', additionalProperties: false });

const StreamIdOut = Type.String();
const strictObject = { additionalProperties: false } as const;
/** Ack schemas of the livestream socket events (AsyncAPI, client types). */
export const LIVESTREAM_ACKS = {
  'livestream:start': Type.Object({ streamId: StreamIdOut, room: Type.String(), startedAt: Ms }, strictObject),
  'livestream:end': Type.Object({ streamId: StreamIdOut, seq: Type.Integer() }, strictObject),
  'livestream:join': Type.Object(
    {
      streamId: StreamIdOut,
      title: Type.String(),
      hostId: Type.String(),
      cohosts: Type.Array(Type.String()),
      viewers: Type.Integer({ minimum: 0 }),
      resume: Type.Optional(Type.Object({ gap: Type.Boolean(), latestSeq: Type.Integer() }, strictObject)),
    },
    strictObject,
  ),
  'livestream:leave': Type.Object({ streamId: StreamIdOut }, strictObject),
  'livestream:chat': Type.Object({ streamId: StreamIdOut, seq: Type.Integer() }, strictObject),
};

/** The room events of a stream (room `live:<streamId>`). */
export const LIVESTREAM_EVENTS: EmittedEvents = {
  'livestream:chat': {
    schema: Type.Object({ streamId: StreamIdOut, userId: Type.String(), text: Type.String(), sentAt: Ms }, strictObject),
    to: 'room',
    description: 'A chat line in the stream, to every member (sender included).',
  },
  'livestream:viewers': {
    schema: Type.Object({ streamId: StreamIdOut, viewers: Type.Integer({ minimum: 0 }) }, strictObject),
    to: 'room',
    description: 'The exact viewer count, at most once per second per stream, whenever it changed.',
  },
  'livestream:ended': {
    schema: Type.Object({ streamId: StreamIdOut, endedBy: Type.String() }, strictObject),
    to: 'room',
    description: 'The host ended the stream; send livestream:leave.',
  },
};
