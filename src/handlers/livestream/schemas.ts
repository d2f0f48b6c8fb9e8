/** HTTP schemas of the livestream routes, and the gift shapes the PK routes share with them. */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable } from '../common/http.js';

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

export const LivestreamJoin = Type.Object({ stream: Livestream, socket: socketStep('livestream:join') }, { $id: 'LivestreamJoin', additionalProperties: false });
export const LivestreamLeave = Type.Object({ stream: Livestream, socket: socketStep('livestream:leave') }, { $id: 'LivestreamLeave', additionalProperties: false });

/** What every gift request says besides where it goes (same rules as the socket's `gift:send`). */
export const giftFields = {
  giftId: Type.String({ minLength: 1, maxLength: 64 }),
  quantity: Type.Integer({ minimum: 1, maximum: 9999 }),
  idempotencyKey: Type.String({ minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$', description: 'names the request: a retry with the same key returns the first receipt and moves no coins' }),
  message: Type.Optional(Type.String({ maxLength: 200 })),
  isAnonymous: Type.Optional(Type.Boolean()),
};

export const LiveGiftInput = Type.Object(giftFields, { $id: 'LiveGiftInput', additionalProperties: false });

/** The `gift:send` ack. */
export const LiveGiftReceipt = Type.Object(
  {
    giftTransactionId: Type.String(),
    giftId: Type.String(),
    recipientId: Type.String(),
    livestreamId: Nullable(Type.String()),
    quantity: Type.Integer({ minimum: 1 }),
    unitPrice: Type.Integer({ minimum: 0 }),
    totalCost: Type.Integer({ minimum: 0 }),
    creatorEarnings: Type.Integer({ minimum: 0 }),
    platformFee: Type.Integer({ minimum: 0 }),
    balance: Type.Integer({ minimum: 0, description: "the sender's coins after the gift" }),
    createdAt: DateTime,
  },
  { $id: 'LiveGiftReceipt', additionalProperties: false },
);
