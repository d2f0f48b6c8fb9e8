/**
 * Must-show 3: a 1,000-gift burst into one stream reaches its viewers (on both nodes) in far fewer
 * `gift:sent` frames than gifts, and the counts and totals are exact.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GiftSentFrame } from '../../src/handlers/gifts/coalescer.js';
import type { NativeClient } from '../support/clients.js';
import { connect, eventually, fund, metric, ok, startMoneyEnv, startStream, joinStream, uid, type MoneyEnv } from './support.js';

const SENDERS = 10;
const GIFTS_PER_SENDER = 100;
const PRICES: Record<string, number> = { rose: 1, heart: 5 };

describe('a 1,000-gift burst into one stream', () => {
  let env: MoneyEnv;
  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2);
  });
  afterAll(async () => {
    await env.close();
  });

  it('is coalesced into few frames with exact totals', async () => {
    const [a, b] = [env.gateways[0]!, env.gateways[1]!];
    const host = await connect(a, uid('host'));
    const livestreamId = uid('stream');
    await startStream(host, livestreamId);
    const viewers: NativeClient[] = [];
    for (let i = 0; i < 6; i++) {
      const viewer = await connect(i % 2 ? b : a, uid('viewer'));
      await joinStream(viewer, livestreamId);
      viewers.push(viewer);
    }

    const senders: Array<{ id: string; client: NativeClient }> = [];
    for (let i = 0; i < SENDERS; i++) {
      const id = uid('fan');
      await fund(env.admin, id, 1000);
      senders.push({ id, client: await connect(i % 2 ? b : a, id) });
    }

    // Every sender fires 100 gifts without waiting: even senders roses, odd senders alternate rose/heart.
    const expected = { rose: 0, heart: 0 };
    const spentBy = new Map<string, number>();
    const requests = senders.flatMap(({ id, client }, s) =>
      Array.from({ length: GIFTS_PER_SENDER }, (_, g) => {
        const giftId = s % 2 === 1 && g % 2 === 1 ? 'heart' : 'rose';
        expected[giftId] += 1;
        spentBy.set(id, (spentBy.get(id) ?? 0) + PRICES[giftId]!);
        return client.request('gift:send', { giftId, quantity: 1, livestreamId: livestreamId, idempotencyKey: uid('k') });
      }),
    );
    const acks = await Promise.all(requests);
    expect(acks.filter((r) => r.error)).toEqual([]);
    const total = SENDERS * GIFTS_PER_SENDER;
    const coins = expected.rose * PRICES['rose']! + expected.heart * PRICES['heart']!;

    const giftFrames = (v: NativeClient) => v.frames.filter((f) => f.event === 'gift:sent').map((f) => f.data as GiftSentFrame);
    for (const viewer of viewers) {
      await eventually(
        async () => giftFrames(viewer).reduce((n, f) => n + f.count, 0),
        (n) => n >= total,
      );
      const frames = giftFrames(viewer);
      expect(frames.reduce((n, f) => n + f.count, 0)).toBe(total);
      expect(frames.reduce((n, f) => n + f.coins, 0)).toBe(coins);
      expect(frames.length).toBeLessThan(total / 5);
      // Exact per-gift totals: the largest totals seen are the stream's final ones.
      const last = frames.reduce((best, f) => ((f.totals?.streamGifts ?? 0) > (best.totals?.streamGifts ?? 0) ? f : best));
      expect(last.totals).toMatchObject({ streamGifts: total, streamCoins: coins });
      const maxOf = (giftId: string) => Math.max(...frames.filter((f) => f.giftId === giftId).map((f) => f.totals?.giftCount ?? 0));
      expect(maxOf('rose')).toBe(expected.rose);
      expect(maxOf('heart')).toBe(expected.heart);
      // Per sender and gift, the frames add up to what that sender sent.
      for (const { id } of senders) {
        const mine = frames.filter((f) => f.sender?.userId === id);
        expect(mine.reduce((n, f) => n + f.coins, 0)).toBe(spentBy.get(id));
      }
    }
    const frameCount = giftFrames(viewers[0]!).length;
    console.log(`${total} gifts reached each viewer in ${frameCount} gift:sent frames (${(total / frameCount).toFixed(1)} gifts per frame)`);

    const totals = await ok<{ coins: number; gifts: number; byGift: Record<string, { count: number; coins: number }> }>(host, 'gift:totals', {
      livestreamId: livestreamId,
    });
    expect(totals).toMatchObject({
      coins,
      gifts: total,
      byGift: { rose: { count: expected.rose, coins: expected.rose }, heart: { count: expected.heart, coins: expected.heart * 5 } },
    });
    const board = await ok<{ entries: Array<{ userId: string; coins: number }> }>(host, 'gift:leaderboard', { livestreamId: livestreamId, limit: 20 });
    expect(board.entries).toHaveLength(SENDERS);
    for (const entry of board.entries) expect(entry.coins).toBe(spentBy.get(entry.userId));

    const sends = (await metric(a, 'livegate_gift_sends_coalesced_total')) + (await metric(b, 'livegate_gift_sends_coalesced_total'));
    const published = (await metric(a, 'livegate_gift_frames_total')) + (await metric(b, 'livegate_gift_frames_total'));
    expect(sends).toBe(total);
    expect(published).toBe(frameCount);

    for (const c of [host, ...viewers, ...senders.map((s) => s.client)]) await c.close();
  });
});
