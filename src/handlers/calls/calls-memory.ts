import type { CallStore, CommitPlan, CommitResult } from './calls.js';
import type { CallState } from './model.js';

/** CallStore of a single node (no REDIS_URL): the same rules as the Redis scripts, in maps. */
export class MemoryCallStore implements CallStore {
  private readonly calls = new Map<string, { call: CallState; dropAt: number | undefined }>();
  private readonly marks = new Map<string, string>();
  private readonly due = new Map<string, number>();
  private readonly nodes = new Map<string, Set<string>>();

  async get(callId: string): Promise<CallState | undefined> {
    const entry = this.calls.get(callId);
    if (!entry) return undefined;
    if (entry.dropAt !== undefined && entry.dropAt <= Date.now()) {
      this.calls.delete(callId);
      return undefined;
    }
    return structuredClone(entry.call);
  }

  async commit(next: CallState, plan: CommitPlan): Promise<CommitResult> {
    const stored = this.calls.get(next.callId)?.call.version ?? 0;
    if (stored !== next.version - 1) return { kind: 'stale' };
    for (const userId of plan.engage) {
      const holder = this.marks.get(userId);
      if (holder !== undefined && holder !== next.callId && this.calls.has(holder)) return { kind: 'busy', userId };
    }
    for (const userId of plan.engage) this.marks.set(userId, next.callId);
    for (const userId of plan.release) if (this.marks.get(userId) === next.callId) this.marks.delete(userId);
    for (const node of plan.nodesAdd) {
      let set = this.nodes.get(node);
      if (!set) this.nodes.set(node, (set = new Set()));
      set.add(next.callId);
    }
    for (const node of plan.nodesRemove) this.nodes.get(node)?.delete(next.callId);
    this.calls.set(next.callId, { call: structuredClone(next), dropAt: plan.keepMs === undefined ? undefined : Date.now() + plan.keepMs });
    if (plan.deadline === undefined) this.due.delete(next.callId);
    else this.due.set(next.callId, plan.deadline);
    return { kind: 'ok' };
  }

  async currentCallOf(userId: string): Promise<string | undefined> {
    return this.marks.get(userId);
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<string[]> {
    const out: string[] = [];
    for (const [callId, at] of this.due) {
      if (out.length >= limit) break;
      if (at > now) continue;
      this.due.set(callId, now + leaseMs);
      out.push(callId);
    }
    return out;
  }

  async reschedule(callId: string, version: number, deadline: number | undefined): Promise<void> {
    if (this.calls.get(callId)?.call.version !== version) return;
    if (deadline === undefined) this.due.delete(callId);
    else this.due.set(callId, deadline);
  }

  async callsOnNode(nodeId: string): Promise<string[]> {
    return [...(this.nodes.get(nodeId) ?? [])];
  }
}
