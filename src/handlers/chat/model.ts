/**
 * Chat's data: the state kept hot in Redis (hash fields), the MongoDB documents (seed 000:
 * Message, Conversation) and what clients receive. Conversions only; no I/O.
 */
export const MESSAGE_TYPES = ['text', 'image', 'video', 'audio', 'gif', 'sticker', 'gift', 'product', 'location'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface Location {
  latitude: number;
  longitude: number;
  name?: string;
}

/** What is fixed once a message is sent. */
export interface MessageBase {
  id: string;
  conversationId: string;
  senderId: string;
  type: MessageType;
  mediaUrl?: string;
  thumbnailUrl?: string;
  giftId?: string;
  productId?: string;
  location?: Location;
  replyTo?: string;
  clientId?: string;
  /** ms since epoch */
  createdAt: number;
}

export interface Reaction {
  userId: string;
  emoji: string;
  createdAt: number;
}

export interface MessageState {
  base: MessageBase;
  text: string | undefined;
  version: number;
  editedAt?: number;
  deletedAt?: number;
  reactions: Reaction[];
}

export interface MemberState {
  userId: string;
  joinedAt: number;
  unreadCount: number;
  lastReadAt?: number;
  lastReadMessageId?: string;
  lastDeliveredAt?: number;
  lastDeliveredMessageId?: string;
  isMuted: boolean;
  isArchived: boolean;
}

export interface LastMessage {
  id: string;
  text: string;
  senderId: string;
  type: MessageType;
  createdAt: number;
}

export type ConversationType = 'private' | 'group';

export interface ConversationState {
  id: string;
  type: ConversationType;
  groupName?: string;
  groupAvatar?: string;
  adminId?: string;
  createdAt: number;
  updatedAt: number;
  version: number;
  messagesCount: number;
  lastMessage?: LastMessage;
  members: MemberState[];
}

// ---- Redis hash encoding -------------------------------------------------------------------

const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));

export function conversationFromHash(id: string, h: Record<string, string>): ConversationState {
  const members: MemberState[] = [];
  for (const field of Object.keys(h)) {
    if (!field.startsWith('j:')) continue;
    const uid = field.slice(2);
    members.push({
      userId: uid,
      joinedAt: Number(h[field]),
      unreadCount: Number(h[`u:${uid}`] ?? 0),
      lastReadAt: num(h[`r:${uid}`]),
      lastReadMessageId: h[`rm:${uid}`] || undefined,
      lastDeliveredAt: num(h[`d:${uid}`]),
      lastDeliveredMessageId: h[`dm:${uid}`] || undefined,
      isMuted: h[`m:${uid}`] === '1',
      isArchived: h[`a:${uid}`] === '1',
    });
  }
  members.sort((a, b) => a.joinedAt - b.joinedAt || a.userId.localeCompare(b.userId));
  return {
    id,
    type: h['type'] === 'group' ? 'group' : 'private',
    groupName: h['gname'] || undefined,
    groupAvatar: h['gavatar'] || undefined,
    adminId: h['admin'] || undefined,
    createdAt: Number(h['created'] ?? 0),
    updatedAt: Number(h['upd'] ?? h['created'] ?? 0),
    version: Number(h['v'] ?? 0),
    messagesCount: Number(h['n'] ?? 0),
    lastMessage: h['last'] ? (JSON.parse(h['last']) as LastMessage) : undefined,
    members,
  };
}

export function conversationToHash(c: ConversationState): Array<string | number> {
  const f: Array<string | number> = ['type', c.type, 'created', c.createdAt, 'upd', c.updatedAt, 'v', c.version, 'n', c.messagesCount];
  if (c.groupName) f.push('gname', c.groupName);
  if (c.groupAvatar) f.push('gavatar', c.groupAvatar);
  if (c.adminId) f.push('admin', c.adminId);
  if (c.lastMessage) f.push('last', JSON.stringify(c.lastMessage));
  for (const m of c.members) {
    f.push(`j:${m.userId}`, m.joinedAt, `u:${m.userId}`, m.unreadCount);
    if (m.lastReadAt !== undefined) f.push(`r:${m.userId}`, m.lastReadAt);
    if (m.lastReadMessageId) f.push(`rm:${m.userId}`, m.lastReadMessageId);
    if (m.lastDeliveredAt !== undefined) f.push(`d:${m.userId}`, m.lastDeliveredAt);
    if (m.lastDeliveredMessageId) f.push(`dm:${m.userId}`, m.lastDeliveredMessageId);
    if (m.isMuted) f.push(`m:${m.userId}`, 1);
    if (m.isArchived) f.push(`a:${m.userId}`, 1);
  }
  return f;
}

export function messageFromHash(h: Record<string, string>): MessageState {
  const reactions: Reaction[] = [];
  for (const field of Object.keys(h)) {
    if (!field.startsWith('x:')) continue;
    const key = field.slice(2);
    const cut = key.lastIndexOf('|');
    reactions.push({ userId: key.slice(0, cut), emoji: key.slice(cut + 1), createdAt: Number(h[field]) });
  }
  reactions.sort((a, b) => a.createdAt - b.createdAt || a.userId.localeCompare(b.userId));
  return {
    base: JSON.parse(h['base'] ?? '{}') as MessageBase,
    text: h['text'],
    version: Number(h['v'] ?? 1),
    editedAt: num(h['ed']),
    deletedAt: num(h['del']),
    reactions,
  };
}

export function messageToHash(m: MessageState): Array<string | number> {
  const f: Array<string | number> = ['base', JSON.stringify(m.base), 'v', m.version, 's', m.base.senderId];
  if (m.text !== undefined) f.push('text', m.text);
  if (m.editedAt !== undefined) f.push('ed', m.editedAt);
  if (m.deletedAt !== undefined) f.push('del', m.deletedAt);
  for (const r of m.reactions) f.push(`x:${r.userId}|${r.emoji}`, r.createdAt);
  return f;
}

// ---- MongoDB documents ----------------------------------------------------------------------

const date = (ms: number | undefined): Date | undefined => (ms === undefined ? undefined : new Date(ms));
const ms = (d: unknown): number | undefined => (d instanceof Date ? d.getTime() : typeof d === 'number' ? d : undefined);
const defined = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export function messageToDoc(m: MessageState): { _id: string } & Record<string, unknown> {
  const { id, createdAt, ...rest } = m.base;
  return defined({
    _id: id,
    ...rest,
    text: m.text ?? '',
    reactions: m.reactions.map((r) => ({ userId: r.userId, emoji: r.emoji, createdAt: new Date(r.createdAt) })),
    edited: m.editedAt !== undefined,
    editedAt: date(m.editedAt),
    isDeleted: m.deletedAt !== undefined,
    deletedAt: date(m.deletedAt),
    createdAt: new Date(createdAt),
    updatedAt: new Date(m.deletedAt ?? m.editedAt ?? createdAt),
    version: m.version,
  });
}

export function messageFromDoc(d: Record<string, unknown>): MessageState {
  const base: MessageBase = defined({
    id: String(d['_id']),
    conversationId: String(d['conversationId']),
    senderId: String(d['senderId']),
    type: d['type'] as MessageType,
    mediaUrl: d['mediaUrl'] as string | undefined,
    thumbnailUrl: d['thumbnailUrl'] as string | undefined,
    giftId: d['giftId'] as string | undefined,
    productId: d['productId'] as string | undefined,
    location: d['location'] as Location | undefined,
    replyTo: d['replyTo'] as string | undefined,
    clientId: d['clientId'] as string | undefined,
    createdAt: ms(d['createdAt']) ?? 0,
  });
  const reactions = Array.isArray(d['reactions']) ? (d['reactions'] as Array<Record<string, unknown>>) : [];
  return {
    base,
    text: d['isDeleted'] ? undefined : String(d['text'] ?? ''),
    version: Number(d['version'] ?? 1),
    editedAt: ms(d['editedAt']),
    deletedAt: ms(d['deletedAt']),
    reactions: reactions.map((r) => ({ userId: String(r['userId']), emoji: String(r['emoji']), createdAt: ms(r['createdAt']) ?? 0 })),
  };
}

export function conversationToDoc(c: ConversationState): { _id: string } & Record<string, unknown> {
  return defined({
    _id: c.id,
    type: c.type,
    participants: c.members.map((m) => m.userId),
    groupName: c.groupName,
    groupAvatar: c.groupAvatar,
    adminId: c.adminId,
    lastMessage: c.lastMessage ? { ...c.lastMessage, createdAt: new Date(c.lastMessage.createdAt) } : undefined,
    messagesCount: c.messagesCount,
    participantStatus: c.members.map((m) =>
      defined({
        userId: m.userId,
        unreadCount: m.unreadCount,
        lastReadAt: date(m.lastReadAt),
        lastReadMessageId: m.lastReadMessageId,
        lastDeliveredAt: date(m.lastDeliveredAt),
        lastDeliveredMessageId: m.lastDeliveredMessageId,
        isMuted: m.isMuted,
        isArchived: m.isArchived,
        joinedAt: new Date(m.joinedAt),
      }),
    ),
    createdAt: new Date(c.createdAt),
    updatedAt: new Date(c.updatedAt),
    version: c.version,
  });
}

export function conversationFromDoc(d: Record<string, unknown>): ConversationState {
  const status = Array.isArray(d['participantStatus']) ? (d['participantStatus'] as Array<Record<string, unknown>>) : [];
  const last = d['lastMessage'] as (Omit<LastMessage, 'createdAt'> & { createdAt: unknown }) | undefined;
  return defined({
    id: String(d['_id']),
    type: (d['type'] === 'group' ? 'group' : 'private') as ConversationType,
    groupName: d['groupName'] as string | undefined,
    groupAvatar: d['groupAvatar'] as string | undefined,
    adminId: d['adminId'] as string | undefined,
    createdAt: ms(d['createdAt']) ?? 0,
    updatedAt: ms(d['updatedAt']) ?? 0,
    version: Number(d['version'] ?? 1),
    messagesCount: Number(d['messagesCount'] ?? 0),
    lastMessage: last ? { ...last, createdAt: ms(last.createdAt) ?? 0 } : undefined,
    members: status.map((s) =>
      defined({
        userId: String(s['userId']),
        joinedAt: ms(s['joinedAt']) ?? 0,
        unreadCount: Number(s['unreadCount'] ?? 0),
        lastReadAt: ms(s['lastReadAt']),
        lastReadMessageId: s['lastReadMessageId'] as string | undefined,
        lastDeliveredAt: ms(s['lastDeliveredAt']),
        lastDeliveredMessageId: s['lastDeliveredMessageId'] as string | undefined,
        isMuted: s['isMuted'] === true,
        isArchived: s['isArchived'] === true,
      }),
    ),
  });
}

// ---- What clients receive -------------------------------------------------------------------

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function messageView(m: MessageState): Record<string, unknown> {
  const { createdAt, ...base } = m.base;
  return defined({
    ...base,
    text: m.deletedAt !== undefined ? undefined : (m.text ?? ''),
    reactions: m.reactions.map((r) => ({ userId: r.userId, emoji: r.emoji, createdAt: iso(r.createdAt) })),
    createdAt: iso(createdAt),
    editedAt: iso(m.editedAt),
    deletedAt: iso(m.deletedAt),
    isDeleted: m.deletedAt !== undefined,
    version: m.version,
  });
}

/** A conversation as one participant sees it (their own unread count, mute and archive). */
export function conversationView(c: ConversationState, userId: string): Record<string, unknown> {
  const me = c.members.find((m) => m.userId === userId);
  return defined({
    id: c.id,
    type: c.type,
    participants: c.members.map((m) => m.userId),
    groupName: c.groupName,
    groupAvatar: c.groupAvatar,
    adminId: c.adminId,
    lastMessage: c.lastMessage ? { ...c.lastMessage, createdAt: iso(c.lastMessage.createdAt) } : undefined,
    messagesCount: c.messagesCount,
    unreadCount: me?.unreadCount ?? 0,
    isMuted: me?.isMuted ?? false,
    isArchived: me?.isArchived ?? false,
    receipts: c.members.map((m) =>
      defined({
        userId: m.userId,
        lastReadAt: iso(m.lastReadAt),
        lastReadMessageId: m.lastReadMessageId,
        lastDeliveredAt: iso(m.lastDeliveredAt),
        lastDeliveredMessageId: m.lastDeliveredMessageId,
      }),
    ),
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  });
}
