/**
 * Call signaling: the life of a call (ring, answer, decline, cancel, busy, no answer, hang up,
 * reconnect grace) as transitions on the shared CallState, committed by version through CallStore
 * from whichever node the request or timer lands on. The transition that commits is the one that
 * publishes its events and, when it ends the call, posts the `call` message and the missed-call
 * notifications: each happens once per change, whatever node made it.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallsConfig } from '../../config.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { isoMs } from '../../kernel/schemas.js';
import type { Session } from '../../kernel/session.js';
import type { RoomHub } from '../../rooms/hub.js';
import type { Documents } from '../../store/documents.js';
import { DomainIo, stripId } from '../../store/domain-io.js';
import type { WriteQueue } from '../../store/write-queue.js';
import type { ChatService } from '../chat/service.js';
import type { Notifier } from '../notifications/service.js';
import type { CallStore, CommitPlan } from './calls.js';
import {
  callFromDoc,
  callToDoc,
  callView,
  deviceNodes,
  durationMs,
  engagedUsers,
  nextDeadline,
  type CallState,
  type CallView,
  type EndReason,
  type Media,
  type Party,
} from './model.js';
import type { SignalInput } from './schemas.js';

/** The room of one device in one call: the relay's only address (never the user room). */
export const deviceRoom = (callId: string, connectionId: string): string => `call:${callId}:${connectionId}`;

/** An ended call stays readable (late requests get `conflict: ended`, not `not_found`) this long. */
const ENDED_KEEP_MS = 3_600_000;
/** Rounds of compare-and-set before giving up (each lost round means another node changed the call). */
const MAX_ROUNDS = 16;
/** How long a node holds a claimed timer before any node may claim it again. */
export const TIMER_LEASE_MS = 5_000;

export interface CallServiceDeps {
  store: CallStore;
  hub: RoomHub;
  queue: WriteQueue;
  documents: Documents;
  chat: ChatService;
  notifier: Notifier;
  log: Logger;
  config: CallsConfig;
  /** Whether a node still beats (waits for its next beat, or its heartbeat key to expire): a device on a dead node may be taken over. */
  nodeAlive(nodeId: string): Promise<boolean>;
}

interface Outgoing {
  room: string;
  event: string;
  data: Record<string, unknown>;
}

/** A transition's result: the next state and what to tell whom once it is committed. */
interface Step {
  next: CallState;
  out: Outgoing[];
}

type Transition = (call: CallState, now: number) => Step | undefined;

const party = (call: CallState, userId: string): Party | undefined => call.parties.find((p) => p.userId === userId);

export class CallService {
  private readonly io: DomainIo;

  constructor(private readonly deps: CallServiceDeps) {
    this.io = new DomainIo(deps);
  }

  // ---- requests ------------------------------------------------------------------------------

  /** A new call id (the caller's device joins its room before the call exists, so it hears the first event). */
  newCallId(): string {
    return randomUUID();
  }

  async invite(session: Session, callId: string, conversationId: string, media: Media): Promise<CallState> {
    const conversation = await this.deps.chat.get(session.userId, conversationId);
    const callees = conversation.members.map((m) => m.userId).filter((u) => u !== session.userId);
    if (callees.length === 0) throw new AppError('validation_failed', 'nobody else is in this conversation');
    if (callees.length + 1 > this.deps.config.maxParties)
      throw new AppError('validation_failed', `a call has at most ${this.deps.config.maxParties} parties; this conversation has ${callees.length + 1}`);
    if (await this.deps.store.currentCallOf(session.userId)) throw new AppError('conflict', 'you are already in a call; hang up first');
    const busy = new Set<string>();
    for (const userId of callees) if (await this.deps.store.currentCallOf(userId)) busy.add(userId);
    const now = Date.now();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const call: CallState = {
        callId,
        conversationId,
        media,
        callerId: session.userId,
        status: 'ringing',
        parties: [
          { userId: session.userId, status: 'joined', connectionId: session.connectionId, nodeId: session.nodeId, joinedAt: now },
          ...callees.map((userId): Party => ({ userId, status: busy.has(userId) ? 'busy' : 'ringing' })),
        ],
        createdAt: now,
        ringEndsAt: now + this.deps.config.ringTimeoutMs,
        version: 1,
      };
      const out: Outgoing[] = [];
      const next = this.settle(call, now, out, 'busy');
      if (next.status !== 'ended') {
        const ringing = this.ringingEvent(next, now);
        for (const p of next.parties) if (p.status === 'ringing') out.push({ room: userRoom(p.userId), event: 'call:ringing', data: ringing });
        out.push({ room: deviceRoom(callId, session.connectionId), event: 'call:ringing', data: ringing });
      }
      const result = await this.deps.store.commit(next, this.plan(undefined, next));
      if (result.kind === 'ok') {
        await this.committed(undefined, { next, out });
        return next;
      }
      if (result.kind === 'busy' && result.userId === session.userId) throw new AppError('conflict', 'you are already in a call; hang up first');
      if (result.kind === 'busy') busy.add(result.userId);
      else throw new AppError('conflict', 'call id collision; retry');
    }
    throw new AppError('unavailable', 'the call could not be placed; retry');
  }

  /**
   * Answers on this device; or re-attaches this device to a call the user is in (after a reconnect):
   * when the device in the call is gone (its connection closed, or its node died even before the
   * cluster noticed), the new device takes its place.
   */
  async accept(session: Session, callId: string): Promise<CallState> {
    const deadNode = await this.deadNodeOfMyDevice(session, callId);
    return this.apply(callId, (call, now) => {
      const me = this.partyOf(call, session.userId);
      if (call.status === 'ended') throw new AppError('conflict', `the call has ended (${call.endReason ?? 'ended'})`);
      if (me.status === 'joined') {
        if (me.connectionId === session.connectionId && me.disconnectedAt === undefined) return undefined;
        if (me.disconnectedAt === undefined && (deadNode === undefined || me.nodeId !== deadNode))
          throw new AppError('conflict', 'the call is answered on another of your devices');
      } else if (me.status !== 'ringing') throw new AppError('conflict', `you are no longer in this call (${me.status})`);
      const answering = me.status === 'ringing';
      const next = structuredClone(call);
      const mine = this.partyOf(next, session.userId);
      if (answering) mine.joinedAt = now;
      Object.assign(mine, { status: 'joined', connectionId: session.connectionId, nodeId: session.nodeId });
      delete mine.disconnectedAt;
      delete mine.graceEndsAt;
      // A callee's answer starts the call; the caller re-attaching while it rings does not.
      if (next.status === 'ringing' && answering) {
        next.status = 'active';
        next.answeredAt = now;
      }
      const accepted = { callId, userId: session.userId, connectionId: session.connectionId, sentAt: isoMs(now) };
      const out = next.parties
        .filter((p) => p.status === 'joined' || p.status === 'ringing')
        .map((p) => ({ room: userRoom(p.userId), event: 'call:accepted', data: accepted }));
      return { next, out };
    });
  }

  /**
   * The node of this user's device in the call, when that is another node and it stopped beating
   * (killed): the new device may take over without waiting for the reap. Costs up to one heartbeat
   * for a live node and up to NODE_TTL_MS for a dead one, only when the user's device in the call is
   * connected to another node.
   */
  private async deadNodeOfMyDevice(session: Session, callId: string): Promise<string | undefined> {
    const call = await this.deps.store.get(callId);
    const me = call ? party(call, session.userId) : undefined;
    if (!me || me.status !== 'joined' || me.disconnectedAt !== undefined || !me.nodeId || me.nodeId === session.nodeId) return undefined;
    return (await this.deps.nodeAlive(me.nodeId)) ? undefined : me.nodeId;
  }

  decline(session: Session, callId: string): Promise<CallState> {
    return this.apply(callId, (call, now) => {
      const me = this.partyOf(call, session.userId);
      if (call.status === 'ended') throw new AppError('conflict', `the call has ended (${call.endReason ?? 'ended'})`);
      if (me.status !== 'ringing')
        throw new AppError('conflict', me.status === 'joined' ? 'you are in the call; use call:hangup' : `not ringing (${me.status})`);
      return this.leave(call, session.userId, 'declined', now, 'declined');
    });
  }

  cancel(session: Session, callId: string): Promise<CallState> {
    return this.apply(callId, (call, now) => {
      this.partyOf(call, session.userId);
      if (call.callerId !== session.userId) throw new AppError('forbidden', 'only the caller cancels a call; decline it instead');
      if (call.status !== 'ringing') throw new AppError('conflict', call.status === 'active' ? 'the call was answered; use call:hangup' : 'the call has ended');
      return this.end(call, now, 'cancelled');
    });
  }

  /** Leaves the call (any device of the party); before an answer it is the caller's cancel or a callee's decline. */
  hangup(session: Session, callId: string): Promise<CallState> {
    return this.apply(callId, (call, now) => {
      const me = this.partyOf(call, session.userId);
      if (call.status === 'ended') throw new AppError('conflict', `the call has ended (${call.endReason ?? 'ended'})`);
      if (call.status === 'ringing' && call.callerId === session.userId) return this.end(call, now, 'cancelled');
      if (me.status === 'ringing') return this.leave(call, session.userId, 'declined', now, 'declined');
      if (me.status !== 'joined') throw new AppError('conflict', `you are no longer in this call (${me.status})`);
      return this.leave(call, session.userId, 'left', now, 'hangup');
    });
  }

  async get(userId: string, callId: string): Promise<CallState> {
    const call = (await this.deps.store.get(callId)) ?? (await this.loadRecord(callId));
    if (!call) throw new AppError('not_found', 'call not found');
    this.partyOf(call, userId);
    return call;
  }

  /**
   * Relays an offer, answer, candidate or renegotiation from this device to the other devices in
   * the call (or the one named): only device rooms, never a user room. Returns how many it went to.
   */
  async signal(session: Session, input: SignalInput): Promise<number> {
    const call = await this.deps.store.get(input.callId);
    if (!call) throw new AppError('not_found', 'call not found');
    const me = this.partyOf(call, session.userId);
    if (call.status === 'ended') throw new AppError('conflict', 'the call has ended');
    if (me.status !== 'joined' || me.connectionId !== session.connectionId)
      throw new AppError('forbidden', 'this device is not in the call (answer with call:accept first)');
    const peers = call.parties.filter((p) => p.userId !== session.userId && p.status === 'joined' && p.connectionId && p.disconnectedAt === undefined);
    const targets = input.toConnectionId === undefined ? peers : peers.filter((p) => p.connectionId === input.toConnectionId);
    if (input.toConnectionId !== undefined && targets.length === 0) throw new AppError('not_found', 'toConnectionId is not a device in this call');
    const data = {
      callId: call.callId,
      kind: input.kind,
      data: input.data,
      fromUserId: session.userId,
      fromConnectionId: session.connectionId,
      sentAt: isoMs(Date.now()),
    };
    await Promise.all(targets.map((p) => this.deps.hub.publish(deviceRoom(call.callId, p.connectionId ?? ''), 'call:signal', data)));
    return targets.length;
  }

  // ---- connection and cluster events -----------------------------------------------------------

  /** This device's connection closed: if it is a party's device in the call, the grace period starts. */
  async disconnected(session: Session, callId: string): Promise<void> {
    await this.apply(callId, (call, now) => {
      const me = party(call, session.userId);
      if (call.status === 'ended' || !me || me.status !== 'joined' || me.connectionId !== session.connectionId || me.disconnectedAt !== undefined)
        return undefined;
      const next = structuredClone(call);
      this.markGone(this.partyOf(next, session.userId), now);
      return { next, out: [] };
    });
  }

  /** A node died: its devices in calls count as disconnected from now (their grace starts). */
  async nodeDead(nodeId: string): Promise<void> {
    for (const callId of await this.deps.store.callsOnNode(nodeId)) {
      await this.apply(callId, (call, now) => {
        const lost = call.parties.filter((p) => p.status === 'joined' && p.nodeId === nodeId && p.disconnectedAt === undefined);
        if (call.status === 'ended' || lost.length === 0) return undefined;
        const next = structuredClone(call);
        for (const p of next.parties) if (p.status === 'joined' && p.nodeId === nodeId && p.disconnectedAt === undefined) this.markGone(p, now);
        return { next, out: [] };
      });
    }
  }

  /**
   * This node was taken for dead (a long pause) and its devices were marked gone, but they are
   * still connected: each of them is back in its call, before its grace period ends the call.
   */
  async stillHere(devices: ReadonlyArray<{ callId: string; connectionId: string }>): Promise<void> {
    for (const { callId, connectionId } of devices) {
      await this.apply(callId, (call) => {
        const i = call.parties.findIndex((p) => p.status === 'joined' && p.connectionId === connectionId && p.disconnectedAt !== undefined);
        if (call.status === 'ended' || i < 0) return undefined;
        const next = structuredClone(call);
        delete next.parties[i]!.disconnectedAt;
        delete next.parties[i]!.graceEndsAt;
        return { next, out: [] };
      }).catch((err: unknown) => {
        if (!(err instanceof AppError && err.code === 'not_found')) throw err;
      });
    }
  }

  /** The party's device is gone from `now`: its grace period starts. */
  private markGone(p: Party, now: number): void {
    p.disconnectedAt = now;
    p.graceEndsAt = now + this.deps.config.reconnectGraceMs;
  }

  /** Claims and fires the due timers (any node; a timer is leased to one node at a time). Returns how many calls it looked at. */
  async sweep(now = Date.now()): Promise<number> {
    const due = await this.deps.store.claimDue(now, TIMER_LEASE_MS, 100);
    for (const callId of due) {
      try {
        await this.applyOrReschedule(callId);
      } catch (err) {
        this.deps.log.warn({ err, callId }, 'calls: timer failed (retried after its lease)');
      }
    }
    return due.length;
  }

  // ---- transitions ------------------------------------------------------------------------------

  private async applyOrReschedule(callId: string): Promise<void> {
    let fired = false;
    await this.apply(callId, (call, now) => {
      const step = this.expire(call, now);
      fired = step !== undefined;
      return step;
    }).catch((err: unknown) => {
      if (!(err instanceof AppError && err.code === 'not_found')) throw err;
    });
    if (fired) return;
    const call = await this.deps.store.get(callId);
    if (call) await this.deps.store.reschedule(callId, call.version, nextDeadline(call));
  }

  /** Ring timeout (ringing parties -> missed) and grace ends (joined parties gone too long -> left). */
  private expire(call: CallState, now: number): Step | undefined {
    if (call.status === 'ended') return undefined;
    const ringOver = now >= call.ringEndsAt && call.parties.some((p) => p.status === 'ringing');
    const gone = call.parties.filter((p) => p.status === 'joined' && p.graceEndsAt !== undefined && now >= p.graceEndsAt);
    if (!ringOver && gone.length === 0) return undefined;
    let next = structuredClone(call);
    const out: Outgoing[] = [];
    const endedFor = (p: Party, reason: EndReason): void => {
      out.push({ room: userRoom(p.userId), event: 'call:ended', data: this.endedEvent(next, reason, now) });
    };
    if (ringOver)
      for (const p of next.parties)
        if (p.status === 'ringing') {
          p.status = 'missed';
          endedFor(p, 'no_answer');
        }
    for (const p of next.parties)
      if (gone.some((g) => g.userId === p.userId)) {
        Object.assign(p, { status: 'left', leftAt: now });
        endedFor(p, 'disconnected');
      }
    next = this.settle(next, now, out, gone.length > 0 ? 'disconnected' : 'no_answer');
    if (next.status !== 'ended')
      this.tellLeft(
        next,
        gone.map((g) => g.userId),
        'disconnected',
        now,
        out,
      );
    return { next: { ...next, version: call.version + 1 }, out };
  }

  /** One party leaves (declined or hung up); the call ends if that leaves fewer than two. */
  private leave(call: CallState, userId: string, status: 'declined' | 'left', now: number, reason: EndReason): Step {
    let next = structuredClone(call);
    const me = this.partyOf(next, userId);
    me.status = status;
    if (status === 'left') me.leftAt = now;
    const out: Outgoing[] = [{ room: userRoom(userId), event: 'call:ended', data: this.endedEvent(next, reason, now) }];
    next = this.settle(next, now, out, reason);
    if (next.status !== 'ended') this.tellLeft(next, [userId], reason, now, out);
    return { next: { ...next, version: call.version + 1 }, out };
  }

  private end(call: CallState, now: number, reason: EndReason): Step {
    const out: Outgoing[] = [];
    const next = this.finish(structuredClone(call), now, reason, out);
    return { next: { ...next, version: call.version + 1 }, out };
  }

  /**
   * Ends the call when it can no longer go on: before an answer, when the caller is gone or no
   * callee is still ringing; after, when fewer than two parties are joined.
   */
  private settle(call: CallState, now: number, out: Outgoing[], reason: EndReason): CallState {
    if (call.status === 'ended') return call;
    const joined = call.parties.filter((p) => p.status === 'joined').length;
    const ringing = call.parties.filter((p) => p.status === 'ringing').length;
    if (call.status === 'ringing') {
      const callerIn = party(call, call.callerId)?.status === 'joined';
      if (callerIn && ringing > 0) return call;
      const callees = call.parties.filter((p) => p.userId !== call.callerId);
      const why: EndReason = !callerIn
        ? reason
        : callees.every((p) => p.status === 'busy')
          ? 'busy'
          : callees.every((p) => p.status === 'declined' || p.status === 'busy')
            ? 'declined'
            : 'no_answer';
      return this.finish(call, now, why, out);
    }
    if (joined >= 2) return call;
    return this.finish(call, now, reason, out);
  }

  /** Marks the call ended; everyone still ringing or joined is told and leaves. */
  private finish(call: CallState, now: number, reason: EndReason, out: Outgoing[]): CallState {
    call.status = 'ended';
    call.endedAt = now;
    call.endReason = reason;
    for (const p of call.parties) {
      if (p.status === 'ringing') p.status = 'missed';
      else if (p.status === 'joined') Object.assign(p, { status: 'left', leftAt: now });
      else continue;
      out.push({ room: userRoom(p.userId), event: 'call:ended', data: this.endedEvent(call, reason, now) });
    }
    // The ended event's duration is only known now; fix up the ones pushed before the end.
    for (const o of out) if (o.event === 'call:ended') o.data['durationMs'] = durationMs(call);
    return call;
  }

  /** In a call that goes on (a group), the others learn who left. */
  private tellLeft(call: CallState, userIds: string[], reason: EndReason, now: number, out: Outgoing[]): void {
    for (const userId of userIds)
      for (const p of call.parties)
        if (p.userId !== userId && (p.status === 'joined' || p.status === 'ringing'))
          out.push({ room: userRoom(p.userId), event: 'call:left', data: { callId: call.callId, userId, reason, sentAt: isoMs(now) } });
  }

  private endedEvent(call: CallState, reason: EndReason, now: number): Record<string, unknown> {
    return { callId: call.callId, conversationId: call.conversationId, reason, durationMs: durationMs(call), sentAt: isoMs(now) };
  }

  private ringingEvent(call: CallState, now: number): Record<string, unknown> {
    return {
      callId: call.callId,
      conversationId: call.conversationId,
      callerId: call.callerId,
      callerConnectionId: party(call, call.callerId)?.connectionId,
      media: call.media,
      participants: call.parties.map((p) => p.userId),
      ringEndsAt: isoMs(call.ringEndsAt),
      sentAt: isoMs(now),
    };
  }

  /** Load, transform, compare-and-set; a lost race reloads and runs the transition again. */
  private async apply(callId: string, transition: Transition): Promise<CallState> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const call = await this.deps.store.get(callId);
      if (!call) throw new AppError('not_found', 'call not found');
      const step = transition(call, Date.now());
      if (!step) return call;
      step.next.version = call.version + 1;
      const result = await this.deps.store.commit(step.next, this.plan(call, step.next));
      if (result.kind === 'ok') {
        await this.committed(call, step);
        return step.next;
      }
      if (result.kind === 'busy') throw new AppError('conflict', 'you are in another call; hang up first');
    }
    throw new AppError('unavailable', 'the call is changing too fast; retry');
  }

  private plan(prev: CallState | undefined, next: CallState): CommitPlan {
    const before = prev ? engagedUsers(prev) : [];
    const after = engagedUsers(next);
    const nodesBefore = prev ? deviceNodes(prev) : [];
    const nodesAfter = deviceNodes(next);
    // Only users who join the call now are checked for another call; the others already hold this one.
    return {
      engage: after.filter((u) => !before.includes(u)),
      release: before.filter((u) => !after.includes(u)),
      nodesAdd: nodesAfter.filter((n) => !nodesBefore.includes(n)),
      nodesRemove: nodesBefore.filter((n) => !nodesAfter.includes(n)),
      deadline: nextDeadline(next),
      keepMs: next.status === 'ended' ? ENDED_KEEP_MS : undefined,
    };
  }

  /** After a commit: the record, the events, and at the end the call message and missed-call notifications. */
  private async committed(prev: CallState | undefined, { next, out }: Step): Promise<void> {
    const doc = callToDoc(next);
    await this.io
      .enqueue([{ kind: 'setIfNewer', collection: 'calls', id: next.callId, version: next.version, set: stripId(doc) }])
      .catch((err: unknown) => this.deps.log.error({ err, callId: next.callId }, 'calls: the record could not be queued'));
    for (const o of out) this.deps.hub.send(o.room, o.event, o.data);
    // Callees who missed the call now (not answered, cancelled on them, or called while busy).
    const missed = next.parties.filter(
      (p) => (p.status === 'missed' || p.status === 'busy') && (prev === undefined || party(prev, p.userId)?.status !== p.status),
    );
    for (const p of missed) void this.notifyMissed(next, p.userId);
    if (next.status === 'ended' && prev?.status !== 'ended') void this.postCallMessage(next);
  }

  private async notifyMissed(call: CallState, userId: string): Promise<void> {
    try {
      await this.deps.notifier.notify(userId, {
        type: 'missed_call',
        title: call.callerId,
        body: `Missed ${call.media} call`,
        senderId: call.callerId,
        priority: 'high',
        data: { callId: call.callId, conversationId: call.conversationId, media: call.media },
        key: `call:${call.callId}:missed`,
      });
    } catch (err) {
      this.deps.log.warn({ err, callId: call.callId }, 'calls: missed-call notification failed');
    }
  }

  private async postCallMessage(call: CallState): Promise<void> {
    try {
      await this.deps.chat.postCall(call.callerId, call.conversationId, {
        callId: call.callId,
        media: call.media,
        endReason: call.endReason ?? 'hangup',
        durationMs: durationMs(call),
      });
    } catch (err) {
      this.deps.log.warn({ err, callId: call.callId }, 'calls: the call message could not be posted');
    }
  }

  private partyOf(call: CallState, userId: string): Party {
    const p = party(call, userId);
    if (!p) throw new AppError('forbidden', 'you are not a party of this call');
    return p;
  }

  // ---- history -------------------------------------------------------------------------------

  /** One page of a user's calls (MongoDB), newest first; optionally of one conversation. */
  async history(userId: string, conversationId: string | undefined, skip: number, limit: number): Promise<{ items: CallView[]; total: number }> {
    const calls = this.io.db().collection<{ _id: string }>('calls');
    const filter: Record<string, unknown> = { participants: userId, ...(conversationId ? { conversationId } : {}) };
    const [docs, total] = await Promise.all([
      this.io.read(() => calls.find(filter).sort({ createdAt: -1, _id: 1 }).skip(skip).limit(limit).toArray()),
      this.io.read(() => calls.countDocuments(filter)),
    ]);
    return { items: docs.map((d) => callView(callFromDoc(d))), total };
  }

  private async loadRecord(callId: string): Promise<CallState | undefined> {
    if (!this.deps.documents.configured) return undefined;
    const doc = await this.io.read(() => this.io.db().collection<{ _id: string }>('calls').findOne({ _id: callId }));
    return doc ? callFromDoc(doc) : undefined;
  }
}
