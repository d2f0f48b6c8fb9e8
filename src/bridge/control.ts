/**
 * Cluster control over the bus: every node watches `sys:bridge:control`; a node answering a
 * query publishes to the asker's `sys:bridge:reply:<nodeId>`. The control publish reports how
 * many nodes took it, which is how many answers the asker waits for (until a timeout, then it
 * says how many answered). Messages: `disconnect {userId, detail}`, `membership {op, room, userIds}`,
 * `query {id, query}`, `answer {id, nodeId, count}`.
 */
import { randomUUID } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { Logger } from 'pino';
import type { LocalSockets } from '../core.js';
import type { RoomMessage } from '../rooms/bus.js';
import type { RoomHub } from '../rooms/hub.js';

export const CONTROL_ROOM = 'sys:bridge:control';
export const replyRoom = (nodeId: string): string => `sys:bridge:reply:${nodeId}`;

const Query = Type.Union([Type.Object({ kind: Type.Literal('presence'), userId: Type.String() }), Type.Object({ kind: Type.Literal('occupancy'), room: Type.String() })]);
export type ClusterQuery = Static<typeof Query>;

const ControlMessages = {
  disconnect: Type.Object({ userId: Type.String(), detail: Type.Optional(Type.String()) }),
  membership: Type.Object({ op: Type.Union([Type.Literal('join'), Type.Literal('leave')]), room: Type.String(), userIds: Type.Array(Type.String()) }),
  query: Type.Object({ id: Type.String(), query: Query }),
};
const Answer = Type.Object({ id: Type.String(), nodeId: Type.String(), count: Type.Integer({ minimum: 0 }) });

type ControlEvent = keyof typeof ControlMessages;

export interface ClusterAnswer {
  total: number;
  nodes: Array<{ nodeId: string; count: number }>;
  /** Nodes that answered in time. */
  answered: number;
  /** Nodes the question reached (the bus reply). */
  expected: number;
  complete: boolean;
}

interface Pending {
  answers: Map<string, number>;
  expected: number | undefined;
  done: () => void;
}

const compile = <S extends TSchema>(schema: S): TypeCheck<S> => TypeCompiler.Compile(schema);
const CHECKS: { [K in ControlEvent]: TypeCheck<(typeof ControlMessages)[K]> } = {
  disconnect: compile(ControlMessages.disconnect),
  membership: compile(ControlMessages.membership),
  query: compile(ControlMessages.query),
};
export type MembershipOp = 'join' | 'leave';
const ANSWER_CHECK = compile(Answer);

export class ClusterControl {
  private readonly pending = new Map<string, Pending>();
  private readonly unwatch: Array<() => void> = [];

  private readonly handlers: { [K in ControlEvent]: (data: Static<(typeof ControlMessages)[K]>, message: RoomMessage) => void } = {
    disconnect: (data, message) => {
      // The asking node already disconnected its own sockets.
      if (message.origin === this.nodeId) return;
      const closed = this.sockets.disconnectUser(data.userId, 'kicked', data.detail);
      if (closed > 0) this.log.info({ user: data.userId, closed, by: message.origin }, 'user disconnected by the server API');
    },
    membership: (data, message) => {
      if (message.origin === this.nodeId) return;
      this.applyMembership(data.op, data.room, data.userIds);
    },
    query: (data, message) => {
      const count = this.answer(data.query);
      void this.hub.publish(replyRoom(message.origin), 'answer', { id: data.id, nodeId: this.nodeId, count }).catch((err: unknown) => this.log.warn({ err }, 'control answer not sent'));
    },
  };

  constructor(private readonly hub: RoomHub, private readonly sockets: LocalSockets, private readonly nodeId: string, private readonly log: Logger) {}

  async start(): Promise<void> {
    this.unwatch.push(this.hub.watch(CONTROL_ROOM, (m) => this.onControl(m)));
    this.unwatch.push(this.hub.watch(replyRoom(this.nodeId), (m) => this.onAnswer(m)));
    await Promise.all([this.hub.ready(CONTROL_ROOM), this.hub.ready(replyRoom(this.nodeId))]);
  }

  stop(): void {
    for (const unwatch of this.unwatch.splice(0)) unwatch();
    for (const p of this.pending.values()) p.done();
  }

  /** Closes the user's sockets here now and on every other node when the message arrives. */
  async disconnectUser(userId: string, detail: string | undefined): Promise<{ local: number; nodes: number }> {
    const local = this.sockets.disconnectUser(userId, 'kicked', detail);
    const published = await this.hub.publish(CONTROL_ROOM, 'disconnect', { userId, ...(detail ? { detail } : {}) });
    return { local, nodes: published.nodes };
  }

  /** Joins (or removes) the users' current connections to a room, here now and on every other node. */
  async membership(op: MembershipOp, room: string, userIds: string[]): Promise<{ local: number; nodes: number }> {
    const local = this.applyMembership(op, room, userIds);
    const published = await this.hub.publish(CONTROL_ROOM, 'membership', { op, room, userIds });
    return { local, nodes: published.nodes };
  }

  private readonly membershipOps: Record<MembershipOp, (userId: string, room: string) => number> = {
    join: (userId, room) => this.sockets.joinUser(userId, room),
    leave: (userId, room) => this.sockets.leaveUser(userId, room),
  };

  private applyMembership(op: MembershipOp, room: string, userIds: string[]): number {
    return userIds.reduce((sum, userId) => sum + this.membershipOps[op](userId, room), 0);
  }

  /** Asks every node; resolves when all answered or after `timeoutMs` with what arrived. */
  async ask(query: ClusterQuery, timeoutMs: number): Promise<ClusterAnswer> {
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const entry: Pending = { answers: new Map(), expected: undefined, done: () => {} };
    const finished = new Promise<void>((resolve) => {
      entry.done = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    this.pending.set(id, entry);
    try {
      const published = await this.hub.publish(CONTROL_ROOM, 'query', { id, query });
      entry.expected = published.nodes;
      if (entry.answers.size >= entry.expected) entry.done();
      await finished;
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
    const nodes = [...entry.answers].map(([nodeId, count]) => ({ nodeId, count })).sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    const expected = entry.expected ?? 0;
    return { total: nodes.reduce((s, n) => s + n.count, 0), nodes, answered: nodes.length, expected, complete: nodes.length >= expected };
  }

  /** What this node counts for each kind of query. */
  private readonly answers: { [K in ClusterQuery['kind']]: (query: Extract<ClusterQuery, { kind: K }>) => number } = {
    presence: (q) => this.sockets.sessionsOf(q.userId).length,
    occupancy: (q) => this.hub.localMembers(q.room),
  };

  private answer(query: ClusterQuery): number {
    return (this.answers[query.kind] as (q: ClusterQuery) => number)(query);
  }

  private onControl(message: RoomMessage): void {
    if (!Object.hasOwn(CHECKS, message.event)) return;
    const event = message.event as ControlEvent;
    if (!CHECKS[event].Check(message.data)) {
      this.log.warn({ event, origin: message.origin }, 'malformed control message ignored');
      return;
    }
    (this.handlers[event] as (data: unknown, m: RoomMessage) => void)(message.data, message);
  }

  private onAnswer(message: RoomMessage): void {
    if (message.event !== 'answer' || !ANSWER_CHECK.Check(message.data)) return;
    const pending = this.pending.get(message.data.id);
    if (!pending) return;
    pending.answers.set(message.data.nodeId, message.data.count);
    if (pending.expected !== undefined && pending.answers.size >= pending.expected) pending.done();
  }
}
