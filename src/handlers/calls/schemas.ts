/** TypeBox schemas of the call events, their acks and the HTTP bodies. */
import { Type, type Static } from '@sinclair/typebox';
import type { EmittedEvents } from '../../gateway/handler.js';
import { PageQuery, Paginated } from '../../gateway/http/pagination.js';
import { DateTime } from '../../kernel/schemas.js';
import { END_REASONS, MEDIA } from './model.js';

const strict = { additionalProperties: false } as const;
const Id = Type.String({ minLength: 1, maxLength: 128 });
const ConnectionId = Type.String({ minLength: 1, maxLength: 128, description: 'a connection (device) id, as session:ready gives it' });
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const InviteSchema = Type.Object({ conversationId: Id, media: literals(MEDIA) }, strict);
export const CallRefSchema = Type.Object({ callId: Id }, strict);

export const InviteAck = Type.Object({ callId: Type.String() }, strict);

const Sdp = Type.String({ minLength: 1, description: 'the session description (RTCSessionDescription.sdp)' });
const Description = Type.Object({ type: Type.Union([Type.Literal('offer'), Type.Literal('answer')]), sdp: Sdp }, strict);
/** RTCIceCandidateInit; `candidate: ""` is the end of candidates. */
const Candidate = Type.Object(
  {
    candidate: Type.String({ maxLength: 4096 }),
    sdpMid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 1024 }), Type.Null()])),
    usernameFragment: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
  },
  strict,
);
/** Why a peer renegotiates (what changed in its media), with the new offer or answer when the change needs one. */
export const RENEGOTIATE_REASONS = ['mute', 'unmute', 'camera_on', 'camera_off', 'screen_share_start', 'screen_share_stop', 'ice_restart'] as const;
const Renegotiate = Type.Object({ reason: literals(RENEGOTIATE_REASONS), description: Type.Optional(Description) }, strict);

const signal = <K extends string, D extends ReturnType<typeof Type.Object>>(kind: K, data: D) =>
  Type.Object({ callId: Id, kind: Type.Literal(kind), data, toConnectionId: Type.Optional(ConnectionId) }, strict);

/** `call:signal`: one schema per kind (offer/answer carry a description, candidate an ICE candidate, renegotiate a reason). */
export const SignalSchema = Type.Union([
  signal('offer', Description),
  signal('answer', Description),
  signal('candidate', Candidate),
  signal('renegotiate', Renegotiate),
]);
export type SignalInput = Static<typeof SignalSchema>;
export const SignalAck = Type.Object({ callId: Type.String(), delivered: Type.Integer({ minimum: 0, description: 'devices it was relayed to' }) }, strict);

const PartyView = Type.Object(
  {
    userId: Type.String(),
    status: literals(['ringing', 'joined', 'left', 'declined', 'busy', 'missed'] as const),
    connectionId: Type.Optional(Type.String({ description: 'the device in the call, while joined' })),
    joinedAt: Type.Optional(DateTime),
    leftAt: Type.Optional(DateTime),
  },
  strict,
);

export const CallSchema = Type.Object(
  {
    callId: Type.String(),
    conversationId: Type.String(),
    media: literals(MEDIA),
    callerId: Type.String(),
    status: literals(['ringing', 'active', 'ended'] as const),
    parties: Type.Array(PartyView),
    createdAt: DateTime,
    ringEndsAt: DateTime,
    answeredAt: Type.Optional(DateTime),
    endedAt: Type.Optional(DateTime),
    endReason: Type.Optional(literals(END_REASONS)),
    durationMs: Type.Integer({ minimum: 0, description: 'from the first answer to the end; 0 if never answered' }),
  },
  { $id: 'Call', additionalProperties: false },
);

const IceServer = Type.Object(
  { urls: Type.Array(Type.String()), username: Type.Optional(Type.String()), credential: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export const TurnCredentialsSchema = Type.Object(
  {
    username: Type.String({
      description:
        '`<expiry>:<userId>` (coturn REST API; expiry is the Unix time in seconds coturn checks, the instant `expiresAt` gives); empty without a TURN server configured',
    }),
    credential: Type.String({ description: 'base64(HMAC-SHA1(TURN_SECRET, username))' }),
    ttlMs: Type.Integer({ minimum: 0 }),
    expiresAt: DateTime,
    iceServers: Type.Array(IceServer, { description: 'for new RTCPeerConnection({iceServers})' }),
  },
  { $id: 'TurnCredentials', additionalProperties: false },
);

export const HistoryQuery = Type.Object({ ...PageQuery, conversationId: Type.Optional(Id) }, strict);
export const CallPage = Paginated(CallSchema, 'CallPage');

const EndReason = literals(END_REASONS);

export const CALL_EVENTS: EmittedEvents = {
  'call:ringing': {
    schema: Type.Object(
      {
        callId: Type.String(),
        conversationId: Type.String(),
        callerId: Type.String(),
        callerConnectionId: Type.String({ description: "the caller's device in the call" }),
        media: literals(MEDIA),
        participants: Type.Array(Type.String(), { description: 'every party, the caller first' }),
        ringEndsAt: DateTime,
        sentAt: DateTime,
      },
      strict,
    ),
    to: 'user',
    description: "A call rings: every device of each callee (user room), and the caller's device in the call.",
  },
  'call:accepted': {
    schema: Type.Object(
      {
        callId: Type.String(),
        userId: Type.String({ description: 'who answered (or re-attached a device after a reconnect)' }),
        connectionId: Type.String({ description: 'the device it was answered on: the others stop ringing' }),
        sentAt: DateTime,
      },
      strict,
    ),
    to: 'user',
    description: 'A party answered on one device: to every device of the parties still ringing or joined.',
  },
  'call:left': {
    schema: Type.Object({ callId: Type.String(), userId: Type.String(), reason: EndReason, sentAt: DateTime }, strict),
    to: 'user',
    description: 'In a group call that goes on: a party left (hung up, declined, disconnected past the grace period).',
  },
  'call:ended': {
    schema: Type.Object(
      {
        callId: Type.String(),
        conversationId: Type.String(),
        reason: EndReason,
        durationMs: Type.Integer({ minimum: 0, description: 'from the first answer to the end; 0 if never answered' }),
        sentAt: DateTime,
      },
      strict,
    ),
    to: 'user',
    description: 'The call is over for you (ended, or you left it): to every device of each party still ringing or joined.',
  },
  'call:signal': {
    schema: Type.Union(
      (['offer', 'answer', 'candidate', 'renegotiate'] as const).map((kind, i) =>
        Type.Object(
          {
            callId: Type.String(),
            kind: Type.Literal(kind),
            data: SignalSchema.anyOf[i]!.properties.data,
            fromUserId: Type.String(),
            fromConnectionId: Type.String({ description: 'answer to this device with toConnectionId' }),
            sentAt: DateTime,
          },
          strict,
        ),
      ),
    ),
    to: 'connection',
    description: 'SDP or ICE from another device in the call: only to the devices in the call (room call:<callId>:<connectionId>).',
  },
};
