import type { CallState } from './model.js';

/** What a commit did: written; refused because the stored call changed meanwhile; or a user already in another call. */
export type CommitResult = { kind: 'ok' } | { kind: 'stale' } | { kind: 'busy'; userId: string };

/** Everything a commit changes besides the call itself, derived from the state before and after. */
export interface CommitPlan {
  /** Users whose busy mark must point at this call (refused with `busy` if it points at another live call). */
  engage: string[];
  /** Users whose mark (if it still points at this call) is dropped. */
  release: string[];
  /** Nodes that now hold a device of the call / no longer do. */
  nodesAdd: string[];
  nodesRemove: string[];
  /** When the call's next timer fires; undefined: no timer. */
  deadline: number | undefined;
  /** Keep the call this long after the commit (an ended call); undefined: until it ends. */
  keepMs: number | undefined;
}

/**
 * The shared state of calls: the call itself (compare-and-set by version), each engaged user's
 * busy mark, the due-timer set every node sweeps, and which nodes hold devices of which calls.
 * Engines: RedisCallStore (cluster; every commit is one script) and MemoryCallStore (single node).
 *
 * Timers have no owner: `claimDue` hands a due call to exactly one caller for `leaseMs` (its
 * deadline moves to now + lease), so if that node dies before committing, the call is due again
 * for the next sweep of any node. A commit replaces the deadline with the new state's own.
 */
export interface CallStore {
  get(callId: string): Promise<CallState | undefined>;
  /** Writes `next` if the stored version is `next.version - 1` (nothing stored for version 1), with the plan's side state, atomically. */
  commit(next: CallState, plan: CommitPlan): Promise<CommitResult>;
  /** The live call a user is ringing or joined in, if any. */
  currentCallOf(userId: string): Promise<string | undefined>;
  /** Up to `limit` calls whose deadline is at or before `now`, each leased to this caller for `leaseMs`. */
  claimDue(now: number, leaseMs: number, limit: number): Promise<string[]>;
  /** Puts the call's deadline back (after a claim found nothing to do) if the call is still at `version`. */
  reschedule(callId: string, version: number, deadline: number | undefined): Promise<void>;
  /** Live calls with a device on the node (for the dead-node cleanup). */
  callsOnNode(nodeId: string): Promise<string[]>;
}
