import { AppError } from '../gateway/errors.js';

/** A livestream as clients see it. */
export interface StreamInfo {
  streamId: string;
  hostId: string;
  title: string;
  status: 'live' | 'ended';
  startedAt: number;
  endedAt: number | undefined;
  cohosts: string[];
}

export type CohostOp = 'invite' | 'accept' | 'kick';

/** Outcome codes shared by both engines (the Redis scripts return the same words). */
export type StoreOutcome = 'ok' | 'not_found' | 'forbidden' | 'conflict';

/**
 * Shared livestream state: the stream record, co-hosts, and each node's viewer count.
 * Engines: RedisStreamStore (cluster; atomic scripts) and MemoryStreamStore (single node).
 * Viewer counts are per node and absolute ("node X has N viewers"), so a dead node's share
 * can be removed exactly and a retried write never double-counts.
 */
export interface StreamStore {
  /** Starts a stream; starting your own live stream again is a no-op. Ended ids are not reused. */
  start(streamId: string, hostId: string, title: string, now: number): Promise<StreamInfo>;
  /** Ends a live stream (host only) and drops its viewer counts; returns the ended stream. */
  end(streamId: string, userId: string, now: number): Promise<StreamInfo>;
  get(streamId: string): Promise<StreamInfo | undefined>;
  cohost(op: CohostOp, streamId: string, actorId: string, targetId: string): Promise<void>;
  /** Sets this node's viewer count for a stream; returns the total, or undefined if not live. */
  setNodeViewers(streamId: string, nodeId: string, count: number): Promise<number | undefined>;
  /** Removes every viewer count of a node; returns the streams it touched. */
  removeNode(nodeId: string): Promise<string[]>;
  /**
   * Claims the right to broadcast the viewer count: returns the total if it changed since the
   * last broadcast and none happened in the last `intervalMs` (cluster-wide), `'later'` if it
   * changed but must wait, `'same'` if nothing changed (or the stream is not live).
   */
  claimViewerBroadcast(streamId: string, intervalMs: number): Promise<number | 'later' | 'same'>;
  close(): Promise<void>;
}

const OUTCOME_ERRORS: Record<Exclude<StoreOutcome, 'ok'>, (what: string) => AppError> = {
  not_found: (what) => new AppError('not_found', `${what}: no such live stream (or invitation)`),
  forbidden: (what) => new AppError('forbidden', `${what}: not allowed`),
  conflict: (what) => new AppError('conflict', `${what}: conflicts with the stream's state`),
};

/** Turns a store outcome into nothing (ok) or the AppError the client gets. */
export function check(outcome: string, what: string): void {
  if (outcome === 'ok') return;
  const make = OUTCOME_ERRORS[outcome as Exclude<StoreOutcome, 'ok'>];
  if (!make) throw new Error(`unexpected store outcome "${outcome}" for ${what}`);
  throw make(what);
}
