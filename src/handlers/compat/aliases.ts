/**
 * Bare-string payloads, as the seeds' clients send them: `socket.emit('livestream:join', streamId)`
 * (seed 000), `socket.emit('conversation:read', conversationId)` (seed 000),
 * `socket.emit('subscribe_notifications', userId)` (seed 004). One table: event -> the field the
 * string stands for. The dispatcher rewrites `"abc"` to `{[field]: "abc"}` before the event's
 * schema check, on both dialects; any other payload passes unchanged.
 */
import type { PayloadAliases } from '../../gateway/handler.js';

export const BARE_STRING_FIELDS: Readonly<Record<string, string>> = {
  'livestream:join': 'livestreamId',
  'conversation:read': 'conversationId',
  subscribe_notifications: 'userId',
};

export function bareStringAliases(table: Readonly<Record<string, string>> = BARE_STRING_FIELDS): PayloadAliases {
  return Object.fromEntries(Object.entries(table).map(([event, field]) => [event, (data: unknown) => (typeof data === 'string' ? { [field]: data } : data)]));
}
