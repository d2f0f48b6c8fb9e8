/**
 * The proxy's wire contract with the backend (docs/BRIDGE.md, "Event proxy"): the request body
 * livegate signs and POSTs, and the reply it accepts. Room and event names follow the server API's
 * rules (docs/BRIDGE.md, "Event rules"): `sys:` rooms are the cluster's own.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_NAME, MAX_EVENT_NAME } from '../../gateway/codecs/native.js';
import type { Role, WireFormat } from '../../kernel/session.js';

/** Most room operations of each kind in one reply. */
export const MAX_ACTIONS = 32;

const strict = { additionalProperties: false } as const;
const RoomName = Type.String({ minLength: 1, maxLength: 200, pattern: '^(?!sys:)[A-Za-z0-9_:.@-]+$' });
const EventName = Type.String({ minLength: 1, maxLength: MAX_EVENT_NAME, pattern: EVENT_NAME.source });
const Rooms = Type.Array(RoomName, { maxItems: MAX_ACTIONS, uniqueItems: true });
/** Binary data in a JSON body: base64 (RFC 4648, with padding), named by Socket.IO placeholders. */
const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' });

/** Most binary attachments in one reply. */
export const MAX_REPLY_ATTACHMENTS = 16;

export const ProxyReply = Type.Object(
  {
    /** The ack payload the client receives (null when absent). */
    ack: Type.Optional(Type.Unknown()),
    /** Instead of `ack`: several ack arguments (Socket.IO `43<id>[a, b, ...]`; other dialects get the array). */
    ackArgs: Type.Optional(Type.Array(Type.Unknown(), { maxItems: MAX_ACTIONS })),
    /**
     * Binary data of the ack: `{"_placeholder":true,"num":i}` in `ack`/`ackArgs` stands for
     * attachment i (bytes to Socket.IO clients, the base64 string itself on /ws).
     */
    attachments: Type.Optional(Type.Array(Base64, { maxItems: MAX_REPLY_ATTACHMENTS })),
    /** A typed error instead of the ack: `code` from the registry of docs/PROTOCOL.md. */
    error: Type.Optional(Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }), message: Type.Optional(Type.String({ maxLength: 500 })) }, strict)),
    /** Rooms the connection leaves, then joins, before the ack. */
    leave: Type.Optional(Rooms),
    join: Type.Optional(Rooms),
    /** Room events published (in order) after the joins and before the ack. */
    publish: Type.Optional(
      Type.Array(Type.Object({ room: RoomName, event: EventName, data: Type.Optional(Type.Unknown()) }, strict), { maxItems: MAX_ACTIONS }),
    ),
  },
  strict,
);
export type ProxyReply = Static<typeof ProxyReply>;

/** What livegate POSTs to PROXY_URL for one event. */
export interface ProxyRequestBody {
  /** Unique per proxied event (also in `x-livegate-delivery`). */
  id: string;
  event: string;
  /** The first argument (what livegate's own events read), binaries as placeholders. */
  data: unknown;
  /** Every argument after the event name (Socket.IO events may have several), binaries as placeholders. */
  args: unknown[];
  /** The binary attachments of `args`, base64, by placeholder number (absent when there are none). */
  attachments?: string[];
  userId: string;
  role: Role;
  connectionId: string;
  nodeId: string;
  dialect: WireFormat;
  sentAt: string;
}
