/**
 * Gift bursts reach a room as one `gift:sent` frame per tick per (sender, gift), not one per send.
 * Sends accepted on this node are folded into the pending frame of their key; every tick the
 * pending frames are published. Per-gift stream totals come from gift-send.lua (exact, cluster-wide)
 * and each frame carries the latest ones it saw, so a client shows max(totals) and is exact.
 */
import { randomBytes } from 'node:crypto';
import { userRoom } from '../../kernel/rooms.js';
import { isoMs } from '../../kernel/schemas.js';
import type { RoomSend } from '../../rooms/hub.js';
import { livestreamRoom } from '../wallets/keys.js';
import type { GiftRecord } from '../wallets/ledger.js';
import type { MoneyMetrics } from '../wallets/metrics.js';
import type { Gift } from './model.js';

export interface GiftSentFrame {
  livestreamId: string | null;
  recipientId: string;
  /** null for anonymous gifts. */
  sender: { userId: string } | null;
  giftId: string;
  giftName: string;
  giftIcon: string;
  animation: string;
  rarity: string;
  /** Gifts folded into this frame (sum of quantities). */
  count: number;
  /** Coins of the gifts in this frame. */
  coins: number;
  /** gift:send requests folded into this frame. */
  sends: number;
  /** The running combo: consecutive sends of this gift by this sender with gaps under GIFT_COMBO_WINDOW_MS. */
  combo: { id: string; count: number };
  /** Exact stream totals after the newest send in the frame (null outside a stream). */
  totals: { giftCount: number; giftCoins: number; streamCoins: number; streamGifts: number } | null;
  message: string | null;
  /** When the newest send in the frame happened (ISO 8601 UTC). */
  sentAt: string;
}

interface Combo {
  id: string;
  count: number;
  lastTs: number;
}

export class GiftCoalescer {
  private readonly pending = new Map<string, { room: string; frame: GiftSentFrame }>();
  private readonly combos = new Map<string, Combo>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly publish: RoomSend,
    private readonly tickMs: number,
    private readonly comboWindowMs: number,
    private readonly metrics: MoneyMetrics,
  ) {}

  add(record: GiftRecord, gift: Gift): void {
    const room = record.livestreamId ? livestreamRoom(record.livestreamId) : userRoom(record.recipientId);
    const comboKey = `${room}|${record.senderId}|${record.giftId}`;
    let combo = this.combos.get(comboKey);
    if (!combo || record.ts - combo.lastTs > this.comboWindowMs) {
      combo = { id: randomBytes(6).toString('base64url'), count: 0, lastTs: record.ts };
      this.combos.set(comboKey, combo);
    }
    combo.count += record.quantity;
    combo.lastTs = Math.max(combo.lastTs, record.ts);

    const key = `${comboKey}|${record.isAnonymous ? 'anon' : 'named'}`;
    const totals =
      record.giftCount !== undefined
        ? { giftCount: record.giftCount, giftCoins: record.giftCoins ?? 0, streamCoins: record.streamCoins ?? 0, streamGifts: record.streamGifts ?? 0 }
        : null;
    const entry = this.pending.get(key);
    if (entry) {
      const f = entry.frame;
      f.count += record.quantity;
      f.coins += record.totalCost;
      f.sends += 1;
      f.combo = { id: combo.id, count: combo.count };
      if (totals && (!f.totals || totals.streamGifts > f.totals.streamGifts)) f.totals = totals;
      if (record.message) f.message = record.message;
      if (record.ts > Date.parse(f.sentAt)) f.sentAt = isoMs(record.ts);
    } else {
      this.pending.set(key, {
        room,
        frame: {
          livestreamId: record.livestreamId,
          recipientId: record.recipientId,
          sender: record.isAnonymous ? null : { userId: record.senderId },
          giftId: record.giftId,
          giftName: gift.name,
          giftIcon: gift.icon,
          animation: gift.animation,
          rarity: gift.rarity,
          count: record.quantity,
          coins: record.totalCost,
          sends: 1,
          combo: { id: combo.id, count: combo.count },
          totals,
          message: record.message,
          sentAt: isoMs(record.ts),
        },
      });
    }
    this.metrics.giftSendsCoalesced.inc();
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.tickMs);
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    for (const { room, frame } of this.pending.values()) {
      this.publish(room, 'gift:sent', frame);
      this.metrics.giftFrames.inc();
    }
    this.pending.clear();
    for (const [key, combo] of this.combos) if (now - combo.lastTs > this.comboWindowMs * 2) this.combos.delete(key);
  }

  stop(): void {
    this.flush();
  }
}
