/**
 * Chat's HTTP shapes: the views of model.ts (messageView, conversationView) and the socket
 * inputs of schemas.ts, named for /openapi.json. Schemas only.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { EmittedEvents } from '../../gateway/handler.js';
import { DateTime } from '../../kernel/schemas.js';
import { MESSAGE_TYPES } from './model.js';
import { CreateSchema, SendSchema } from './schemas.js';

const strict = { additionalProperties: false } as const;
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
      Type.Object({ id: Type.String(), text: Type.String(), senderId: Type.String(), type: MessageTypeSchema, timestamp: DateTime }, strict),
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

/** Ack schemas of the chat socket events (AsyncAPI, client types). */
export const CHAT_ACKS = { 'message:send': SendAckSchema };

export const CHAT_EVENTS: EmittedEvents = {
  'message:new': { schema: MessageSchema, to: 'user', description: 'A new message in one of your conversations (every member, sender included).' },
};
