/**
 * A stream's gift totals and top supporters as keyed room state (core.roomState): each accepted
 * gift to a stream marks both keys; the room gets `livestream:gift_totals` and
 * `livestream:top_supporters` at most once per ROOM_STATE_INTERVAL_MS cluster-wide, with the
 * values read from Redis when they go out (gift-send.lua keeps them exact). `gift:sent` frames
 * keep their own coalescing (coalescer.ts).
 */
import type { Redis } from 'ioredis';
import { versionOf, type RoomState, type VersionedFrame } from '../../rooms/room-state.js';
import { livestreamRoom, moneyKeys } from '../wallets/keys.js';
import type { GiftRecord } from '../wallets/ledger.js';

export function streamGiftState(roomState: RoomState, redis: Redis, topSupporters: number): (record: GiftRecord) => void {
  const totals = async (livestreamId: string): Promise<VersionedFrame> => {
    const [[, values], [, time]] = ((await redis.multi().hmget(moneyKeys.streamTotals(livestreamId), 'coins', 'gifts').time().exec()) ?? []) as [
      [unknown, Array<string | null>],
      [unknown, unknown],
    ];
    const [coins, gifts] = values ?? [];
    return { event: 'livestream:gift_totals', data: { livestreamId, coins: Number(coins ?? 0), gifts: Number(gifts ?? 0) }, version: versionOf(time) };
  };
  const supporters = async (livestreamId: string): Promise<VersionedFrame> => {
    const [[, flat], [, time]] = ((await redis
      .multi()
      .zrevrange(moneyKeys.streamBoard(livestreamId), 0, topSupporters - 1, 'WITHSCORES')
      .time()
      .exec()) ?? []) as [[unknown, string[]], [unknown, unknown]];
    const entries: Array<{ userId: string; coins: number }> = [];
    for (let i = 0; i + 1 < (flat ?? []).length; i += 2) entries.push({ userId: flat[i]!, coins: Number(flat[i + 1]) });
    return { event: 'livestream:top_supporters', data: { livestreamId, entries }, version: versionOf(time) };
  };
  return (record) => {
    const id = record.livestreamId;
    if (!id) return;
    const room = livestreamRoom(id);
    roomState.changed(room, 'gift_totals', () => totals(id));
    roomState.changed(room, 'top_supporters', () => supporters(id));
  };
}
