/**
 * Cluster control over the bus. Every node watches `sys:bridge:control`. A command (disconnect a
 * user, change room membership, count a user's connections or a room's members) runs on the
 * asking node at once, then goes to every other node as `command {id, command}`; each runs it and
 * answers `answer {id, nodeId, count}` on the asker's `sys:bridge:reply:<nodeId>`. The control
 * publish reports how many nodes took it, which is how many answers the asker waits for (until a
 * timeout; the result then says how many answered). When the call returns complete, every node
 * has applied the command.
 */
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Logger } from 'pino';
import type { LocalSockets } from '../../core.js';
import type { RoomMessage } from '../../rooms/bus.js';
import type { RoomHub } from '../../rooms/hub.js';

export const CONTROL_ROOM = 'sys:bridge:control';
export const replyRoom = (nodeId: string): string => `sys:bridge:reply:${nodeId}`;

const Command = Type.Union([
  Type.Object({ kind: Type.Literal('presence'), userId: Type.String() }),
  Type.Object({ kind: Type.Literal('occupancy'), room: Type.String() }),
  Type.Object({ kind: Type.Literal('disconnect'), userId: Type.String(), detail: Type.Optional(Type.String()) }),
  Type.Object({
    kind: Type.Literal('membership'),
    op: Type.Union([Type.Literal('join'), Type.Literal('leave')]),
    room: Type.String(),
    userIds: Type.Array(Type.String()),
  }),
]);
export type ClusterCommand = Static<typeof Command>;
type CommandKind = ClusterCommand['kind'];

const checkCommand = TypeCompiler.Compile(Type.Object({ id: Type.String(), command: Command }));
const checkAnswer = TypeCompiler.Compile(Type.Object({ id: Type.String(), nodeId: Type.String(), count: Type.Integer({ minimum: 0 }) }));

export interface ClusterAnswer {
  /** Sum of the nodes' counts (connections, members, sessions closed, connections moved). */
  total: number;
  nodes: Array<{ nodeId: string; count: number }>;
  /** Nodes that answered in time (this one included). */
  answered: number;
  /** Nodes the command reached (the bus reply). */
  expected: number;
  complete: boolean;
}

interface Pending {
  answers: Map<string, number>;
  expected: number | undefined;
  done: () => void;
}

export class ClusterControl {
  private readonly pending = new Map<string, Pending>();
  private readonly unwatch: Array<() => void> = [];

  /** What each command does on one node; the number is that node's answer. */
  private readonly run: { [K in CommandKind]: (command: Extract<ClusterCommand, { kind: K }>) => number } = {
    presence: (c) => this.sockets.sessionsOf(c.userId).length,
    occupancy: (c) => this.hub.localMembers(c.room),
    disconnect: (c) => this.sockets.disconnectUser(c.userId, 'kicked', c.detail),
    membership: (c) =>
      c.userIds.reduce((sum, userId) => sum + (c.op === 'join' ? this.sockets.joinUser(userId, c.room) : this.sockets.leaveUser(userId, c.room)), 0),
  };

  constructor(
    private readonly hub: RoomHub,
    private readonly sockets: LocalSockets,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.unwatch.push(this.hub.watch(CONTROL_ROOM, (m) => this.onCommand(m)));
    this.unwatch.push(this.hub.watch(replyRoom(this.nodeId), (m) => this.onAnswer(m)));
    await Promise.all([this.hub.ready(CONTROL_ROOM), this.hub.ready(replyRoom(this.nodeId))]);
  }

  stop(): void {
    for (const unwatch of this.unwatch.splice(0)) unwatch();
    for (const p of this.pending.values()) p.done();
  }

  /** Runs the command here, then on every node; resolves when all answered or after `timeoutMs`. */
  async ask(command: ClusterCommand, timeoutMs: number): Promise<ClusterAnswer> {
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const entry: Pending = { answers: new Map(), expected: undefined, done: () => {} };
    const finished = new Promise<void>((resolve) => {
      entry.done = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    this.pending.set(id, entry);
    try {
      entry.answers.set(this.nodeId, this.execute(command));
      const published = await this.hub.publish(CONTROL_ROOM, 'command', { id, command });
      entry.expected = Math.max(1, published.nodes);
      if (entry.answers.size >= entry.expected) entry.done();
      await finished;
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
    const nodes = [...entry.answers].map(([nodeId, count]) => ({ nodeId, count })).sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    const expected = entry.expected ?? 1;
    return { total: nodes.reduce((s, n) => s + n.count, 0), nodes, answered: nodes.length, expected, complete: nodes.length >= expected };
  }

  private execute(command: ClusterCommand): number {
    return (this.run[command.kind] as (c: ClusterCommand) => number)(command);
  }

  private onCommand(message: RoomMessage): void {
    // The asking node ran it already.
    if (message.origin === this.nodeId || message.event !== 'command') return;
    if (!checkCommand.Check(message.data)) {
      this.log.warn({ origin: message.origin }, 'malformed control command ignored');
      return;
    }
    const { id, command } = message.data;
    const count = this.execute(command);
    if (command.kind === 'disconnect' && count > 0)
      this.log.info({ user: command.userId, closed: count, by: message.origin }, 'user disconnected by the server API');
    void this.hub
      .publish(replyRoom(message.origin), 'answer', { id, nodeId: this.nodeId, count })
      .catch((err: unknown) => this.log.warn({ err }, 'control answer not sent'));
  }

  private onAnswer(message: RoomMessage): void {
    if (message.event !== 'answer' || !checkAnswer.Check(message.data)) return;
    const pending = this.pending.get(message.data.id);
    if (!pending) return;
    pending.answers.set(message.data.nodeId, message.data.count);
    if (pending.expected !== undefined && pending.answers.size >= pending.expected) pending.done();
  }
}
