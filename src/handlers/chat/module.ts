/**
 * Chat: private and group conversations, messages with receipts and reactions, typing, unread
 * counts, mute and archive, history. Every event reaches every device of every participant
 * through their user rooms. HTTP: /api/messaging/* (chat/routes.ts, same service). Participants
 * become presence contacts; `message.offline` goes to the backend for recipients with no device.
 * Events: docs/events/chat.md.
 */
import type { Core, DomainModule, ModuleFactory } from '../../core.js';
import { defineHandler, type HandlerTable } from '../../gateway/handler.js';
import { onlineCheck } from '../../rooms/online.js';
import type { Notifier } from '../notifications/service.js';
import { contactDirectoryFor } from '../presence/contacts.js';
import { conversationView } from './model.js';
import { chatRoutes } from './routes.js';
import * as S from './schemas.js';
import { ChatService } from './service.js';
import { MemoryChatState } from './state-memory.js';
import { RedisChatState } from './state-redis.js';

/** A device's typing events go out at most this often per conversation. */
const TYPING_INTERVAL_MS = 1000;

/** The one ChatService of a node (built in src/modules.ts: the chat module and calls share it). */
export function createChatService(core: Core, notifier: Notifier): ChatService {
  const { config } = core;
  const state = core.redis
    ? new RedisChatState(core.redis, { messageTtlMs: config.chat.messageCacheSec * 1000, conversationTtlMs: config.chat.conversationCacheSec * 1000 })
    : new MemoryChatState();
  return new ChatService({
    state,
    queue: core.queue,
    hub: core.hub,
    documents: core.documents,
    notifier,
    log: core.log.child({ module: 'chat' }),
    contacts: contactDirectoryFor(core),
    online: onlineCheck(core.redis, (userId) => core.sockets.countOf(userId)),
    webhooks: core.webhooks,
  });
}

export const chatModule =
  (chat: ChatService): ModuleFactory =>
  (core): DomainModule => {
    /** connectionId -> conversationId -> last typing event sent (ms). */
    const typingSent = new Map<string, Map<string, number>>();

    const handlers: HandlerTable = {
      'conversation:create': defineHandler(
        S.CreateSchema,
        async (ctx, data) => {
          const conversation =
            data.type === 'private' ? await chat.openPrivate(ctx.session.userId, data.userId) : await chat.createGroup(ctx.session.userId, data);
          return S.asConversation(conversationView(conversation, ctx.session.userId));
        },
        S.ConversationSchema,
      ),
      'conversation:get': defineHandler(
        S.ConversationRefSchema,
        async (ctx, data) => S.asConversation(conversationView(await chat.get(ctx.session.userId, data.conversationId), ctx.session.userId)),
        S.ConversationSchema,
      ),
      'conversation:list': defineHandler(
        S.ListSchema,
        async (ctx, data) => ({ conversations: (await chat.list(ctx.session.userId, data.limit ?? 20, data.before)).map(S.asConversation) }),
        S.ConversationListAck,
      ),
      'conversation:read': defineHandler(
        S.ReadSchema,
        async (ctx, data) => {
          const c = await chat.updateMember(ctx.session.userId, data.conversationId, { kind: 'read', messageId: data.messageId ?? '' });
          return S.asConversation(conversationView(c, ctx.session.userId));
        },
        S.ConversationSchema,
      ),
      'conversation:mute': defineHandler(
        S.FlagSchema,
        async (ctx, data) =>
          S.asConversation(
            conversationView(await chat.updateMember(ctx.session.userId, data.conversationId, { kind: 'mute', on: data.on }), ctx.session.userId),
          ),
        S.ConversationSchema,
      ),
      'conversation:archive': defineHandler(
        S.FlagSchema,
        async (ctx, data) =>
          S.asConversation(
            conversationView(await chat.updateMember(ctx.session.userId, data.conversationId, { kind: 'archive', on: data.on }), ctx.session.userId),
          ),
        S.ConversationSchema,
      ),
      'conversation:participants:add': defineHandler(
        S.MembersSchema,
        async (ctx, data) =>
          S.asConversation(
            conversationView(await chat.changeMembers(ctx.session.userId, data.conversationId, { kind: 'add', userIds: data.userIds }), ctx.session.userId),
          ),
        S.ConversationSchema,
      ),
      'conversation:participants:remove': defineHandler(
        S.MembersSchema,
        async (ctx, data) => {
          const c = await chat.changeMembers(ctx.session.userId, data.conversationId, { kind: 'remove', userIds: data.userIds });
          return { conversationId: c.id, participants: c.members.map((m) => m.userId), ...(c.adminId !== undefined ? { adminId: c.adminId } : {}) };
        },
        S.ParticipantsRemovedAck,
      ),
      'conversation:view': defineHandler(
        S.ViewSchema,
        async (ctx, data) => {
          if (data.conversationId !== null) await chat.get(ctx.session.userId, data.conversationId);
          await chat.setViewing(ctx.session.userId, ctx.session.connectionId, data.conversationId ?? undefined);
          return { conversationId: data.conversationId };
        },
        S.ViewAck,
      ),
      'message:send': defineHandler(S.SendSchema, (ctx, data) => chat.send(ctx.session.userId, data), S.SendAckSchema),
      'message:edit': defineHandler(
        S.EditSchema,
        async (ctx, data) => S.asMessage(await chat.mutateMessage(ctx.session.userId, data.conversationId, data.messageId, { kind: 'edit', text: data.text })),
        S.MessageSchema,
      ),
      'message:delete': defineHandler(
        S.MessageRefSchema,
        async (ctx, data) => S.asMessage(await chat.mutateMessage(ctx.session.userId, data.conversationId, data.messageId, { kind: 'delete' })),
        S.MessageSchema,
      ),
      'message:react': defineHandler(
        S.ReactionSchema,
        async (ctx, data) =>
          S.asMessage(await chat.mutateMessage(ctx.session.userId, data.conversationId, data.messageId, { kind: 'react', emoji: data.emoji })),
        S.MessageSchema,
      ),
      'message:unreact': defineHandler(
        S.ReactionSchema,
        async (ctx, data) =>
          S.asMessage(await chat.mutateMessage(ctx.session.userId, data.conversationId, data.messageId, { kind: 'unreact', emoji: data.emoji })),
        S.MessageSchema,
      ),
      'message:delivered': defineHandler(
        S.DeliveredSchema,
        async (ctx, data) => {
          await chat.updateMember(ctx.session.userId, data.conversationId, { kind: 'delivered', messageId: data.messageId });
          return { conversationId: data.conversationId, messageId: data.messageId };
        },
        S.DeliveredAck,
      ),
      'message:history': defineHandler(
        S.HistorySchema,
        async (ctx, data) => {
          const page = await chat.history(ctx.session.userId, data.conversationId, data.before, data.limit ?? 30);
          return { messages: page.messages.map(S.asMessage), hasMore: page.hasMore };
        },
        S.HistoryAck,
      ),
      typing: defineHandler(
        S.TypingSchema,
        async (ctx, data) => {
          const isTyping = data.isTyping ?? true;
          let sent = typingSent.get(ctx.session.connectionId);
          if (!sent) typingSent.set(ctx.session.connectionId, (sent = new Map()));
          const now = Date.now();
          // "Stopped typing" always goes out; "typing" at most once per interval per conversation.
          if (isTyping && now - (sent.get(data.conversationId) ?? 0) < TYPING_INTERVAL_MS) return { sent: false };
          if (isTyping) sent.set(data.conversationId, now);
          else sent.delete(data.conversationId);
          await chat.typing(ctx.session.userId, data.conversationId, isTyping);
          return { sent: true };
        },
        S.TypingAck,
      ),
    };

    return {
      name: 'chat',
      handlers,
      emits: S.CHAT_EVENTS,
      routes: chatRoutes(chat),
      onDisconnect(session) {
        typingSent.delete(session.connectionId);
        chat.setViewing(session.userId, session.connectionId, undefined).catch((err: unknown) => core.log.warn({ err }, 'chat: clearing view state failed'));
      },
      async start() {
        if (!core.redis) core.log.warn('chat: no REDIS_URL; conversation state is kept in this process only (single node)');
      },
    };
  };
