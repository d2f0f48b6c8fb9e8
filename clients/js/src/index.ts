export { LivegateClient } from './client.js';
export type {
  ClientEvents,
  ConnectionState,
  HeartbeatOptions,
  LivegateClientOptions,
  RequestData,
  RequestOptions,
  RoomMeta,
  SessionReady,
  SkippedInfo,
  TokenProvider,
  TokenReason,
} from './client.js';
export { json, type Codec, type WireData } from './codec.js';
export { CLIENT_ERROR_CODES, LivegateError, type ClientErrorCode, type LivegateErrorCode } from './errors.js';
export type { Requests, ServerEvents, ServerErrorCode } from './generated/events.js';
export type { BackoffOptions } from './backoff.js';
export type { GapInfo } from './rooms.js';
export type { SocketFactory, SocketLike } from './transport.js';
