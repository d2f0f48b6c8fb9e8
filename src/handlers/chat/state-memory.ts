import type { ConversationState, MessageState } from './model.js';
import type { ChatState, ConversationResult, MemberAction, MembersChange, MessageAction, MessageResult, SendResult } from './state.js';

/**
 * Single-node engine (no REDIS_URL): the same rules as state-redis.ts on plain objects in this
 * process. Each operation runs synchronously, so it is atomic on this node. Nothing is evicted
 * but what MongoDB can restore; nothing is shared with other nodes.
 */
export class MemoryChatState implements ChatState {
  private readonly conversations = new Map<string, ConversationState>();
  private readonly messages = new Map<string, MessageState>();
  private readonly views = new Map<string, Map<string, string>>();

  /** Messages kept for edits and reactions; older ones are evicted (MongoDB restores them). */
  constructor(private readonly maxMessages = 100_000) {}

  private keep(state: MessageState): void {
    this.messages.set(state.base.id, structuredClone(state));
    if (this.messages.size > this.maxMessages) this.messages.delete(this.messages.keys().next().value!);
  }

  async putConversation(state: ConversationState): Promise<ConversationState> {
    if (!this.conversations.has(state.id)) this.conversations.set(state.id, structuredClone(state));
    return structuredClone(this.conversations.get(state.id)!);
  }

  async getConversation(id: string): Promise<ConversationState | undefined> {
    const c = this.conversations.get(id);
    return c ? structuredClone(c) : undefined;
  }

  async isMember(conversationId: string, userId: string): Promise<boolean | undefined> {
    const c = this.conversations.get(conversationId);
    return c ? c.members.some((m) => m.userId === userId) : undefined;
  }

  async putMessage(state: MessageState): Promise<void> {
    if (!this.messages.has(state.base.id)) this.keep(state);
  }

  async hasMessage(conversationId: string, messageId: string): Promise<boolean> {
    return this.messages.get(messageId)?.base.conversationId === conversationId;
  }

  async send(message: MessageState, lastMessageText: string): Promise<SendResult> {
    const { base } = message;
    const c = this.conversations.get(base.conversationId);
    if (!c) return { kind: 'missing' };
    if (!c.members.some((m) => m.userId === base.senderId)) return { kind: 'forbidden' };
    const existing = this.messages.get(base.id);
    if (existing) return { kind: 'duplicate', base: structuredClone(existing.base) };
    this.keep(message);
    for (const m of c.members) {
      if (m.userId === base.senderId) Object.assign(m, { unreadCount: 0, lastReadAt: base.createdAt, lastReadMessageId: base.id });
      else m.unreadCount++;
    }
    c.lastMessage = { id: base.id, text: lastMessageText, senderId: base.senderId, type: base.type, createdAt: base.createdAt };
    c.updatedAt = base.createdAt;
    c.messagesCount++;
    c.version++;
    return { kind: 'sent', conversation: structuredClone(c), message };
  }

  async mutateMessage(conversationId: string, messageId: string, actor: string, action: MessageAction): Promise<MessageResult> {
    const msg = this.messages.get(messageId);
    if (!msg || msg.base.conversationId !== conversationId) return { kind: 'missing' };
    if (action.kind === 'edit' || action.kind === 'delete') {
      if (msg.base.senderId !== actor) return { kind: 'forbidden' };
    } else {
      const c = this.conversations.get(conversationId);
      if (!c) return { kind: 'no_conversation' };
      if (!c.members.some((m) => m.userId === actor)) return { kind: 'forbidden' };
    }
    if (msg.deletedAt !== undefined) return { kind: 'deleted' };
    const now = Date.now();
    let changed = true;
    if (action.kind === 'edit') Object.assign(msg, { text: action.text, editedAt: now });
    else if (action.kind === 'delete') Object.assign(msg, { text: undefined, deletedAt: now });
    else {
      const i = msg.reactions.findIndex((r) => r.userId === actor && r.emoji === action.emoji);
      if (action.kind === 'react' && i < 0) msg.reactions.push({ userId: actor, emoji: action.emoji, createdAt: now });
      else if (action.kind === 'unreact' && i >= 0) msg.reactions.splice(i, 1);
      else changed = false;
    }
    if (changed) msg.version++;
    return { kind: changed ? 'ok' : 'unchanged', message: structuredClone(msg) };
  }

  async updateMember(conversationId: string, actor: string, action: MemberAction): Promise<ConversationResult> {
    const c = this.conversations.get(conversationId);
    if (!c) return { kind: 'missing' };
    const m = c.members.find((x) => x.userId === actor);
    if (!m) return { kind: 'forbidden' };
    const now = Date.now();
    const apply: { [K in MemberAction['kind']]: (a: Extract<MemberAction, { kind: K }>) => void } = {
      read: (a) => Object.assign(m, { unreadCount: 0, lastReadAt: now, lastReadMessageId: a.messageId || undefined }),
      delivered: (a) => Object.assign(m, { lastDeliveredAt: now, lastDeliveredMessageId: a.messageId }),
      mute: (a) => (m.isMuted = a.on),
      archive: (a) => (m.isArchived = a.on),
    };
    (apply[action.kind] as (a: MemberAction) => void)(action);
    c.version++;
    return { kind: 'ok', conversation: structuredClone(c) };
  }

  async changeMembers(conversationId: string, actor: string, change: MembersChange): Promise<ConversationResult> {
    const c = this.conversations.get(conversationId);
    if (!c) return { kind: 'missing' };
    if (c.type !== 'group') return { kind: 'not_group' };
    const selfOnly = change.kind === 'remove' && change.userIds.length === 1 && change.userIds[0] === actor;
    if (!c.members.some((m) => m.userId === actor) || (c.adminId !== actor && !selfOnly)) return { kind: 'forbidden' };
    const now = Date.now();
    if (change.kind === 'add') {
      for (const uid of change.userIds) {
        if (!c.members.some((m) => m.userId === uid)) c.members.push({ userId: uid, joinedAt: now, unreadCount: 0, isMuted: false, isArchived: false });
      }
    } else {
      c.members = c.members.filter((m) => !change.userIds.includes(m.userId));
    }
    if (!c.members.some((m) => m.userId === c.adminId)) c.adminId = [...c.members].sort((a, b) => a.joinedAt - b.joinedAt)[0]?.userId;
    c.updatedAt = now;
    c.version++;
    return { kind: 'ok', conversation: structuredClone(c) };
  }

  async setViewing(userId: string, connectionId: string, conversationId: string | undefined): Promise<void> {
    let views = this.views.get(userId);
    if (conversationId === undefined) {
      views?.delete(connectionId);
      if (views?.size === 0) this.views.delete(userId);
      return;
    }
    if (!views) this.views.set(userId, (views = new Map()));
    views.set(connectionId, conversationId);
  }

  async viewing(userIds: string[]): Promise<Map<string, Set<string>>> {
    return new Map(userIds.map((uid) => [uid, new Set(this.views.get(uid)?.values() ?? [])]));
  }
}
