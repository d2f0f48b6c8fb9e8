import { Counter, type Registry } from 'prom-client';

/** Hot-room metrics of the livestream domain: chat admission and join summaries. */
export class HotRoomMetrics {
  readonly chat: Counter<'outcome'>;
  readonly joinFrames: Counter<'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.chat = new Counter({
      name: 'livegate_room_chat_total',
      help: 'livestream:chat lines decided on this node: broadcast, sampled (over the room budget, not broadcast), slow_mode (refused, rate_limited)',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.joinFrames = new Counter({
      name: 'livegate_room_join_frames_total',
      help: 'Join/leave frames published by this node: viewer (one per join or leave, small rooms), summary (livestream:presence_summary of a large room), folded (joins and leaves counted into a summary)',
      labelNames: ['kind'] as const,
      registers,
    });
  }
}
