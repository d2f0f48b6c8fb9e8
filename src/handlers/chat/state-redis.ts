import type { Redis } from 'ioredis';
import { LuaScript, pairs } from '../../rooms/lua.js';
import {
  conversationFromHash,
  conversationToHash,
  messageFromHash,
  messageToHash,
  type ConversationState,
  type MessageBase,
  type MessageState,
} from './model.js';
import type { ChatState, ConversationResult, MemberAction, MembersChange, MessageAction, MessageResult, SendResult } from './state.js';

/*
 * Keys (the {conversationId} hash tag keeps a conversation and its messages in one slot):
 *   lg:chat:{c}:c        conversation hash: type created upd v n last gname gavatar admin, and per member
 *                        j:<uid> joinedAt, u:<uid> unread, r:/rm:<uid> read watermark, d:/dm:<uid> delivered
 *                        watermark, m:<uid> muted, a:<uid> archived
 *   lg:chat:{c}:m:<id>   message hash: base (JSON) v s(sender) text ed del, x:<uid>|<emoji> reaction time
 *   lg:chat:view:<uid>   hash connectionId -> conversation a device is looking at
 */

const PUT_IF_ABSENT = new LuaScript(
  'put_if_absent',
  `-- Stores a hash unless the key exists.
-- KEYS[1] hash key
-- ARGV[1] TTL ms, ARGV[2..] field, value, ...
-- Returns HGETALL of the key (the state now stored).
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return redis.call('HGETALL', KEYS[1])`,
);

const SEND = new LuaScript(
  'chat_send',
  `-- One message sent: checks membership, deduplicates by message id, bumps every other member's
-- unread count, sets the sender's read watermark, the last message, the count and the version.
-- KEYS[1] conversation hash, KEYS[2] message hash
-- ARGV[1] sender id, ARGV[2] now ms, ARGV[3] message base JSON, ARGV[4] text, ARGV[5] lastMessage JSON,
-- ARGV[6] message TTL ms, ARGV[7] conversation TTL ms, ARGV[8] message id
-- Returns {'missing'} | {'forbidden'} | {'duplicate', base} | {'sent', HGETALL conversation}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
if redis.call('HEXISTS', KEYS[1], 'j:' .. ARGV[1]) == 0 then return {'forbidden'} end
local existing = redis.call('HGET', KEYS[2], 'base')
if existing then return {'duplicate', existing} end
redis.call('HSET', KEYS[2], 'base', ARGV[3], 'v', 1, 's', ARGV[1], 'text', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, 2) == 'j:' and string.sub(f, 3) ~= ARGV[1] then
    redis.call('HINCRBY', KEYS[1], 'u:' .. string.sub(f, 3), 1)
  end
end
redis.call('HSET', KEYS[1], 'u:' .. ARGV[1], 0, 'r:' .. ARGV[1], ARGV[2], 'rm:' .. ARGV[1], ARGV[8], 'last', ARGV[5], 'upd', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return {'sent', redis.call('HGETALL', KEYS[1])}`,
);

const MUTATE_MESSAGE = new LuaScript(
  'chat_mutate_message',
  `-- Edit or delete (sender only), react or unreact (members only) one message; bumps its version.
-- KEYS[1] message hash, KEYS[2] conversation hash
-- ARGV[1] actor id, ARGV[2] edit|delete|react|unreact, ARGV[3] now ms, ARGV[4] text or emoji, ARGV[5] message TTL ms
-- Returns {'missing'} | {'no_conversation'} | {'forbidden'} | {'deleted'} | {'unchanged'|'ok', HGETALL message}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local action = ARGV[2]
if action == 'edit' or action == 'delete' then
  if redis.call('HGET', KEYS[1], 's') ~= ARGV[1] then return {'forbidden'} end
else
  if redis.call('EXISTS', KEYS[2]) == 0 then return {'no_conversation'} end
  if redis.call('HEXISTS', KEYS[2], 'j:' .. ARGV[1]) == 0 then return {'forbidden'} end
end
if redis.call('HEXISTS', KEYS[1], 'del') == 1 then return {'deleted'} end
local changed = 1
if action == 'edit' then
  redis.call('HSET', KEYS[1], 'text', ARGV[4], 'ed', ARGV[3])
elseif action == 'delete' then
  redis.call('HSET', KEYS[1], 'del', ARGV[3])
  redis.call('HDEL', KEYS[1], 'text')
elseif action == 'react' then
  changed = redis.call('HSETNX', KEYS[1], 'x:' .. ARGV[1] .. '|' .. ARGV[4], ARGV[3])
else
  changed = redis.call('HDEL', KEYS[1], 'x:' .. ARGV[1] .. '|' .. ARGV[4])
end
if changed == 0 then return {'unchanged', redis.call('HGETALL', KEYS[1])} end
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {'ok', redis.call('HGETALL', KEYS[1])}`,
);

const UPDATE_MEMBER = new LuaScript(
  'chat_update_member',
  `-- One member's own state: read or delivered watermark, mute, archive; bumps the version.
-- KEYS[1] conversation hash
-- ARGV[1] member id, ARGV[2] read|delivered|mute|archive, ARGV[3] now ms, ARGV[4] message id or 1/0
-- Returns {'missing'} | {'forbidden'} | {'ok', HGETALL conversation}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local uid = ARGV[1]
if redis.call('HEXISTS', KEYS[1], 'j:' .. uid) == 0 then return {'forbidden'} end
local action = ARGV[2]
if action == 'read' then
  redis.call('HSET', KEYS[1], 'u:' .. uid, 0, 'r:' .. uid, ARGV[3], 'rm:' .. uid, ARGV[4])
elseif action == 'delivered' then
  redis.call('HSET', KEYS[1], 'd:' .. uid, ARGV[3], 'dm:' .. uid, ARGV[4])
else
  local field = (action == 'mute' and 'm:' or 'a:') .. uid
  if ARGV[4] == '1' then redis.call('HSET', KEYS[1], field, 1) else redis.call('HDEL', KEYS[1], field) end
end
redis.call('HINCRBY', KEYS[1], 'v', 1)
return {'ok', redis.call('HGETALL', KEYS[1])}`,
);

const CHANGE_MEMBERS = new LuaScript(
  'chat_change_members',
  `-- Adds or removes group members. The admin adds and removes; any member may remove itself
-- (leave); an admin who leaves hands the role to the longest-standing remaining member.
-- KEYS[1] conversation hash
-- ARGV[1] actor id, ARGV[2] add|remove, ARGV[3] now ms, ARGV[4..] user ids
-- Returns {'missing'} | {'not_group'} | {'forbidden'} | {'ok', HGETALL conversation}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
if redis.call('HGET', KEYS[1], 'type') ~= 'group' then return {'not_group'} end
local actor = ARGV[1]
local admin = redis.call('HGET', KEYS[1], 'admin')
local selfOnly = ARGV[2] == 'remove' and #ARGV == 4 and ARGV[4] == actor
if redis.call('HEXISTS', KEYS[1], 'j:' .. actor) == 0 then return {'forbidden'} end
if admin ~= actor and not selfOnly then return {'forbidden'} end
for i = 4, #ARGV do
  local uid = ARGV[i]
  if ARGV[2] == 'add' then
    if redis.call('HSETNX', KEYS[1], 'j:' .. uid, ARGV[3]) == 1 then redis.call('HSET', KEYS[1], 'u:' .. uid, 0) end
  else
    redis.call('HDEL', KEYS[1], 'j:' .. uid, 'u:' .. uid, 'r:' .. uid, 'rm:' .. uid, 'd:' .. uid, 'dm:' .. uid, 'm:' .. uid, 'a:' .. uid)
  end
end
if redis.call('HEXISTS', KEYS[1], 'j:' .. (admin or '')) == 0 then
  local best, bestAt = nil, nil
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'j:' and (bestAt == nil or tonumber(all[i + 1]) < bestAt) then
      best, bestAt = string.sub(all[i], 3), tonumber(all[i + 1])
    end
  end
  if best then redis.call('HSET', KEYS[1], 'admin', best) else redis.call('HDEL', KEYS[1], 'admin') end
end
redis.call('HSET', KEYS[1], 'upd', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'v', 1)
return {'ok', redis.call('HGETALL', KEYS[1])}`,
);

export interface RedisChatStateOptions {
  messageTtlMs: number;
  conversationTtlMs: number;
}

export class RedisChatState implements ChatState {
  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisChatStateOptions,
  ) {}

  private convKey = (id: string): string => `lg:chat:{${id}}:c`;
  private msgKey = (conversationId: string, id: string): string => `lg:chat:{${conversationId}}:m:${id}`;
  private viewKey = (userId: string): string => `lg:chat:view:${userId}`;

  async putConversation(state: ConversationState): Promise<ConversationState> {
    const reply = await PUT_IF_ABSENT.run(this.redis, [this.convKey(state.id)], [this.opts.conversationTtlMs, ...conversationToHash(state)]);
    return conversationFromHash(state.id, pairs(reply));
  }

  async getConversation(id: string): Promise<ConversationState | undefined> {
    const h = await this.redis.hgetall(this.convKey(id));
    return Object.keys(h).length === 0 ? undefined : conversationFromHash(id, h);
  }

  async isMember(conversationId: string, userId: string): Promise<boolean | undefined> {
    const [exists, member] = await Promise.all([
      this.redis.exists(this.convKey(conversationId)),
      this.redis.hexists(this.convKey(conversationId), `j:${userId}`),
    ]);
    return exists === 0 ? undefined : member === 1;
  }

  async putMessage(state: MessageState): Promise<void> {
    await PUT_IF_ABSENT.run(this.redis, [this.msgKey(state.base.conversationId, state.base.id)], [this.opts.messageTtlMs, ...messageToHash(state)]);
  }

  async hasMessage(conversationId: string, messageId: string): Promise<boolean> {
    return (await this.redis.exists(this.msgKey(conversationId, messageId))) === 1;
  }

  async send(message: MessageState, lastMessageText: string): Promise<SendResult> {
    const { base } = message;
    const last = { id: base.id, text: lastMessageText, senderId: base.senderId, type: base.type, createdAt: base.createdAt };
    const reply = (await SEND.run(
      this.redis,
      [this.convKey(base.conversationId), this.msgKey(base.conversationId, base.id)],
      [
        base.senderId,
        base.createdAt,
        JSON.stringify(base),
        message.text ?? '',
        JSON.stringify(last),
        this.opts.messageTtlMs,
        this.opts.conversationTtlMs,
        base.id,
      ],
    )) as [string, unknown?];
    switch (reply[0]) {
      case 'sent':
        return { kind: 'sent', conversation: conversationFromHash(base.conversationId, pairs(reply[1])), message };
      case 'duplicate':
        return { kind: 'duplicate', base: JSON.parse(String(reply[1])) as MessageBase };
      case 'forbidden':
        return { kind: 'forbidden' };
      default:
        return { kind: 'missing' };
    }
  }

  async mutateMessage(conversationId: string, messageId: string, actor: string, action: MessageAction): Promise<MessageResult> {
    const arg = action.kind === 'edit' ? action.text : action.kind === 'delete' ? '' : action.emoji;
    const reply = (await MUTATE_MESSAGE.run(
      this.redis,
      [this.msgKey(conversationId, messageId), this.convKey(conversationId)],
      [actor, action.kind, Date.now(), arg, this.opts.messageTtlMs],
    )) as [string, unknown?];
    const kind = reply[0];
    if (kind === 'ok' || kind === 'unchanged') return { kind, message: messageFromHash(pairs(reply[1])) };
    return { kind: kind as 'missing' | 'no_conversation' | 'forbidden' | 'deleted' };
  }

  async updateMember(conversationId: string, actor: string, action: MemberAction): Promise<ConversationResult> {
    const value = action.kind === 'read' || action.kind === 'delivered' ? action.messageId : action.on ? '1' : '0';
    const reply = (await UPDATE_MEMBER.run(this.redis, [this.convKey(conversationId)], [actor, action.kind, Date.now(), value])) as [string, unknown?];
    return this.conversationResult(conversationId, reply);
  }

  async changeMembers(conversationId: string, actor: string, change: MembersChange): Promise<ConversationResult> {
    const reply = (await CHANGE_MEMBERS.run(this.redis, [this.convKey(conversationId)], [actor, change.kind, Date.now(), ...change.userIds])) as [
      string,
      unknown?,
    ];
    return this.conversationResult(conversationId, reply);
  }

  async setViewing(userId: string, connectionId: string, conversationId: string | undefined): Promise<void> {
    const key = this.viewKey(userId);
    if (conversationId === undefined) await this.redis.hdel(key, connectionId);
    else await this.redis.multi().hset(key, connectionId, conversationId).expire(key, 86_400).exec();
  }

  async viewing(userIds: string[]): Promise<Map<string, Set<string>>> {
    const pipeline = this.redis.pipeline();
    for (const uid of userIds) pipeline.hvals(this.viewKey(uid));
    const replies = (await pipeline.exec()) ?? [];
    const out = new Map<string, Set<string>>();
    userIds.forEach((uid, i) => {
      const values = replies[i]?.[1];
      out.set(uid, new Set(Array.isArray(values) ? values.map(String) : []));
    });
    return out;
  }

  private conversationResult(id: string, reply: [string, unknown?]): ConversationResult {
    if (reply[0] === 'ok') return { kind: 'ok', conversation: conversationFromHash(id, pairs(reply[1])) };
    return { kind: reply[0] as 'missing' | 'forbidden' | 'not_group' };
  }
}
