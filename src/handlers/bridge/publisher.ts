/**
 * Server publishes: a target (user, users, room, everyone) becomes the rooms it means, each gets
 * one hub.publish, and the report says how many nodes took each one.
 */
import { AppError } from '../../kernel/errors.js';
import { BROADCAST_ROOM, userRoom } from '../../kernel/rooms.js';
import type { RoomHub } from '../../rooms/hub.js';
import type { BridgeMetrics } from './metrics.js';

export type Target = { kind: 'user'; userId: string } | { kind: 'users'; userIds: string[] } | { kind: 'room'; room: string } | { kind: 'all' };
export type TargetKind = Target['kind'];

export interface PublishRequest {
  target: Target;
  event: string;
  data: unknown;
}

export interface PublishReport {
  published: Array<{ room: string; seq: number; nodes: number }>;
  /** Sum over the rooms of the nodes that took the event. */
  nodes: number;
}

const ROOMS: { [K in TargetKind]: (target: Extract<Target, { kind: K }>) => string[] } = {
  user: (t) => [userRoom(t.userId)],
  users: (t) => [...new Set(t.userIds)].map(userRoom),
  room: (t) => [t.room],
  all: () => [BROADCAST_ROOM],
};

export const roomsOf = <K extends TargetKind>(target: Extract<Target, { kind: K }>): string[] => (ROOMS[target.kind] as (t: typeof target) => string[])(target);

export class Publisher {
  constructor(
    private readonly hub: RoomHub,
    private readonly metrics: BridgeMetrics,
    private readonly maxEventBytes: number,
  ) {}

  /** Throws if the payload is too large; call for every item before publishing any (batches are all or nothing). */
  check(request: PublishRequest): void {
    const bytes = Buffer.byteLength(JSON.stringify(request.data ?? null) ?? 'null');
    if (bytes > this.maxEventBytes) throw new AppError('payload_too_large', `data of "${request.event}" is ${bytes} bytes; the limit is ${this.maxEventBytes}`);
  }

  async publish(request: PublishRequest): Promise<PublishReport> {
    const kind = request.target.kind;
    const published = await Promise.all(
      roomsOf(request.target).map(async (room) => {
        const message = await this.hub.publish(room, request.event, request.data ?? null);
        return { room, seq: message.seq, nodes: message.nodes };
      }),
    );
    const nodes = published.reduce((sum, p) => sum + p.nodes, 0);
    this.metrics.publishes.inc({ kind, outcome: 'accepted' }, published.length);
    this.metrics.publishNodes.inc({ kind }, nodes);
    return { published, nodes };
  }

  refused(kind: TargetKind | 'batch' | 'emitter'): void {
    this.metrics.publishes.inc({ kind, outcome: 'refused' });
  }
}
