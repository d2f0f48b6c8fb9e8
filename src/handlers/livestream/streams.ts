import { AppError } from '../../kernel/errors.js';

/**
 * A stream's life: `created` (a record the host prepared, not on air; expires after a day if never
 * started) -> `live` -> `ended`. A stream may also start directly (socket `livestream:start` with a
 * new id) without being created first.
 */
export type StreamStatus = 'created' | 'live' | 'ended';

/** A livestream as clients see it. */
export interface StreamInfo {
  streamId: string;
  hostId: string;
  title: string;
  status: StreamStatus;
  createdAt: number;
  /** Undefined while `created`. */
  startedAt: number | undefined;
  endedAt: number | undefined;
  cohosts: string[];
}

/** A live stream (status `live`): it has a start time. */
export type LiveStreamInfo = StreamInfo & { startedAt: number };

export type CohostOp = 'invite' | 'accept' | 'kick';

/** Outcome codes shared by both engines (the Redis scripts return the same words). */
export type StoreOutcome = 'ok' | 'not_found' | 'forbidden' | 'conflict';

/** One page of the streams that are live now, newest first. */
export interface LivePage {
  streams: StreamInfo[];
  /** Live streams over all pages. */
  total: number;
}

/**
 * Shared livestream state: the stream record, co-hosts, and each node's viewer count.
 * Engines: RedisStreamStore (cluster; atomic scripts) and MemoryStreamStore (single node).
 * Viewer counts are per node and absolute ("node X has N viewers"), so a dead node's share
 * can be removed exactly and a retried write never double-counts.
 */
export interface StreamStore {
  /** Creates a stream record in status `created` (not live yet); an id that exists -> conflict. */
  create(streamId: string, hostId: string, title: string, now: number): Promise<StreamInfo>;
  /**
   * Starts a stream: a new id starts at once; the host's own `created` stream goes live (keeping its
   * title); starting your own live stream again is a no-op. Someone else's id, or an ended one ->
   * conflict (ended ids are not reused).
   */
  start(streamId: string, hostId: string, title: string, now: number): Promise<StreamInfo>;
  /**
   * Ends a live stream (host only) and drops its viewer counts; returns the ended stream.
   * Not the host -> forbidden; created but never started -> conflict; otherwise not live -> not_found.
   */
  end(streamId: string, userId: string, now: number): Promise<StreamInfo>;
  get(streamId: string): Promise<StreamInfo | undefined>;
  /** The live streams, newest start first, `limit` of them after `offset`. */
  listLive(offset: number, limit: number): Promise<LivePage>;
  /** The stream's viewer count (sum over nodes); 0 when it is not live. */
  viewerCount(streamId: string): Promise<number>;
  cohost(op: CohostOp, streamId: string, actorId: string, targetId: string): Promise<void>;
  /** Sets this node's viewer count for a stream; returns the total, or undefined if not live. */
  setNodeViewers(streamId: string, nodeId: string, count: number): Promise<number | undefined>;
  /** Removes every viewer count of a node; returns the streams it touched. */
  removeNode(nodeId: string): Promise<string[]>;
  /**
   * The stream's viewer count (sum over nodes) and when it was read (a version for keyed room
   * state: Redis TIME of the read), or undefined when it is not live.
   */
  liveViewerCount(streamId: string): Promise<{ viewers: number; version: number } | undefined>;
  close(): Promise<void>;
}

/** Seconds a `created` stream that never started is kept. */
export const CREATED_TTL_SEC = 86_400;

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

/** Narrows a stream the store just started (or found live). */
export function asLive(info: StreamInfo | undefined, what: string): LiveStreamInfo {
  if (!info || info.status !== 'live' || info.startedAt === undefined) throw new Error(`${what}: the store returned a stream that is not live`);
  return info as LiveStreamInfo;
}
