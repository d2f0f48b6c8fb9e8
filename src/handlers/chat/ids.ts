import { createHash, randomBytes } from 'node:crypto';

const digest = (...parts: string[]): string => createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 24);

/** One private conversation per pair: the id depends only on the sorted pair. */
export const privateConversationId = (a: string, b: string): string => `dm_${digest(...[a, b].sort())}`;

/** A group id; a client id makes a retried create land on the same group. */
export const groupConversationId = (creator: string, clientId: string | undefined): string =>
  `g_${clientId ? digest('group', creator, clientId) : randomBytes(18).toString('base64url')}`;

/** A message id; the sender's client id makes retries idempotent (same id, stored once) within a conversation. */
export const messageId = (senderId: string, conversationId: string, clientId: string | undefined): string =>
  `m_${clientId ? digest('message', senderId, conversationId, clientId) : randomBytes(18).toString('base64url')}`;
