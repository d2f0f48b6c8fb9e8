/**
 * Chat's schemas, the one schema file of the domain: the socket inputs (send, edit, read...) and
 * the HTTP shapes built on them, the views of model.ts (messageView, conversationView), named for
 * /openapi.json. Schemas only.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { EmittedEvents } from '../../gateway/handler.js';
import { DateTime } from '../../kernel/schemas.js';
import { ATTACHMENT_TYPES, MESSAGE_TYPES } from './model.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });
const Url = Type.String({ minLength: 1, maxLength: 2048 });
const strict = { additionalProperties: false } as const;

export const AttachmentSchema = Type.Object(
  {
    type: Type.Union(ATTACHMENT_TYPES.map((t) => Type.Literal(t))),
    url: Url,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    size: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 * 1024 * 1024 * 1024, description: 'bytes' })),
    mime: Type.Optional(Type.String({ minLength: 3, maxLength: 255, pattern: '^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$' })),
  },
  strict,
);

export const SendSchema = Type.Object(
  {
    /** The conversation; or `to` for the private conversation with that user (found or created). */
    conversationId: Type.Optional(Id),
    to: Type.Optional(Id),
    /** Client-chosen id: a retried send with the same id gets the same ack and is stored once. */
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    type: Type.Union(MESSAGE_TYPES.map((t) => Type.Literal(t))),
    text: Type.Optional(Type.String({ maxLength: 5000 })),
    mediaUrl: Type.Optional(Url),
    thumbnailUrl: Type.Optional(Url),
    giftId: Type.Optional(Id),
    productId: Type.Optional(Id),
    location: Type.Optional(
      Type.Object(
        {
          latitude: Type.Number({ minimum: -90, maximum: 90 }),
          longitude: Type.Number({ minimum: -180, maximum: 180 }),
          name: Type.Optional(Type.String({ maxLength: 200 })),
        },
        strict,
      ),
    ),
    /** Seed 002: files, images, voice notes sent with the message. */
    attachments: Type.Optional(Type.Array(AttachmentSchema, { maxItems: 10 })),
    replyTo: Type.Optional(Id),
  },
  strict,
);
export type SendInput = Static<typeof SendSchema>;

export const MessageRefSchema = Type.Object({ conversationId: Id, messageId: Id }, strict);
export const EditSchema = Type.Object({ conversationId: Id, messageId: Id, text: Type.String({ minLength: 1, maxLength: 5000 }) }, strict);
export const ReactionSchema = Type.Object(
  { conversationId: Id, messageId: Id, emoji: Type.String({ minLength: 1, maxLength: 32, pattern: '^[^|]+$' }) },
  strict,
);
export const HistorySchema = Type.Object(
  { conversationId: Id, before: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) },
  strict,
);
export const ConversationRefSchema = Type.Object({ conversationId: Id }, strict);
/** An object may name the last message read; the seed's bare id is rewritten by src/handlers/compat/aliases.ts. */
export const ReadSchema = Type.Object({ conversationId: Id, messageId: Type.Optional(Id) }, strict);
export const DeliveredSchema = Type.Object({ conversationId: Id, messageId: Id }, strict);
export const TypingSchema = Type.Object({ conversationId: Id, isTyping: Type.Optional(Type.Boolean()) }, strict);
export const FlagSchema = Type.Object({ conversationId: Id, on: Type.Boolean() }, strict);
export const ViewSchema = Type.Object({ conversationId: Type.Union([Id, Type.Null()]) }, strict);
export const CreateSchema = Type.Union([
  Type.Object({ type: Type.Literal('private'), userId: Id }, strict),
  Type.Object(
    {
      type: Type.Literal('group'),
      participants: Type.Array(Id, { minItems: 1, maxItems: 500, uniqueItems: true }),
      groupName: Type.String({ minLength: 1, maxLength: 100 }),
      groupAvatar: Type.Optional(Url),
      clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    },
    strict,
  ),
]);
export type CreateInput = Static<typeof CreateSchema>;
export const MembersSchema = Type.Object({ conversationId: Id, userIds: Type.Array(Id, { minItems: 1, maxItems: 100, uniqueItems: true }) }, strict);
export const ListSchema = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), before: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })) },
  strict,
);

// HTTP shapes (were api.ts).
const MessageTypeSchema = Type.Union(MESSAGE_TYPES.map((t) => Type.Literal(t)));

const LocationSchema = Type.Object({ latitude: Type.Number(), longitude: Type.Number(), name: Type.Optional(Type.String()) }, strict);

export const MessageSchema = Type.Object(
  {
    id: Type.String(),
    conversationId: Type.String(),
    senderId: Type.String(),
    type: MessageTypeSchema,
    text: Type.Optional(Type.String({ description: 'absent once the message is deleted' })),
    mediaUrl: Type.Optional(Type.String()),
    thumbnailUrl: Type.Optional(Type.String()),
    giftId: Type.Optional(Type.String()),
    productId: Type.Optional(Type.String()),
    location: Type.Optional(LocationSchema),
    attachments: Type.Optional(Type.Array(AttachmentSchema)),
    call: Type.Optional(
      Type.Object(
        {
          callId: Type.String(),
          media: Type.Union([Type.Literal('audio'), Type.Literal('video')]),
          endReason: Type.String({ description: 'as call:ended gives it' }),
          durationMs: Type.Integer({ minimum: 0 }),
        },
        { ...strict, description: 'on a `call` message (posted by the server when a call ends)' },
      ),
    ),
    replyTo: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String()),
    reactions: Type.Array(Type.Object({ userId: Type.String(), emoji: Type.String(), createdAt: DateTime }, strict)),
    createdAt: DateTime,
    editedAt: Type.Optional(DateTime),
    deletedAt: Type.Optional(DateTime),
    isDeleted: Type.Boolean(),
    version: Type.Integer({ minimum: 1 }),
  },
  { $id: 'ChatMessage', ...strict },
);
export type MessageBody = Static<typeof MessageSchema>;

export const ConversationSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.Union([Type.Literal('private'), Type.Literal('group')]),
    participants: Type.Array(Type.String()),
    groupName: Type.Optional(Type.String()),
    groupAvatar: Type.Optional(Type.String()),
    adminId: Type.Optional(Type.String()),
    lastMessage: Type.Optional(
      Type.Object({ id: Type.String(), text: Type.String(), senderId: Type.String(), type: MessageTypeSchema, createdAt: DateTime }, strict),
    ),
    messagesCount: Type.Integer({ minimum: 0 }),
    unreadCount: Type.Integer({ minimum: 0, description: "the caller's unread count" }),
    isMuted: Type.Boolean(),
    isArchived: Type.Boolean(),
    receipts: Type.Array(
      Type.Object(
        {
          userId: Type.String(),
          lastReadAt: Type.Optional(DateTime),
          lastReadMessageId: Type.Optional(Type.String()),
          lastDeliveredAt: Type.Optional(DateTime),
          lastDeliveredMessageId: Type.Optional(Type.String()),
        },
        strict,
      ),
    ),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Conversation', ...strict },
);
export type ConversationBody = Static<typeof ConversationSchema>;

/** The socket's `message:send` payload, as a named body. */
export const SendBody = Type.Object(SendSchema.properties, { $id: 'SendMessageInput', ...strict });

export const SendAckSchema = Type.Object(
  { id: Type.String(), conversationId: Type.String(), clientId: Type.Optional(Type.String()), createdAt: DateTime },
  { $id: 'MessageSendAck', ...strict },
);

/** `conversation:create`'s payload as a named body (private: find or create; group: create). */
export const CreateConversationBody = Type.Union(CreateSchema.anyOf, { $id: 'CreateConversationInput' });

/** model.ts's views have exactly these shapes (the contract tests check the frames against them). */
export const asConversation = (view: Record<string, unknown>): ConversationBody => view as ConversationBody;
export const asMessage = (view: Record<string, unknown>): MessageBody => view as MessageBody;

// Acks of the socket events.
export const ConversationListAck = Type.Object({ conversations: Type.Array(ConversationSchema) }, { $id: 'ConversationList', ...strict });
export const ParticipantsRemovedAck = Type.Object(
  { conversationId: Type.String(), participants: Type.Array(Type.String()), adminId: Type.Optional(Type.String()) },
  strict,
);
export const ViewAck = Type.Object({ conversationId: Type.Union([Type.String(), Type.Null()]) }, strict);
export const DeliveredAck = Type.Object({ conversationId: Type.String(), messageId: Type.String() }, strict);
export const HistoryAck = Type.Object(
  { messages: Type.Array(MessageSchema, { description: 'newest first' }), hasMore: Type.Boolean() },
  { $id: 'MessageHistory', ...strict },
);
export const TypingAck = Type.Object({ sent: Type.Boolean({ description: 'false: a typing event went out less than a second ago (throttled)' }) }, strict);

const Receipt = Type.Object({ conversationId: Type.String(), userId: Type.String(), messageId: Type.String(), sentAt: DateTime }, strict);

export const CHAT_EVENTS: EmittedEvents = {
  'message:new': { schema: MessageSchema, to: 'user', description: 'A new message in one of your conversations (every member, sender included).' },
  'message:update': {
    schema: Type.Object(
      {
        action: Type.Union([Type.Literal('edit'), Type.Literal('delete'), Type.Literal('react'), Type.Literal('unreact')]),
        userId: Type.String({ description: 'who changed it' }),
        message: MessageSchema,
      },
      strict,
    ),
    to: 'user',
    description: 'A message was edited, deleted or (un)reacted to: its whole new state, to every member.',
  },
  'message:read': { schema: Receipt, to: 'user', description: 'Another member read up to this message (the other members get it).' },
  'message:delivered': { schema: Receipt, to: 'user', description: "This message reached another member's device (the other members get it)." },
  typing: {
    schema: Type.Object({ conversationId: Type.String(), userId: Type.String(), isTyping: Type.Boolean() }, strict),
    to: 'user',
    description: 'Another member started or stopped typing (at most once a second per device and conversation).',
  },
  'conversation:update': {
    schema: ConversationSchema,
    to: 'user',
    description: 'A conversation changed as you see it (your unread count, mute, archive; members, name).',
  },
  'conversation:removed': {
    schema: Type.Object({ conversationId: Type.String() }, strict),
    to: 'user',
    description: 'You were removed from a group conversation.',
  },
};
