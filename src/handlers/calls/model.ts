/**
 * A call's data: the shared state every node reads and changes (by version, through CallStore),
 * the MongoDB record, and what clients receive. Conversions only; no I/O.
 */
import { isoMs } from '../../kernel/schemas.js';

export const MEDIA = ['audio', 'video'] as const;
export type Media = (typeof MEDIA)[number];

/** Why a call (or one party's part in it) ended. */
export const END_REASONS = ['hangup', 'cancelled', 'declined', 'busy', 'no_answer', 'disconnected'] as const;
export type EndReason = (typeof END_REASONS)[number];

/**
 * One party's state: `ringing` (a callee not answered yet) -> `joined` (its device is in the call)
 * -> `left`; or `declined` / `busy` / `missed` (never joined). The caller starts `joined`.
 */
export type PartyStatus = 'ringing' | 'joined' | 'left' | 'declined' | 'busy' | 'missed';

export interface Party {
  userId: string;
  status: PartyStatus;
  /** The one device (connection) in the call while joined; the relay sends only to these. */
  connectionId?: string;
  nodeId?: string;
  /** ms since epoch */
  joinedAt?: number;
  leftAt?: number;
  /** Set while the joined device is gone: the grace period runs from here. */
  disconnectedAt?: number;
  /**
   * When that grace period ends, fixed by the node that saw the device go: every node's sweep fires
   * the same deadline, whatever its own CALL_RECONNECT_GRACE_MS (a rolling config change).
   */
  graceEndsAt?: number;
}

export type CallStatus = 'ringing' | 'active' | 'ended';

export interface CallState {
  callId: string;
  conversationId: string;
  media: Media;
  callerId: string;
  status: CallStatus;
  /** Caller first. */
  parties: Party[];
  /** ms since epoch */
  createdAt: number;
  /** When unanswered callees become missed. */
  ringEndsAt: number;
  answeredAt?: number;
  endedAt?: number;
  endReason?: EndReason;
  /** +1 on every change: the compare-and-set of CallStore and the MongoDB `setIfNewer` order. */
  version: number;
}

/** The next instant at which a timer of the call fires (ring timeout, a party's grace end), if any. */
export function nextDeadline(call: CallState): number | undefined {
  if (call.status === 'ended') return undefined;
  let next: number | undefined;
  const consider = (at: number): void => {
    next = next === undefined ? at : Math.min(next, at);
  };
  if (call.parties.some((p) => p.status === 'ringing')) consider(call.ringEndsAt);
  for (const p of call.parties) if (p.status === 'joined' && p.graceEndsAt !== undefined) consider(p.graceEndsAt);
  return next;
}

/** Users whose busy mark points at this call: everyone still ringing or joined. */
export const engagedUsers = (call: CallState): string[] =>
  call.status === 'ended' ? [] : call.parties.filter((p) => p.status === 'ringing' || p.status === 'joined').map((p) => p.userId);

/** Nodes that hold a device of the call (the node-death cleanup finds the call through them). */
export const deviceNodes = (call: CallState): string[] =>
  call.status === 'ended'
    ? []
    : [...new Set(call.parties.flatMap((p) => (p.status === 'joined' && p.nodeId && p.disconnectedAt === undefined ? [p.nodeId] : [])))];

export const durationMs = (call: CallState): number => (call.answeredAt !== undefined && call.endedAt !== undefined ? call.endedAt - call.answeredAt : 0);

const defined = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const isoOpt = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : isoMs(ms));

export interface PartyView {
  userId: string;
  status: PartyStatus;
  connectionId?: string;
  joinedAt?: string;
  leftAt?: string;
}

export interface CallView {
  callId: string;
  conversationId: string;
  media: Media;
  callerId: string;
  status: CallStatus;
  parties: PartyView[];
  createdAt: string;
  ringEndsAt: string;
  answeredAt?: string;
  endedAt?: string;
  endReason?: EndReason;
  durationMs: number;
}

export function callView(call: CallState): CallView {
  return defined({
    callId: call.callId,
    conversationId: call.conversationId,
    media: call.media,
    callerId: call.callerId,
    status: call.status,
    parties: call.parties.map((p) =>
      defined({
        userId: p.userId,
        status: p.status,
        connectionId: p.status === 'joined' ? p.connectionId : undefined,
        joinedAt: isoOpt(p.joinedAt),
        leftAt: isoOpt(p.leftAt),
      }),
    ),
    createdAt: isoMs(call.createdAt),
    ringEndsAt: isoMs(call.ringEndsAt),
    answeredAt: isoOpt(call.answeredAt),
    endedAt: isoOpt(call.endedAt),
    endReason: call.endReason,
    durationMs: durationMs(call),
  });
}

const date = (ms: number | undefined): Date | undefined => (ms === undefined ? undefined : new Date(ms));
const fromDate = (d: unknown): number | undefined => (d instanceof Date ? d.getTime() : undefined);

/** The MongoDB record (collection `calls`, `_id` = callId). */
export function callToDoc(call: CallState): { _id: string } & Record<string, unknown> {
  return defined({
    _id: call.callId,
    conversationId: call.conversationId,
    media: call.media,
    callerId: call.callerId,
    participants: call.parties.map((p) => p.userId),
    parties: call.parties.map((p) => defined({ userId: p.userId, status: p.status, joinedAt: date(p.joinedAt), leftAt: date(p.leftAt) })),
    status: call.status,
    createdAt: new Date(call.createdAt),
    answeredAt: date(call.answeredAt),
    endedAt: date(call.endedAt),
    endReason: call.endReason,
    durationMs: durationMs(call),
    version: call.version,
  });
}

export function callFromDoc(d: Record<string, unknown>): CallState {
  const parties = Array.isArray(d['parties']) ? (d['parties'] as Array<Record<string, unknown>>) : [];
  return defined({
    callId: String(d['_id']),
    conversationId: String(d['conversationId']),
    media: d['media'] === 'video' ? 'video' : 'audio',
    callerId: String(d['callerId']),
    status: (d['status'] as CallStatus | undefined) ?? 'ended',
    parties: parties.map((p) =>
      defined({ userId: String(p['userId']), status: p['status'] as PartyStatus, joinedAt: fromDate(p['joinedAt']), leftAt: fromDate(p['leftAt']) }),
    ),
    createdAt: fromDate(d['createdAt']) ?? 0,
    ringEndsAt: fromDate(d['createdAt']) ?? 0,
    answeredAt: fromDate(d['answeredAt']),
    endedAt: fromDate(d['endedAt']),
    endReason: d['endReason'] as EndReason | undefined,
    version: Number(d['version'] ?? 0),
  }) as CallState;
}
