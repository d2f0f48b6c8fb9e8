/** Who is on the other end of a socket or an HTTP request: the identity every layer may know. */

export type Role = 'user' | 'admin' | 'service';

/** The wire format of a socket: native JSON, native msgpack, or the Socket.IO dialect. */
export type WireFormat = 'json' | 'msgpack' | 'sio';

/** A verified token's identity. */
export interface Principal {
  userId: string;
  role: Role;
  /** Seconds since epoch. */
  expiresAt: number;
  /** The token's `iat` (seconds since epoch), when it has one. */
  issuedAt?: number;
}

/** Who is on the other end of a socket; what a handler may know about the connection. */
export interface Session {
  readonly connectionId: string;
  readonly userId: string;
  readonly role: Role;
  readonly nodeId: string;
  readonly dialect: WireFormat;
}
