/**
 * The one registry of error codes, shared by the socket dialects and the HTTP layer.
 * docs/PROTOCOL.md lists the same codes; test/unit/protocol-doc.test.ts keeps them in step.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, description: 'The frame or body could not be parsed (invalid JSON or msgpack, bad envelope).' },
  validation_failed: { status: 422, description: 'The payload does not match the event or endpoint schema; the message names the field.' },
  unauthorized: { status: 401, description: 'No valid token: missing, expired, forged, wrong issuer or audience.' },
  forbidden: { status: 403, description: 'Authenticated, but not allowed to touch this resource or room.' },
  not_found: { status: 404, description: 'The resource does not exist (or is not live).' },
  unknown_event: { status: 404, description: 'No handler is registered for this event name.' },
  conflict: { status: 409, description: 'The request conflicts with the current state (duplicate, wrong state transition).' },
  insufficient_funds: { status: 422, description: 'The wallet balance does not cover the debit; nothing was charged.' },
  payload_too_large: { status: 413, description: 'The frame or body exceeds the configured maximum size.' },
  rate_limited: { status: 429, description: 'Too many requests; retry after the number of milliseconds given in the message.' },
  unavailable: { status: 503, description: 'A dependency is temporarily unreachable or the node is shutting down; retry.' },
  overloaded: {
    status: 503,
    description:
      'The node is under pressure (event-loop delay or send buffers past their thresholds) and refuses this low-lane publish, or has as many proxied events in flight as PROXY_CONCURRENCY allows; nothing ran: retry after `retryAfterMs`.',
  },
  backend_unavailable: {
    status: 503,
    description: "The app's backend (event proxy) could not be reached, answered 5xx, or its circuit breaker is open; retry later.",
  },
  backend_timeout: {
    status: 504,
    description: "The app's backend (event proxy) did not answer within PROXY_TIMEOUT_MS; the event may or may not have taken effect.",
  },
  backend_error: {
    status: 502,
    description: "The app's backend (event proxy) answered outside the contract of docs/BRIDGE.md (not JSON, bad shape, unknown error code).",
  },
  internal: { status: 500, description: 'An unexpected server error; details are in the server log, never in the reply.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** When the request may be tried again (`overloaded`), in milliseconds; only present when the server knows. */
  retryAfterMs?: number;
}

/** An error meant for the client. Anything else thrown by a handler becomes `internal`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;
  constructor(code: ErrorCode, message: string, details: { retryAfterMs?: number } = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.retryAfterMs = details.retryAfterMs;
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
  toBody(): ErrorBody {
    return this.retryAfterMs === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, retryAfterMs: this.retryAfterMs };
  }
}

/** Turns anything thrown into the body sent to a client, logging only what is unexpected. */
export function toErrorBody(err: unknown, onUnexpected: (err: unknown) => void): ErrorBody {
  if (err instanceof AppError) return err.toBody();
  onUnexpected(err);
  return { code: 'internal', message: 'internal error' };
}
