/**
 * Chat over HTTP (`/api/messaging/*`, seed 001): the same ChatService calls the socket handlers
 * make, so a send is as idempotent (clientId), checked (participants only: 403) and published
 * (`message:new`, `conversation:update` to every participant's devices) as `message:send`.
 */
import { Type } from '@sinclair/typebox';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { AppError } from '../../kernel/errors.js';
import { Id, IdParams } from '../../kernel/schemas.js';
import { conversationView } from './model.js';
import { ConversationSchema, CreateConversationBody, MessageSchema, SendAckSchema, SendBody, asConversation, asMessage } from './schemas.js';
import type { ChatService } from './service.js';

/** The views of model.ts have exactly these shapes (schemathesis checks every response against them). */

const tags = ['messaging'];
const conversationLinks = {
  GetConversation: { operationId: 'getConversation', parameters: { id: '$response.body#/id' } },
  ListMessages: { operationId: 'listConversationMessages', parameters: { id: '$response.body#/id' } },
  MarkRead: { operationId: 'markConversationRead', parameters: { id: '$response.body#/id' } },
};

export function chatRoutes(chat: ChatService): RouteDef[] {
  return [
    defineRoute(
      {
        method: 'post',
        path: '/api/messaging/send',
        operationId: 'sendMessage',
        tags,
        auth: 'user',
        body: SendBody,
        response: SendAckSchema,
        status: 201,
        summary: 'Send a message to a conversation, or to a user (`to`: their private conversation, created on first use)',
        description:
          "Same as the socket event `message:send`: a retry with the same clientId gets the same ack and stores nothing twice; every participant's devices receive `message:new` and `conversation:update`.",
        errors: ['not_found', 'forbidden', 'conflict'],
        links: {
          GetConversation: { operationId: 'getConversation', parameters: { id: '$response.body#/conversationId' } },
          DeleteMessage: { operationId: 'deleteMessage', parameters: { id: '$response.body#/id', conversationId: '$response.body#/conversationId' } },
        },
      },
      async ({ principal, body }) => chat.send(principal.userId, body),
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/messaging/conversations',
        operationId: 'listConversations',
        summary: "The caller's conversations, most recently active first",
        tags,
        auth: 'user',
        query: Type.Object(PageQuery),
        response: Paginated(ConversationSchema, 'ConversationPage'),
      },
      async ({ principal, query }) => {
        const w = pageWindow(query);
        const { items, total } = await chat.page(principal.userId, w);
        return pageOf(items.map(asConversation), total, w);
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/messaging/conversations',
        operationId: 'createConversation',
        tags,
        auth: 'user',
        body: CreateConversationBody,
        response: ConversationSchema,
        status: 201,
        summary: 'Open the private conversation with a user (found or created) or create a group (same as `conversation:create`)',
        errors: ['forbidden'],
        links: conversationLinks,
      },
      async ({ principal, body }) => {
        const conversation = body.type === 'private' ? await chat.openPrivate(principal.userId, body.userId) : await chat.createGroup(principal.userId, body);
        return asConversation(conversationView(conversation, principal.userId));
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/messaging/conversations/:id',
        operationId: 'getConversation',
        summary: 'One conversation (participants only)',
        tags,
        auth: 'user',
        params: IdParams,
        response: ConversationSchema,
        errors: ['not_found', 'forbidden'],
      },
      async ({ principal, params }) => asConversation(conversationView(await chat.get(principal.userId, params.id), principal.userId)),
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/messaging/conversations/:id/messages',
        operationId: 'listConversationMessages',
        summary: "A conversation's messages, newest first (participants only)",
        tags,
        auth: 'user',
        params: IdParams,
        query: Type.Object(PageQuery),
        response: Paginated(MessageSchema, 'ChatMessagePage'),
        errors: ['not_found', 'forbidden'],
      },
      async ({ principal, params, query }) => {
        const w = pageWindow(query);
        const { items, total } = await chat.messagesPage(principal.userId, params.id, w);
        return pageOf(items.map(asMessage), total, w);
      },
    ),
    defineRoute(
      {
        method: 'put',
        path: '/api/messaging/conversations/:id/read',
        operationId: 'markConversationRead',
        tags,
        auth: 'user',
        params: IdParams,
        query: Type.Object({ messageId: Type.Optional(Type.String({ ...Id, description: 'the last message read (default: everything)' })) }),
        response: ConversationSchema,
        errors: ['not_found', 'forbidden'],
        summary: "Mark a conversation read: the caller's unread count drops to 0 and the other participants get `message:read` (same as `conversation:read`)",
      },
      async ({ principal, params, query }) =>
        asConversation(
          conversationView(await chat.updateMember(principal.userId, params.id, { kind: 'read', messageId: query.messageId ?? '' }), principal.userId),
        ),
    ),
    defineRoute(
      {
        method: 'del',
        path: '/api/messaging/messages/:id',
        operationId: 'deleteMessage',
        tags,
        auth: 'user',
        params: IdParams,
        query: Type.Object({
          conversationId: Type.Optional(
            Type.String({
              ...Id,
              description: "the message's conversation; without it the message is looked up in MongoDB (a message sent a moment ago may not be there yet)",
            }),
          ),
        }),
        response: MessageSchema,
        errors: ['not_found', 'forbidden', 'conflict'],
        summary: 'Delete one of your messages (same as `message:delete`; participants get `message:update`)',
      },
      async ({ principal, params, query }) => {
        const conversationId = query.conversationId ?? (await chat.conversationOf(params.id));
        if (!conversationId) throw new AppError('not_found', 'message not found');
        return asMessage(await chat.mutateMessage(principal.userId, conversationId, params.id, { kind: 'delete' }));
      },
    ),
  ];
}
