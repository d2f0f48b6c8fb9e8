import type { ConversationState, MessageBase, MessageState } from './model.js';

/**
 * Chat's hot state: what a send, a receipt or a reaction needs, changed atomically and never
 * waiting for MongoDB. Engine: state-redis.ts (Lua scripts, shared by every node). A miss
 * ("missing") means the entry is not cached: the service loads it from MongoDB and puts it back.
 */
export type SendResult =
  | { kind: 'missing' }
  | { kind: 'forbidden' }
  /** The client id was used before: the stored message's base (the same ack is returned). */
  | { kind: 'duplicate'; base: MessageBase }
  | { kind: 'sent'; conversation: ConversationState; message: MessageState };

export type MessageAction = { kind: 'edit'; text: string } | { kind: 'delete' } | { kind: 'react'; emoji: string } | { kind: 'unreact'; emoji: string };

export type MessageResult =
  { kind: 'missing' } | { kind: 'no_conversation' } | { kind: 'forbidden' } | { kind: 'deleted' } | { kind: 'unchanged' | 'ok'; message: MessageState };

export type MemberAction =
  { kind: 'read'; messageId: string } | { kind: 'delivered'; messageId: string } | { kind: 'mute'; on: boolean } | { kind: 'archive'; on: boolean };

export type MembersChange = { kind: 'add' | 'remove'; userIds: string[] };

export type ConversationResult = { kind: 'missing' } | { kind: 'forbidden' } | { kind: 'not_group' } | { kind: 'ok'; conversation: ConversationState };

export interface ChatState {
  /** Stores the conversation unless it is already there; returns the state now stored. */
  putConversation(state: ConversationState): Promise<ConversationState>;
  getConversation(id: string): Promise<ConversationState | undefined>;
  isMember(conversationId: string, userId: string): Promise<boolean | undefined>;
  putMessage(state: MessageState): Promise<void>;
  /** Whether the message of this conversation is in the hot state (false may still be in MongoDB). */
  hasMessage(conversationId: string, messageId: string): Promise<boolean>;
  send(message: MessageState, lastMessageText: string): Promise<SendResult>;
  mutateMessage(conversationId: string, messageId: string, actor: string, action: MessageAction): Promise<MessageResult>;
  updateMember(conversationId: string, actor: string, action: MemberAction): Promise<ConversationResult>;
  changeMembers(conversationId: string, actor: string, change: MembersChange): Promise<ConversationResult>;
  /** Which conversation each of this user's devices is looking at (suppresses notifications). */
  setViewing(userId: string, connectionId: string, conversationId: string | undefined): Promise<void>;
  /** For each user, the conversations any of their devices is looking at. */
  viewing(userIds: string[]): Promise<Map<string, Set<string>>>;
}
