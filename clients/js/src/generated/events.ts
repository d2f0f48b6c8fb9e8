// placeholder, replaced by the generator
export type ServerErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'unknown_event'
  | 'conflict'
  | 'insufficient_funds'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';
export interface Requests {
  'session:info': { data: Record<string, never>; ack: { userId: string; connectionId: string; nodeId: string; serverTime: string } };
  'session:refresh': { data: { token: string }; ack: { userId: string; expiresAt: string } };
  'session:ping': { data: { clientTime: number }; ack: unknown };
  'room:resume': { data: { room: string; lastSeq: number }; ack: unknown };
}
export interface ServerEvents {
  'session:ready': { userId: string; connectionId: string; nodeId: string; serverTime: string };
  'session:expiring': { expiresAt: string; closesAt: string };
  'session:reconnect': { reason: string; nodeId: string };
  'room:gap': { room: string; oldestSeq: number; latestSeq: number };
}
export interface IdempotencyFields {
  'gift:send': 'idempotencyKey';
  'message:send': 'clientId';
}
export const IDEMPOTENCY_FIELDS: Readonly<Record<string, string>> = { 'gift:send': 'idempotencyKey', 'message:send': 'clientId' };
