import type { Logger } from 'pino';
import type { PageWindow } from '../../gateway/http/pagination.js';
import { AppError } from '../../kernel/errors.js';
import type { WebhookSink } from '../../kernel/webhooks.js';
import type { RoomHub } from '../../rooms/hub.js';
import type { OnlineCheck } from '../../rooms/online.js';
import type { Documents } from '../../store/documents.js';
import { DomainIo, stripId } from '../../store/domain-io.js';
import type { WriteQueue } from '../../store/write-queue.js';
import type { Notifier } from '../notifications/service.js';
import type { ContactDirectory } from '../presence/contacts.js';
import { groupConversationId, messageId, privateConversationId } from './ids.js';
import {
  conversationFromDoc,
  conversationToDoc,
  conversationView,
  messageFromDoc,
  messageToDoc,
  messageView,
  type ConversationState,
  type CallSummary,
  type MessageBase,
  type MessageState,
  type MessageType,
} from './model.js';
import type { CreateInput, SendInput } from './schemas.js';
import type { ChatState, ConversationResult, MemberAction, MembersChange, MessageAction, MessageResult } from './state.js';

export interface ChatServiceDeps {
  state: ChatState;
  queue: WriteQueue;
  hub: RoomHub;
  documents: Documents;
  notifier: Notifier;
  log: Logger;
  /** Participants of a conversation become presence contacts (they may see each other online). */
  contacts: ContactDirectory;
  /** Who has a device connected (for the `message.offline` webhook). */
  online: OnlineCheck;
  webhooks: WebhookSink;
}

export interface SendAck {
  id: string;
  conversationId: string;
  clientId?: string;
  createdAt: string;
}

/** What each message type must carry besides its type (seed 000: Message). */
const REQUIRED: Record<MessageType, (m: SendInput) => boolean> = {
  text: (m) => (m.text ?? '').trim().length > 0,
  image: (m) => m.mediaUrl !== undefined,
  video: (m) => m.mediaUrl !== undefined,
  audio: (m) => m.mediaUrl !== undefined,
  gif: (m) => m.mediaUrl !== undefined,
  sticker: (m) => m.mediaUrl !== undefined,
  gift: (m) => m.giftId !== undefined,
  product: (m) => m.productId !== undefined,
  location: (m) => m.location !== undefined,
  voice: (m) => m.mediaUrl !== undefined || (m.attachments ?? []).some((a) => a.type === 'audio'),
  file: (m) => m.mediaUrl !== undefined || (m.attachments ?? []).length > 0,
  system: (m) => (m.text ?? '').trim().length > 0,
  // Posted by the server when a call ends (postCall), never by a client.
  call: () => false,
};

/** What a refused message type lacks. */
const NEEDS: Record<MessageType, string> = {
  text: 'its text',
  image: 'its mediaUrl',
  video: 'its mediaUrl',
  audio: 'its mediaUrl',
  gif: 'its mediaUrl',
  sticker: 'its mediaUrl',
  gift: 'its giftId',
  product: 'its productId',
  location: 'its location',
  voice: 'a mediaUrl or an audio attachment',
  file: 'a mediaUrl or an attachment',
  system: 'its text',
  call: 'to be posted by the server (calls post it when they end)',
};

const PREVIEW: Record<MessageType, string> = {
  text: '',
  image: '[image]',
  video: '[video]',
  audio: '[audio]',
  gif: '[gif]',
  sticker: '[sticker]',
  gift: '[gift]',
  product: '[product]',
  location: '[location]',
  voice: '[voice]',
  file: '[file]',
  system: '',
  call: '[call]',
};

const preview = (type: MessageType, text: string | undefined): string =>
  type === 'text' || type === 'system' ? (text ?? '').slice(0, 200) : text ? text.slice(0, 200) : PREVIEW[type];

/**
 * Chat's operations: the hot path (send, receipts, reactions) works on ChatState and the write
 * queue only; MongoDB is read for history, lists, and to warm a conversation or message that
 * fell out of the hot state.
 */
export class ChatService {
  private readonly io: DomainIo;

  constructor(private readonly deps: ChatServiceDeps) {
    this.io = new DomainIo(deps);
  }

  // ---- conversations -------------------------------------------------------------------------

  async openPrivate(userId: string, otherId: string): Promise<ConversationState> {
    if (otherId === userId) throw new AppError('validation_failed', 'a private conversation needs another user');
    const id = privateConversationId(userId, otherId);
    const hot = await this.deps.state.getConversation(id);
    if (hot) return hot;
    // Not hot: created now or warmed from MongoDB. Either way (re-)register the pair as contacts
    // (idempotent), so conversations older than the contact directory count too.
    await this.registerContacts([userId, otherId]);
    const cached = await this.loadConversation(id);
    if (cached) return cached;
    const now = Date.now();
    const fresh: ConversationState = {
      id,
      type: 'private',
      createdAt: now,
      updatedAt: now,
      version: 1,
      messagesCount: 0,
      members: [userId, otherId].sort().map((uid) => ({ userId: uid, joinedAt: now, unreadCount: 0, isMuted: false, isArchived: false })),
    };
    const stored = await this.deps.state.putConversation(fresh);
    if (stored.version === fresh.version && stored.createdAt === now) await this.persistConversation(stored);
    return stored;
  }

  async createGroup(userId: string, input: Extract<CreateInput, { type: 'group' }>): Promise<ConversationState> {
    const id = groupConversationId(userId, input.clientId);
    const now = Date.now();
    const members = [userId, ...input.participants.filter((p) => p !== userId)];
    const fresh: ConversationState = {
      id,
      type: 'group',
      groupName: input.groupName,
      groupAvatar: input.groupAvatar,
      adminId: userId,
      createdAt: now,
      updatedAt: now,
      version: 1,
      messagesCount: 0,
      members: members.map((uid) => ({ userId: uid, joinedAt: now, unreadCount: 0, isMuted: false, isArchived: false })),
    };
    const stored = await this.deps.state.putConversation(fresh);
    if (stored.createdAt === now && stored.version === 1) {
      await this.persistConversation(stored);
      this.pushConversation(
        stored,
        stored.members.map((m) => m.userId),
      );
    }
    if (!stored.members.some((m) => m.userId === userId)) throw new AppError('forbidden', 'not a participant of this conversation');
    // Also on a retried create (same clientId): registration is idempotent.
    await this.registerContacts(stored.members.map((m) => m.userId));
    return stored;
  }

  async changeMembers(userId: string, conversationId: string, change: MembersChange): Promise<ConversationState> {
    const before = await this.requireConversation(conversationId, userId);
    const result = await this.withConversation(conversationId, () => this.deps.state.changeMembers(conversationId, userId, change));
    const after = this.conversationOrThrow(result);
    await this.persistConversation(after);
    if (change.kind === 'add') await this.registerContacts(after.members.map((m) => m.userId));
    const removed = before.members.map((m) => m.userId).filter((uid) => !after.members.some((m) => m.userId === uid));
    this.pushConversation(
      after,
      after.members.map((m) => m.userId),
    );
    for (const uid of removed) this.io.publishToUser(uid, 'conversation:removed', { conversationId });
    return after;
  }

  async updateMember(userId: string, conversationId: string, action: MemberAction): Promise<ConversationState> {
    const result = await this.withConversation(conversationId, () => this.deps.state.updateMember(conversationId, userId, action));
    const conversation = this.conversationOrThrow(result);
    await this.persistConversation(conversation);
    // The member's own devices see their new unread count / flags.
    this.io.publishToUser(userId, 'conversation:update', conversationView(conversation, userId));
    const receipt = RECEIPTS[action.kind];
    if (receipt && (action.kind === 'read' || action.kind === 'delivered')) {
      const sentAt = new Date().toISOString();
      for (const m of conversation.members) {
        if (m.userId !== userId) this.io.publishToUser(m.userId, receipt, { conversationId, userId, messageId: action.messageId, sentAt });
      }
    }
    return conversation;
  }

  async list(userId: string, limit: number, before: string | undefined): Promise<Array<Record<string, unknown>>> {
    const db = this.io.db();
    const filter: Record<string, unknown> = { participants: userId };
    if (before) {
      const t = Date.parse(before);
      if (Number.isNaN(t)) throw new AppError('validation_failed', 'before must be an ISO date');
      filter['updatedAt'] = { $lt: new Date(t) };
    }
    const docs = await this.io.read(() => db.collection<{ _id: string }>('conversations').find(filter).sort({ updatedAt: -1 }).limit(limit).toArray());
    // The hot state is newer than MongoDB (the queue may lag): prefer it where present.
    const states = await Promise.all(docs.map(async (d) => (await this.deps.state.getConversation(d._id)) ?? conversationFromDoc(d)));
    return states.filter((c) => c.members.some((m) => m.userId === userId)).map((c) => conversationView(c, userId));
  }

  /** One page of the user's conversations, most recently active first, and how many there are. */
  async page(userId: string, w: PageWindow): Promise<{ items: Array<Record<string, unknown>>; total: number }> {
    const conversations = this.io.db().collection<{ _id: string }>('conversations');
    const filter = { participants: userId };
    const [docs, total] = await Promise.all([
      this.io.read(() => conversations.find(filter).sort({ updatedAt: -1, _id: 1 }).skip(w.skip).limit(w.limit).toArray()),
      this.io.read(() => conversations.countDocuments(filter)),
    ]);
    const states = await Promise.all(docs.map(async (d) => (await this.deps.state.getConversation(d._id)) ?? conversationFromDoc(d)));
    return { items: states.filter((c) => c.members.some((m) => m.userId === userId)).map((c) => conversationView(c, userId)), total };
  }

  /** One page of a conversation's messages, newest first (participants only). */
  async messagesPage(userId: string, conversationId: string, w: PageWindow): Promise<{ items: Array<Record<string, unknown>>; total: number }> {
    await this.requireConversation(conversationId, userId);
    const messages = this.io.db().collection<{ _id: string }>('messages');
    const filter = { conversationId };
    const [docs, total] = await Promise.all([
      this.io.read(() => messages.find(filter).sort({ createdAt: -1, _id: -1 }).skip(w.skip).limit(w.limit).toArray()),
      this.io.read(() => messages.countDocuments(filter)),
    ]);
    return { items: docs.map((d) => messageView(messageFromDoc(d))), total };
  }

  /** The conversation a stored message belongs to (MongoDB; a message still in the write queue is not found). */
  async conversationOf(messageId: string): Promise<string | undefined> {
    const db = this.io.db();
    const doc = await this.io.read(() => db.collection<{ _id: string }>('messages').findOne({ _id: messageId }, { projection: { conversationId: 1 } }));
    const id = (doc as { conversationId?: unknown } | null)?.conversationId;
    return typeof id === 'string' ? id : undefined;
  }

  async get(userId: string, conversationId: string): Promise<ConversationState> {
    return this.requireConversation(conversationId, userId);
  }

  // ---- messages -----------------------------------------------------------------------------

  async send(userId: string, input: SendInput): Promise<SendAck> {
    if (!REQUIRED[input.type](input)) throw new AppError('validation_failed', `a ${input.type} message needs ${NEEDS[input.type]}`);
    return this.store(userId, input, undefined);
  }

  /**
   * The `call` message of an ended call, in the call's conversation, from the caller. Its id comes
   * from the callId, so posting it again (a retried end) stores and delivers it once.
   */
  async postCall(callerId: string, conversationId: string, call: CallSummary): Promise<SendAck> {
    return this.store(callerId, { conversationId, type: 'call', clientId: `call:${call.callId}` }, call);
  }

  private async store(userId: string, input: SendInput, call: CallSummary | undefined): Promise<SendAck> {
    let conversationId = input.conversationId;
    if (!conversationId) {
      if (!input.to) throw new AppError('validation_failed', 'message:send needs conversationId or to');
      conversationId = (await this.openPrivate(userId, input.to)).id;
    }
    if (input.replyTo && !(await this.messageExists(conversationId, input.replyTo)))
      throw new AppError('not_found', 'replyTo: no such message in this conversation');
    const base: MessageBase = stripUndefined({
      id: messageId(userId, conversationId, input.clientId),
      conversationId,
      senderId: userId,
      type: input.type,
      mediaUrl: input.mediaUrl,
      thumbnailUrl: input.thumbnailUrl,
      giftId: input.giftId,
      productId: input.productId,
      location: input.location,
      attachments: input.attachments,
      call,
      replyTo: input.replyTo,
      clientId: input.clientId,
      createdAt: Date.now(),
    });
    const message: MessageState = { base, text: input.text ?? '', version: 1, reactions: [] };
    const cid = conversationId;
    const result = await this.withConversation(cid, () => this.deps.state.send(message, preview(input.type, input.text)));
    if (result.kind === 'missing') throw new AppError('not_found', 'conversation not found');
    if (result.kind === 'forbidden') throw new AppError('forbidden', 'not a participant of this conversation');
    if (result.kind === 'duplicate') {
      if (result.base.conversationId !== cid || result.base.senderId !== userId)
        throw new AppError('conflict', 'this clientId was already used for another message');
      // A retry: same ack. The insert is queued again (a no-op if it was applied) in case the
      // first attempt failed between the state change and the queue.
      await this.io.enqueue([
        { kind: 'insert', collection: 'messages', doc: messageToDoc({ base: result.base, text: message.text, version: 1, reactions: [] }) },
      ]);
      return ack(result.base);
    }
    const { conversation } = result;
    await this.io.enqueue([
      { kind: 'insert', collection: 'messages', doc: messageToDoc(message) },
      { kind: 'setIfNewer', collection: 'conversations', id: conversation.id, version: conversation.version, set: stripId(conversationToDoc(conversation)) },
    ]);
    const view = messageView(message);
    for (const m of conversation.members) this.io.publishToUser(m.userId, 'message:new', view);
    this.pushConversation(
      conversation,
      conversation.members.map((m) => m.userId),
    );
    void this.notifyRecipients(conversation, message).catch((err: unknown) => this.deps.log.warn({ err, conversationId: cid }, 'message notifications failed'));
    void this.signalOffline(conversation, message).catch((err: unknown) => this.deps.log.warn({ err, conversationId: cid }, 'message.offline check failed'));
    return ack(base);
  }

  async mutateMessage(userId: string, conversationId: string, id: string, action: MessageAction): Promise<Record<string, unknown>> {
    let result = await this.withConversation(
      conversationId,
      () => this.deps.state.mutateMessage(conversationId, id, userId, action),
      (r) => r.kind === 'no_conversation',
    );
    if (result.kind === 'missing') {
      if (!(await this.loadMessage(conversationId, id))) throw new AppError('not_found', 'message not found');
      result = await this.withConversation(
        conversationId,
        () => this.deps.state.mutateMessage(conversationId, id, userId, action),
        (r) => r.kind === 'no_conversation',
      );
    }
    const outcome = this.messageOrThrow(result);
    const view = messageView(outcome.message);
    if (outcome.changed) {
      await this.io.enqueue([
        { kind: 'setIfNewer', collection: 'messages', id, version: outcome.message.version, set: stripId(messageToDoc(outcome.message)) },
      ]);
      const conversation = await this.deps.state.getConversation(conversationId);
      for (const m of conversation?.members ?? []) this.io.publishToUser(m.userId, 'message:update', { action: action.kind, userId, message: view });
    }
    return view;
  }

  async history(
    userId: string,
    conversationId: string,
    before: string | undefined,
    limit: number,
  ): Promise<{ messages: Array<Record<string, unknown>>; hasMore: boolean }> {
    await this.requireConversation(conversationId, userId);
    const messages = this.io.db().collection<{ _id: string }>('messages');
    const filter: Record<string, unknown> = { conversationId };
    if (before) {
      const cursor = await this.io.read(() => messages.findOne({ _id: before, conversationId }, { projection: { createdAt: 1 } }));
      const at = (cursor as { createdAt?: unknown } | null)?.createdAt;
      if (!(at instanceof Date)) throw new AppError('not_found', 'the "before" message is not in this conversation');
      filter['$or'] = [{ createdAt: { $lt: at } }, { createdAt: at, _id: { $lt: before } }];
    }
    const docs = await this.io.read(() =>
      messages
        .find(filter)
        .sort({ createdAt: -1, _id: -1 })
        .limit(limit + 1)
        .toArray(),
    );
    return { messages: docs.slice(0, limit).map((d) => messageView(messageFromDoc(d))), hasMore: docs.length > limit };
  }

  /** Which conversation a connection has open (none: undefined); no notifications for messages there. */
  setViewing(userId: string, connectionId: string, conversationId: string | undefined): Promise<void> {
    return this.deps.state.setViewing(userId, connectionId, conversationId);
  }

  async typing(userId: string, conversationId: string, isTyping: boolean): Promise<void> {
    const conversation = await this.requireConversation(conversationId, userId);
    for (const m of conversation.members) {
      if (m.userId !== userId) this.io.publishToUser(m.userId, 'typing', { conversationId, userId, isTyping });
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** The conversation for a participant; not_found / forbidden otherwise. */
  private async requireConversation(conversationId: string, userId: string): Promise<ConversationState> {
    const conversation = (await this.deps.state.getConversation(conversationId)) ?? (await this.loadConversation(conversationId));
    if (!conversation) throw new AppError('not_found', 'conversation not found');
    if (!conversation.members.some((m) => m.userId === userId)) throw new AppError('forbidden', 'not a participant of this conversation');
    return conversation;
  }

  /** Runs a state operation; if the conversation is not in the hot state, warms it from MongoDB once and retries. */
  private async withConversation<R extends { kind: string }>(
    conversationId: string,
    run: () => Promise<R>,
    isMiss: (r: R) => boolean = (r) => r.kind === 'missing',
  ): Promise<R> {
    const first = await run();
    if (!isMiss(first)) return first;
    if (!(await this.loadConversation(conversationId))) throw new AppError('not_found', 'conversation not found');
    return run();
  }

  private async loadConversation(id: string): Promise<ConversationState | undefined> {
    if (!this.deps.documents.configured) return undefined;
    const db = this.deps.documents.db();
    const doc = await this.io.read(() => db.collection<{ _id: string }>('conversations').findOne({ _id: id }));
    return doc ? this.deps.state.putConversation(conversationFromDoc(doc)) : undefined;
  }

  private async messageExists(conversationId: string, id: string): Promise<boolean> {
    if (await this.deps.state.hasMessage(conversationId, id)) return true;
    if (!this.deps.documents.configured) return false;
    const db = this.deps.documents.db();
    return (await this.io.read(() => db.collection<{ _id: string }>('messages').countDocuments({ _id: id, conversationId }, { limit: 1 }))) > 0;
  }

  private async loadMessage(conversationId: string, id: string): Promise<boolean> {
    if (!this.deps.documents.configured) return false;
    const db = this.deps.documents.db();
    const doc = await this.io.read(() => db.collection<{ _id: string }>('messages').findOne({ _id: id, conversationId }));
    if (!doc) return false;
    await this.deps.state.putMessage(messageFromDoc(doc));
    return true;
  }

  private conversationOrThrow(result: ConversationResult): ConversationState {
    switch (result.kind) {
      case 'ok':
        return result.conversation;
      case 'forbidden':
        throw new AppError('forbidden', 'not allowed in this conversation');
      case 'not_group':
        throw new AppError('conflict', 'only group conversations have members to add or remove');
      default:
        throw new AppError('not_found', 'conversation not found');
    }
  }

  private messageOrThrow(result: MessageResult): { message: MessageState; changed: boolean } {
    switch (result.kind) {
      case 'ok':
      case 'unchanged':
        return { message: result.message, changed: result.kind === 'ok' };
      case 'forbidden':
        throw new AppError('forbidden', 'not allowed to change this message');
      case 'deleted':
        throw new AppError('conflict', 'the message was deleted');
      default:
        throw new AppError('not_found', 'message not found');
    }
  }

  private async notifyRecipients(conversation: ConversationState, message: MessageState): Promise<void> {
    // A call message follows the call's own notification (missed call), not a second one.
    if (message.base.type === 'call') return;
    const recipients = conversation.members.filter((m) => m.userId !== message.base.senderId && !m.isMuted).map((m) => m.userId);
    if (recipients.length === 0) return;
    const viewing = await this.deps.state.viewing(recipients);
    for (const uid of recipients) {
      if (viewing.get(uid)?.has(conversation.id)) continue;
      await this.deps.notifier.notify(uid, {
        type: 'message',
        title: conversation.type === 'group' ? (conversation.groupName ?? 'group') : message.base.senderId,
        body: preview(message.base.type, message.text),
        senderId: message.base.senderId,
        data: { conversationId: conversation.id, messageId: message.base.id },
        key: `message:${message.base.id}`,
      });
    }
  }

  /**
   * `message.offline` for each recipient with no device connected anywhere (a push cue for the
   * backend). Muted recipients are skipped, as for notifications.
   */
  private async signalOffline(conversation: ConversationState, message: MessageState): Promise<void> {
    if (!this.deps.webhooks.isEnabled('message.offline')) return;
    const recipients = conversation.members.filter((m) => m.userId !== message.base.senderId && !m.isMuted).map((m) => m.userId);
    if (recipients.length === 0) return;
    const connected = await this.deps.online.connected(recipients);
    recipients.forEach((recipientId, i) => {
      if (connected[i]) return;
      this.deps.webhooks.emit(
        'message.offline',
        { messageId: message.base.id, conversationId: conversation.id, senderId: message.base.senderId, recipientId },
        `conversation:${conversation.id}`,
      );
    });
  }

  /** Presence contacts; a failure is logged, never fails the chat operation (the next warm-up retries). */
  private async registerContacts(userIds: string[]): Promise<void> {
    try {
      await this.deps.contacts.addContacts(userIds);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'registering conversation contacts failed');
    }
  }

  private pushConversation(conversation: ConversationState, userIds: string[]): void {
    for (const uid of userIds) this.io.publishToUser(uid, 'conversation:update', conversationView(conversation, uid));
  }

  private persistConversation(c: ConversationState): Promise<void> {
    return this.io.enqueue([{ kind: 'setIfNewer', collection: 'conversations', id: c.id, version: c.version, set: stripId(conversationToDoc(c)) }]);
  }
}

const RECEIPTS: Partial<Record<MemberAction['kind'], string>> = { read: 'message:read', delivered: 'message:delivered' };

function ack(base: MessageBase): SendAck {
  return stripUndefined({ id: base.id, conversationId: base.conversationId, clientId: base.clientId, createdAt: new Date(base.createdAt).toISOString() });
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
