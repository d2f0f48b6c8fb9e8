/**
 * The one error type of the client. `code` is the server's stable error code (docs/PROTOCOL.md,
 * "Errors") or one of the client's own codes below; program against the code, not the message.
 */
import type { ServerErrorCode } from './generated/events.js';

export const CLIENT_ERROR_CODES = {
  /** No ack within the request's timeout (the request may or may not have run on the server). */
  timeout: 'no ack within the timeout',
  /** The offline queue was full when the request was made; it was never sent. */
  queue_full: 'the offline queue is full',
  /** The request waited in the offline queue until its timeout; it was never sent. */
  queue_expired: 'the request expired in the offline queue',
  /** The connection dropped before the ack of a request that cannot be retried safely (no idempotency key). */
  connection_lost: 'the connection dropped before the ack',
  /** The client was closed by the app, or the server closed it for good (see `closeCode`). */
  closed: 'the client is closed',
} as const;

export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;
export type LivegateErrorCode = ServerErrorCode | ClientErrorCode;

export class LivegateError extends Error {
  readonly code: LivegateErrorCode;
  /** The request's event, when the error answers a request. */
  readonly event: string | undefined;
  /** The WebSocket close code, when the error comes from a terminal close. */
  readonly closeCode: number | undefined;

  constructor(code: LivegateErrorCode, message: string, details: { event?: string; closeCode?: number } = {}) {
    super(message);
    this.name = 'LivegateError';
    this.code = code;
    this.event = details.event;
    this.closeCode = details.closeCode;
  }
}

export const clientError = (code: ClientErrorCode, event?: string, closeCode?: number): LivegateError =>
  new LivegateError(code, event ? `${event}: ${CLIENT_ERROR_CODES[code]}` : CLIENT_ERROR_CODES[code], { event, closeCode });
