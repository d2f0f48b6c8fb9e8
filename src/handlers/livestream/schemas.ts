/** HTTP schemas of the livestream routes, and the gift shapes the PK routes share with them. */
import { Type, type Static } from '@sinclair/typebox';
import type { EmittedEvents } from '../../gateway/handler.js';
import { DateTime, Nullable } from '../../kernel/schemas.js';
import { GiftSend } from '../gifts/schemas.js';
import { NOTABLE_JOINS } from './room-rules.js';

export const StreamId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const StreamParams = Type.Object({ livestreamId: StreamId });

export const Livestream = Type.Object(
  {
    livestreamId: Type.String(),
    hostId: Type.String(),
    title: Type.String(),
    status: Type.Union([Type.Literal('created'), Type.Literal('live'), Type.Literal('ended')], { description: 'created (not on air yet) -> live -> ended' }),
    createdAt: DateTime,
    startedAt: Nullable(DateTime),
    endedAt: Nullable(DateTime),
    cohosts: Type.Array(Type.String(), { description: 'accepted co-hosts' }),
    viewers: Type.Integer({ minimum: 0, description: 'socket connections watching now, exact over all nodes (0 unless live); HTTP join does not count' }),
    room: Type.String({ description: 'the socket room of the stream events, live:<livestreamId>' }),
  },
  { $id: 'Livestream', additionalProperties: false },
);
export type LivestreamBody = Static<typeof Livestream>;

export const LivestreamCreate = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    livestreamId: Type.Optional(StreamId),
  },
  { $id: 'LivestreamCreate', additionalProperties: false },
);

/** The socket message a client sends to become (or stop being) a counted viewer. */
const socketStep = (event: string) =>
  Type.Object(
    { event: Type.Literal(event), data: Type.Object({ livestreamId: Type.String() }, { additionalProperties: false }) },
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

const settingsFields = {
  slowModeMs: Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'per-user cooldown between chat lines (ms); 0 turns slow mode off' }),
  notableJoins: Type.Union(
    NOTABLE_JOINS.map((n) => Type.Literal(n)),
    { description: 'who join summaries name: viewers following the host, the top supporters of the stream, or nobody' },
  ),
};

/** `livestream:settings` (socket) and `PATCH /api/livestreams/:livestreamId/settings` (HTTP, without livestreamId). */
export const SettingsInput = Type.Object(
  { livestreamId: StreamId, slowModeMs: Type.Optional(settingsFields.slowModeMs), notableJoins: Type.Optional(settingsFields.notableJoins) },
  { additionalProperties: false },
);
export const SettingsBody = Type.Object(
  { slowModeMs: Type.Optional(settingsFields.slowModeMs), notableJoins: Type.Optional(settingsFields.notableJoins) },
  { $id: 'LivestreamSettingsInput', additionalProperties: false },
);
export const SettingsAck = Type.Object(
  { livestreamId: Type.String(), slowModeMs: Type.Integer({ minimum: 0 }), notableJoins: settingsFields.notableJoins },
  { $id: 'LivestreamSettings', additionalProperties: false },
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

/** The room events of a stream (room `live:<streamId>`). */
export const LIVESTREAM_EVENTS: EmittedEvents = {
  'livestream:chat': {
    schema: Type.Object({ livestreamId: StreamIdOut, userId: Type.String(), text: Type.String(), sentAt: DateTime }, strictObject),
    to: 'room',
    description: 'A chat line in the stream, to every member (sender included).',
  },
  'livestream:viewers': {
    schema: Type.Object({ livestreamId: StreamIdOut, viewers: Type.Integer({ minimum: 0 }) }, strictObject),
    to: 'room',
    description: 'The exact viewer count (keyed room state): at most one frame per ROOM_STATE_INTERVAL_MS per stream cluster-wide, always the latest.',
  },
  'livestream:viewer_joined': {
    schema: Type.Object({ livestreamId: StreamIdOut, userId: Type.String() }, strictObject),
    to: 'room',
    description: 'A viewer joined (rooms under ROOM_JOIN_SUMMARY_THRESHOLD viewers; larger rooms get livestream:presence_summary).',
  },
  'livestream:viewer_left': {
    schema: Type.Object({ livestreamId: StreamIdOut, userId: Type.String() }, strictObject),
    to: 'room',
    description: 'A viewer left (rooms under ROOM_JOIN_SUMMARY_THRESHOLD viewers).',
  },
  'livestream:presence_summary': {
    schema: Type.Object(
      {
        livestreamId: StreamIdOut,
        joined: Type.Integer({ minimum: 0 }),
        left: Type.Integer({ minimum: 0 }),
        notable: Type.Array(
          Type.Object({ userId: Type.String(), reason: Type.Union([Type.Literal('follower'), Type.Literal('top_supporter')]) }, strictObject),
          { description: "the first notable joiners of the period (host's choice: followers or top supporters), at most ROOM_JOIN_SUMMARY_NOTABLE_MAX" },
        ),
      },
      strictObject,
    ),
    to: 'room',
    description:
      'Joins and leaves of a large room (ROOM_JOIN_SUMMARY_THRESHOLD viewers or more) since the last summary, over every node; one per ROOM_JOIN_SUMMARY_INTERVAL_MS.',
  },
  'livestream:settings': {
    schema: Type.Object(
      {
        livestreamId: StreamIdOut,
        slowModeMs: Type.Integer({ minimum: 0 }),
        notableJoins: Type.Union([Type.Literal('followers'), Type.Literal('top_supporters'), Type.Literal('none')]),
      },
      strictObject,
    ),
    to: 'room',
    description: "The stream's settings changed (keyed room state).",
  },
  'livestream:gift_totals': {
    schema: Type.Object({ livestreamId: StreamIdOut, coins: Type.Integer({ minimum: 0 }), gifts: Type.Integer({ minimum: 0 }) }, strictObject),
    to: 'room',
    description: "The stream's exact gift totals (keyed room state, at most one per ROOM_STATE_INTERVAL_MS, always the latest).",
  },
  'livestream:top_supporters': {
    schema: Type.Object(
      { livestreamId: StreamIdOut, entries: Type.Array(Type.Object({ userId: Type.String(), coins: Type.Integer({ minimum: 0 }) }, strictObject)) },
      strictObject,
    ),
    to: 'room',
    description: "The stream's top ROOM_TOP_SUPPORTERS senders by coins (keyed room state).",
  },
  'livestream:ended': {
    schema: Type.Object({ livestreamId: StreamIdOut, endedBy: Type.String() }, strictObject),
    to: 'room',
    description: 'The host ended the stream; send livestream:leave.',
  },
  'livestream:cohost:invited': {
    schema: Type.Object({ livestreamId: StreamIdOut, hostId: Type.String() }, strictObject),
    to: 'user',
    description: 'The host invited you to co-host; answer with livestream:cohost:accept.',
  },
  'livestream:cohost:joined': {
    schema: Type.Object({ livestreamId: StreamIdOut, userId: Type.String() }, strictObject),
    to: 'room',
    description: 'A co-host joined the stream.',
  },
  'livestream:cohost:removed': {
    schema: Type.Object({ livestreamId: StreamIdOut, userId: Type.String() }, strictObject),
    to: 'room',
    description: 'The host removed a co-host: to the stream room, and (over HTTP) to the removed user too.',
  },
};
