/**
 * WebSocket close codes the gateway sends (documented in docs/PROTOCOL.md).
 * 4000-4099: reconnect is expected to work; 4100-4199: terminal, do not retry with the same credentials.
 */
export const CLOSE_CODES = {
  /** The node is shutting down or draining: reconnect, preferably to another node. */
  reconnect_elsewhere: { code: 4000, reconnect: true, description: 'Node shutting down; reconnect (to any node) and resume.' },
  /** The client fell too far behind (send buffer over the limit for too long). */
  slow_consumer: { code: 4008, reconnect: true, description: 'Send buffer stayed over the backpressure limit; reconnect and resume.' },
  /** Admission control: the node admits new connections at a bounded rate; the reason says `retryAfterMs=<n>`. */
  overloaded: { code: 4013, reconnect: true, description: 'Node admitting connections at its limit; reconnect after the retryAfterMs in the reason.' },
  /** Heartbeat missed (Socket.IO pong not received in time). */
  heartbeat_timeout: { code: 4009, reconnect: true, description: 'No heartbeat within the timeout.' },
  /** The session was ended by the server (ban or admin disconnect). */
  kicked: { code: 4103, reconnect: false, description: 'Disconnected by an administrator or the backend.' },
  /** Authentication failed; the reason names which check. */
  unauthorized: { code: 4101, reconnect: false, description: 'Token missing, expired, forged, or wrong issuer/audience.' },
  /** The token's `exp` plus SESSION_EXPIRY_GRACE_MS passed without a `session:refresh`. */
  token_expired: { code: 4104, reconnect: false, description: 'Token expired and was not refreshed in time; reconnect with a fresh token.' },
  /** The user's sessions were revoked (server API); tokens issued before the revocation are refused. */
  revoked: { code: 4105, reconnect: false, description: 'Sessions revoked by the backend; sign in again for a new token.' },
  /** Protocol violation the connection cannot recover from (e.g. garbage Engine.IO packets). */
  protocol_error: { code: 4102, reconnect: false, description: 'Unparseable transport framing; the connection is closed.' },
  /** Frame larger than WS_MAX_PAYLOAD (frames over twice the limit are cut off by the transport: 1006). */
  message_too_big: { code: 1009, reconnect: true, description: 'A frame exceeded WS_MAX_PAYLOAD.' },
} as const;

export type CloseReason = keyof typeof CLOSE_CODES;
