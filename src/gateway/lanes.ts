/**
 * Priority lanes: every frame the server sends to a socket has a class, and under pressure the
 * lowest classes are shed first, per connection (Connection.deliverRoomFrame, Gateway.fanout).
 * The class of an event is declared here, in one table by event name, next to the registry of
 * emitted events (./events.ts and the modules' `emits`). Acks and errors are always `control`.
 * docs/PROTOCOL.md, "Priority lanes and overload".
 */

/** The classes, highest first. `control` and `money` frames are never shed while the socket lives. */
export const LANES = ['control', 'money', 'chat', 'ambient'] as const;

export type Lane = (typeof LANES)[number];

/** The lanes that may be shed; what a `room:skipped` marker counts. */
export const SHEDDABLE = ['chat', 'ambient'] as const satisfies readonly Lane[];

export type SheddableLane = (typeof SHEDDABLE)[number];

/**
 * The lane of each event by name: server-to-client events, and the client requests whose effect is
 * a publish of that lane (those are refused with `overloaded` under node pressure). A frame whose
 * event is not listed is `chat` (sheddable, with a marker); a request not listed is never refused.
 */
export const EVENT_LANES: Readonly<Record<string, Lane>> = {
  // control: the session and the room sequence itself
  'session:ready': 'control',
  'session:reconnect': 'control',
  'session:expiring': 'control',
  'room:gap': 'control',
  'room:skipped': 'control',
  'moderation:action': 'control',
  // money, battle and stream state: a client cannot rebuild it from later frames
  'gift:sent': 'money',
  'wallet:credit': 'money',
  'wallet:transfer': 'money',
  'coins:purchase': 'money',
  'payment:completed': 'money',
  'payout:completed': 'money',
  'level:up': 'money',
  'pk_battle:invite': 'money',
  'pk_battle:start': 'money',
  'pk_battle:score': 'money',
  'pk_battle:end': 'money',
  'pk_battle:declined': 'money',
  'livestream:ended': 'money',
  'livestream:gift_totals': 'money',
  'livestream:top_supporters': 'money',
  'livestream:settings': 'money',
  'livestream:cohost:invited': 'money',
  'livestream:cohost:joined': 'money',
  'livestream:cohost:removed': 'money',
  'shopping:order': 'money',
  'shopping:pinned': 'money',
  'call:invite': 'money',
  'call:ringing': 'money',
  'call:accepted': 'money',
  'call:signal': 'money',
  'call:ended': 'money',
  'call:left': 'money',
  'bench:gift': 'money',
  // chat and messages
  'livestream:chat': 'chat',
  'message:send': 'chat',
  'message:new': 'chat',
  'message:update': 'chat',
  'message:react': 'chat',
  'message:unreact': 'chat',
  'conversation:update': 'chat',
  'notification:new': 'chat',
  'notification:update': 'chat',
  'conversation:removed': 'chat',
  'report:resolved': 'chat',
  'scheduling:due': 'chat',
  'support:reply': 'chat',
  'support:closed': 'chat',
  'bench:msg': 'chat',
  // ambient: likes, typing, join/leave, viewer counts, presence
  'livestream:viewers': 'ambient',
  'livestream:viewer_joined': 'ambient',
  'livestream:viewer_left': 'ambient',
  'livestream:presence_summary': 'ambient',
  typing: 'ambient',
  'presence:set': 'ambient',
  'presence:update': 'ambient',
  user_online: 'ambient',
  user_offline: 'ambient',
  'message:read': 'ambient',
  'message:delivered': 'ambient',
  'shopping:stats': 'ambient',
  'bench:ambient': 'ambient',
};

const DEFAULT_FRAME_LANE: Lane = 'chat';

/** The lane of a frame of `event` sent to a socket. */
export const laneOf = (event: string): Lane => EVENT_LANES[event] ?? DEFAULT_FRAME_LANE;

/** The lane of a frame sent to one connection by label (acks, errors, protocol packets: `control`). */
export const directLane = (label: string): Lane => EVENT_LANES[label] ?? 'control';

/** The lane of a client request, when it publishes into a lane that may be refused; else undefined. */
export const requestLane = (event: string): Lane | undefined => EVENT_LANES[event];

export const isSheddable = (lane: Lane): lane is SheddableLane => lane === 'chat' || lane === 'ambient';
