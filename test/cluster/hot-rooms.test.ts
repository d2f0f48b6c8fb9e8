/**
 * Hot rooms on two gateway nodes over one Redis: keyed room state (conflated, latest value, current
 * state in the join ack), the room chat budget with fair sampling, slow mode, and join summaries.
 * Every rule is cluster-wide: the participants are spread over both nodes.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect, fund, metric, ok, startMoneyEnv, uid, type MoneyEnv } from '../money/support.js';
import type { NativeClient, ServerFrame } from '../support/clients.js';
import { makeToken } from '../support/gateway.js';
import { errorCode as httpError, http } from '../support/http.js';

const STATE_INTERVAL_MS = 400;
const BUDGET = 6;
const THRESHOLD = 5;
const NOTABLE_MAX = 3;

interface StateEntry {
  key: string;
  event: string;
  data: Record<string, unknown>;
}

const events = (c: NativeClient, event: string): ServerFrame[] => c.frames.filter((f) => f.event === event);
const dataOf = (f: ServerFrame): Record<string, unknown> => f.data as Record<string, unknown>;

describe('hot rooms across two nodes', () => {
  let env: MoneyEnv;
  const clients: NativeClient[] = [];
  const open = async (node: 0 | 1, userId: string, role?: string): Promise<NativeClient> => {
    const c = await connect(env.gateways[node]!, userId, role);
    clients.push(c);
    return c;
  };
  const join = (c: NativeClient, livestreamId: string) => ok<{ viewers: number; state: StateEntry[] }>(c, 'livestream:join', { livestreamId });
  const chat = (c: NativeClient, livestreamId: string, text: string) => c.request('livestream:chat', { livestreamId, text });
  const sumMetric = async (name: string, labels: string): Promise<number> =>
    (await metric(env.gateways[0]!, name, labels)) + (await metric(env.gateways[1]!, name, labels));

  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2, {
      ROOM_STATE_INTERVAL_MS: String(STATE_INTERVAL_MS),
      ROOM_CHAT_BUDGET: String(BUDGET),
      // One window for the whole test: the budget's arithmetic is exact (windows follow the clock).
      ROOM_CHAT_WINDOW_MS: '3600000',
      ROOM_JOIN_SUMMARY_THRESHOLD: String(THRESHOLD),
      ROOM_JOIN_SUMMARY_INTERVAL_MS: '300',
      ROOM_JOIN_SUMMARY_NOTABLE_MAX: String(NOTABLE_MAX),
    });
  });
  afterAll(async () => {
    for (const c of clients) c.socket.terminate();
    await env?.close();
  });

  it('conflates viewer counts: fewer frames than changes, at most one per interval, the last one exact; a joiner gets the current count in its ack', async () => {
    const livestreamId = uid('conflate');
    const host = await open(0, uid('host'));
    await ok(host, 'livestream:start', { title: 'conflation', livestreamId });
    const watcher = await open(1, uid('watcher'));
    await join(watcher, livestreamId);

    const arrivals: number[] = [];
    watcher.socket.on('message', (raw: Buffer) => {
      if (String(raw).includes('"livestream:viewers"')) arrivals.push(Date.now());
    });
    const viewers = await Promise.all(Array.from({ length: 24 }, (_, i) => open(i % 2 === 0 ? 0 : 1, uid(`v${i}`))));
    await Promise.all(viewers.map((v) => join(v, livestreamId)));
    // The trailing edge: the final total (24 + the watcher) always goes out.
    await watcher.waitFor((f) => f.event === 'livestream:viewers' && dataOf(f)['viewers'] === 25);
    // 24 changes; the frames that carried them are at least the interval apart (one lease per key).
    expect(arrivals.length).toBeLessThan(24);
    const spanMs = arrivals.at(-1)! - arrivals[0]!;
    expect(arrivals.length).toBeLessThanOrEqual(Math.floor(spanMs / STATE_INTERVAL_MS) + 2);

    const late = await open(0, uid('late'));
    const ack = await join(late, livestreamId);
    const count = ack.state.find((e) => e.key === 'viewers');
    expect(count?.event).toBe('livestream:viewers');
    expect([25, 26]).toContain(count?.data['viewers']);

    // Leaves conflate the same way and end on the exact count.
    await Promise.all(viewers.slice(0, 10).map((v) => v.close()));
    await watcher.waitFor((f) => f.event === 'livestream:viewers' && dataOf(f)['viewers'] === 16);
    expect(await sumMetric('livegate_room_state_updates_total', 'key="viewers",outcome="publish"')).toBeGreaterThan(0);
  });

  it('gift totals and top supporters are keyed state: the latest totals reach the room, gift:sent keeps its coalescing, a joiner gets both in its ack', async () => {
    const livestreamId = uid('gifts');
    const host = await open(0, uid('host'));
    await ok(host, 'livestream:start', { title: 'gifts', livestreamId });
    const watcher = await open(1, uid('watcher'));
    await join(watcher, livestreamId);
    const fans = [await open(0, uid('fanA')), await open(1, uid('fanB'))];
    const fanIds: string[] = [];
    for (const fan of fans) {
      const { userId } = await ok<{ userId: string }>(fan, 'session:info', {});
      fanIds.push(userId);
      await fund(env.admin, userId, 1000);
    }
    // fanA: 12 roses (12 coins); fanB: 3 hearts (15 coins), sent concurrently from both nodes.
    await Promise.all([
      ...Array.from({ length: 12 }, () => ok(fans[0]!, 'gift:send', { giftId: 'rose', quantity: 1, livestreamId, idempotencyKey: uid('k') })),
      ...Array.from({ length: 3 }, () => ok(fans[1]!, 'gift:send', { giftId: 'heart', quantity: 1, livestreamId, idempotencyKey: uid('k') })),
    ]);
    const totals = await ok<{ coins: number; gifts: number }>(watcher, 'gift:totals', { livestreamId });
    expect(totals).toMatchObject({ coins: 27, gifts: 15 });
    await watcher.waitFor((f) => f.event === 'livestream:gift_totals' && dataOf(f)['coins'] === 27 && dataOf(f)['gifts'] === 15);
    const board = await watcher.waitFor(
      (f) =>
        f.event === 'livestream:top_supporters' &&
        JSON.stringify(dataOf(f)['entries']) ===
          JSON.stringify([
            { userId: fanIds[1], coins: 15 },
            { userId: fanIds[0], coins: 12 },
          ]),
    );
    expect(dataOf(board)['livestreamId']).toBe(livestreamId);
    expect(events(watcher, 'livestream:gift_totals').length).toBeLessThan(15);
    // gift:sent: every gift is in some frame (coalesced per tick, sender and gift).
    await watcher.waitFor(() => events(watcher, 'gift:sent').reduce((n, f) => n + Number(dataOf(f)['count']), 0) === 15);

    const late = await open(0, uid('late'));
    const ack = await join(late, livestreamId);
    const byKey = Object.fromEntries(ack.state.map((e) => [e.key, e]));
    expect(byKey['gift_totals']).toEqual({ key: 'gift_totals', event: 'livestream:gift_totals', data: { livestreamId, coins: 27, gifts: 15 } });
    expect(byKey['top_supporters']?.data['entries']).toEqual([
      { userId: fanIds[1], coins: 15 },
      { userId: fanIds[0], coins: 12 },
    ]);
    // A resuming viewer (join with lastSeq, e.g. after a reconnect) gets the same state in its ack.
    const resumer = await open(1, uid('resumer'));
    const resumed = await ok<{ resume: { gap: boolean }; state: StateEntry[] }>(resumer, 'livestream:join', { livestreamId, lastSeq: 0 });
    expect(resumed.resume.gap).toBe(true);
    expect(resumed.state.find((e) => e.key === 'gift_totals')?.data).toEqual({ livestreamId, coins: 27, gifts: 15 });
  });

  it("PK scores are keyed state in both hosts' rooms: conflated, the latest score, current in a joiner's ack, gone once the battle ended", async () => {
    const battle = async (durationMs: number) => {
      const [id1, id2, s1, s2] = [uid('h1'), uid('h2'), uid('pk1'), uid('pk2')];
      const host1 = await open(0, id1);
      const host2 = await open(1, id2);
      await ok(host1, 'livestream:start', { title: 'pk 1', livestreamId: s1 });
      await ok(host2, 'livestream:start', { title: 'pk 2', livestreamId: s2 });
      const invited = await ok<{ battleId: string }>(host1, 'pk:invite', { opponentId: id2, durationMs, livestreamId: s1 });
      await ok(host2, 'pk:accept', { battleId: invited.battleId, livestreamId: s2 });
      return { battleId: invited.battleId, s1, s2 };
    };
    const { battleId, s1, s2 } = await battle(600_000);
    const watcher = await open(1, uid('watcher'));
    await join(watcher, s1);
    const fan = await open(0, uid('fan'));
    const { userId: fanId } = await ok<{ userId: string }>(fan, 'session:info', {});
    await fund(env.admin, fanId, 1000);
    await Promise.all([
      ...Array.from({ length: 10 }, () => ok(fan, 'gift:send', { giftId: 'rose', quantity: 1, livestreamId: s1, idempotencyKey: uid('k') })),
      ...Array.from({ length: 2 }, () => ok(fan, 'gift:send', { giftId: 'heart', quantity: 1, livestreamId: s2, idempotencyKey: uid('k') })),
    ]);
    const isFinal = (f: ServerFrame): boolean => f.event === 'pk_battle:score' && dataOf(f)['host1Score'] === 10 && dataOf(f)['host2Score'] === 10;
    await watcher.waitFor(isFinal);
    expect(events(watcher, 'pk_battle:score').length).toBeLessThan(12);
    // A viewer joining the other host's stream (other node) gets the battle's current score at once.
    const late = await open(0, uid('late'));
    const ack = await join(late, s2);
    expect(ack.state.find((e) => e.key === `pk:${battleId}`)).toEqual({
      key: `pk:${battleId}`,
      event: 'pk_battle:score',
      data: { battleId, host1Score: 10, host2Score: 10, endsAt: expect.any(String) },
    });

    // A battle that ended leaves the state (dropped before its end frame goes out).
    const short = await battle(1000);
    const viewer = await open(1, uid('viewer'));
    expect((await join(viewer, short.s1)).state.map((e) => e.key)).toContain(`pk:${short.battleId}`);
    await viewer.waitFor((f) => f.event === 'pk_battle:end', 15_000);
    const after = await open(0, uid('after'));
    expect((await join(after, short.s2)).state.map((e) => e.key)).not.toContain(`pk:${short.battleId}`);
  });

  it('samples chat over the room budget fairly across senders on both nodes; the host is exempt; sampled lines are never delivered', async () => {
    const livestreamId = uid('budget');
    const host = await open(0, uid('host'));
    await ok(host, 'livestream:start', { title: 'budget', livestreamId });
    const flooder = await open(0, uid('flooder'));
    const others = [await open(1, uid('o1')), await open(1, uid('o2')), await open(1, uid('o3'))];
    const watcher = await open(1, uid('watcher'));
    for (const c of [flooder, ...others, watcher]) await join(c, livestreamId);
    const sampledBefore = await sumMetric('livegate_room_chat_total', 'outcome="sampled"');

    // One sender alone gets at most half the budget.
    const flood = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(flooder, livestreamId, `flood ${i}`)));
    expect(flood.every((f) => f.error === undefined)).toBe(true);
    expect(flood.filter((f) => dataOf(f)['broadcast'] === true)).toHaveLength(BUDGET / 2);
    expect(flood.filter((f) => dataOf(f)['broadcast'] === false).map((f) => dataOf(f))).toEqual(
      Array.from({ length: 20 - BUDGET / 2 }, () => ({ livestreamId, broadcast: false })),
    );
    // The other senders (node b) still get their share of the rest of the window...
    const first = await Promise.all(others.map((o, i) => chat(o, livestreamId, `other ${i} first`)));
    expect(first.map((f) => dataOf(f)['broadcast'])).toEqual([true, true, true]);
    // ...and then the window's budget is spent, cluster-wide.
    const second = await Promise.all(others.map((o, i) => chat(o, livestreamId, `other ${i} second`)));
    expect(second.map((f) => dataOf(f)['broadcast'])).toEqual([false, false, false]);
    // The host is exempt.
    const hostLine = await chat(host, livestreamId, 'host line');
    expect(dataOf(hostLine)).toMatchObject({ broadcast: true });

    await watcher.waitFor((f) => f.event === 'livestream:chat' && dataOf(f)['text'] === 'host line');
    const delivered = events(watcher, 'livestream:chat').map((f) => String(dataOf(f)['text']));
    expect(delivered.filter((t) => t.startsWith('flood'))).toHaveLength(BUDGET / 2);
    expect(delivered.filter((t) => t.endsWith('first')).sort()).toEqual(['other 0 first', 'other 1 first', 'other 2 first']);
    expect(delivered.filter((t) => t.endsWith('second'))).toEqual([]);
    expect(delivered).toHaveLength(BUDGET + 1);
    expect((await sumMetric('livegate_room_chat_total', 'outcome="sampled"')) - sampledBefore).toBe(20 - BUDGET / 2 + 3);
  });

  it('slow mode: moderators set it (socket and HTTP), it holds per user across nodes, moderators are exempt, joiners see it', async () => {
    const livestreamId = uid('slow');
    const hostId = uid('host');
    const host = await open(0, hostId);
    await ok(host, 'livestream:start', { title: 'slow', livestreamId });
    const userId = uid('viewer');
    const onA = await open(0, userId);
    const onB = await open(1, userId);
    const watcher = await open(1, uid('watcher'));
    for (const c of [onA, onB, watcher]) await join(c, livestreamId);

    expect((await onA.request('livestream:settings', { livestreamId, slowModeMs: 1000 })).error?.code).toBe('forbidden');
    expect(await ok(host, 'livestream:settings', { livestreamId, slowModeMs: 600_000 })).toEqual({
      livestreamId,
      slowModeMs: 600_000,
      notableJoins: 'followers',
    });
    await watcher.waitFor((f) => f.event === 'livestream:settings' && dataOf(f)['slowModeMs'] === 600_000);

    expect(dataOf(await chat(onA, livestreamId, 'first'))).toMatchObject({ broadcast: true });
    const refused = await chat(onB, livestreamId, 'too soon, other node');
    expect(refused.error?.code).toBe('rate_limited');
    expect(refused.error?.message).toMatch(/retry after \d+ ms/);
    for (const text of ['host 1', 'host 2']) expect(dataOf(await chat(host, livestreamId, text))).toMatchObject({ broadcast: true });
    const slowBefore = await sumMetric('livegate_room_chat_total', 'outcome="slow_mode"');
    expect((await chat(onA, livestreamId, 'again')).error?.code).toBe('rate_limited');
    expect((await sumMetric('livegate_room_chat_total', 'outcome="slow_mode"')) - slowBefore).toBe(1);

    const late = await open(0, uid('late'));
    const ack = await join(late, livestreamId);
    expect(ack.state.find((e) => e.key === 'settings')?.data).toEqual({ livestreamId, slowModeMs: 600_000, notableJoins: 'followers' });

    const path = `/api/livestreams/${livestreamId}/settings`;
    const denied = await http(env.gateways[1]!, 'PATCH', path, { token: await makeToken({ sub: userId }), body: { slowModeMs: 0 } });
    expect([denied.status, httpError(denied)]).toEqual([403, 'forbidden']);
    const off = await http(env.gateways[1]!, 'PATCH', path, { token: await makeToken({ sub: hostId }), body: { slowModeMs: 0 } });
    expect([off.status, off.body]).toEqual([200, { livestreamId, slowModeMs: 0, notableJoins: 'followers' }]);
    expect(dataOf(await chat(onB, livestreamId, 'slow mode off'))).toMatchObject({ broadcast: true });
    await watcher.waitFor((f) => f.event === 'livestream:chat' && dataOf(f)['text'] === 'slow mode off');
    expect(
      events(watcher, 'livestream:chat')
        .map((f) => dataOf(f)['text'])
        .filter((t) => String(t).includes('soon') || t === 'again'),
    ).toEqual([]);
  });

  it('join summaries name the top supporters when the host chooses them', async () => {
    const livestreamId = uid('supporters');
    const hostId = uid('host');
    const host = await open(0, hostId);
    await ok(host, 'livestream:start', { title: 'supporters', livestreamId });
    expect(await ok(host, 'livestream:settings', { livestreamId, notableJoins: 'top_supporters' })).toMatchObject({ notableJoins: 'top_supporters' });
    const crowd = await Promise.all(Array.from({ length: THRESHOLD }, (_, i) => open(i % 2 === 0 ? 0 : 1, uid(`c${i}`))));
    for (const c of crowd) await join(c, livestreamId);
    // A supporter gives before joining; a follower of the host is not notable under this choice.
    const supporterId = uid('supporter');
    const supporter = await open(1, supporterId);
    await fund(env.admin, supporterId, 100);
    await ok(supporter, 'gift:send', { giftId: 'coffee', quantity: 1, livestreamId, idempotencyKey: uid('k') });
    const followerId = uid('follower');
    const follower = await open(0, followerId);
    await ok(follower, 'user:follow', { userId: hostId });
    await Promise.all([join(supporter, livestreamId), join(follower, livestreamId)]);
    const watcher = crowd[0]!;
    const summaries = (): Array<Record<string, unknown>> => events(watcher, 'livestream:presence_summary').map(dataOf);
    await watcher.waitFor(() => summaries().reduce((n, s) => n + Number(s['joined']), 0) >= 2);
    expect(summaries().flatMap((s) => s['notable'] as unknown[])).toEqual([{ userId: supporterId, reason: 'top_supporter' }]);
  });

  it('join storms: per-viewer join frames in a small room, summaries over both nodes with the notable followers once the room is large', async () => {
    const livestreamId = uid('storm');
    const hostId = uid('host');
    const host = await open(0, hostId);
    await ok(host, 'livestream:start', { title: 'storm', livestreamId });
    const early: NativeClient[] = [];
    const earlyIds: string[] = [];
    for (let i = 0; i < THRESHOLD - 1; i++) {
      const id = uid(`early${i}`);
      const c = await open(i % 2 === 0 ? 0 : 1, id);
      await join(c, livestreamId);
      early.push(c);
      earlyIds.push(id);
    }
    const first = early[0]!;
    // Its own join included: the first viewer hears every early join, one frame each.
    await first.waitFor(() => events(first, 'livestream:viewer_joined').length === THRESHOLD - 1);
    expect(
      events(first, 'livestream:viewer_joined')
        .map((f) => String(dataOf(f)['userId']))
        .sort(),
    ).toEqual([...earlyIds].sort());

    const followerIds = [uid('f1'), uid('f2'), uid('f3')];
    const stormIds = [...followerIds, ...Array.from({ length: 7 }, (_, i) => uid(`s${i}`))];
    const storm = await Promise.all(stormIds.map((id, i) => open(i % 2 === 0 ? 0 : 1, id)));
    for (let i = 0; i < followerIds.length; i++) await ok(storm[i]!, 'user:follow', { userId: hostId });
    await Promise.all(storm.map((c) => join(c, livestreamId)));

    const summaries = (): Array<Record<string, unknown>> => events(first, 'livestream:presence_summary').map(dataOf);
    const total = (field: 'joined' | 'left'): number => summaries().reduce((n, s) => n + Number(s[field]), 0);
    await first.waitFor(() => total('joined') === stormIds.length);
    const notable = summaries().flatMap((s) => s['notable'] as Array<{ userId: string; reason: string }>);
    expect(notable.map((n) => n.userId).sort()).toEqual([...followerIds].sort());
    expect(notable.every((n) => n.reason === 'follower')).toBe(true);
    expect(summaries().every((s) => (s['notable'] as unknown[]).length <= NOTABLE_MAX && s['livestreamId'] === livestreamId)).toBe(true);
    const joinedFrames = events(first, 'livestream:viewer_joined').map((f) => dataOf(f)['userId']);
    expect(joinedFrames.filter((id) => stormIds.includes(String(id)))).toEqual([]);

    // The storm leaves: counted in summaries, except leaves that bring the room back under the threshold.
    await Promise.all(storm.map((c) => c.close()));
    const leftFrames = (): number => events(first, 'livestream:viewer_left').filter((f) => stormIds.includes(String(dataOf(f)['userId']))).length;
    await first.waitFor(() => total('left') + leftFrames() === stormIds.length);
    expect(total('left')).toBeGreaterThanOrEqual(stormIds.length - 1);
    expect(await sumMetric('livegate_room_join_frames_total', 'kind="summary"')).toBeGreaterThan(0);
  });
});
