/**
 * Must-show 4: a PK battle whose starting node is killed still ends on time with the right
 * winner; each host's score is the coin value of the gifts they received during the battle.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COLLECTIONS } from '../../src/store/collections.js';
import type { ServerFrame } from '../support/clients.js';
import { connect, createUser, errorCode, eventually, fund, joinStream, metric, ok, startMoneyEnv, startStream, uid, type MoneyEnv } from './support.js';

interface Battle {
  battleId: string;
  status: string;
  host1Score: number;
  host2Score: number;
  endsAt: string;
  startedAt: string;
}

describe('PK battle across a node crash', () => {
  let env: MoneyEnv;
  beforeAll(async () => {
    env = await startMoneyEnv(inject('mongoUrl'), 2);
  });
  afterAll(async () => {
    await env.close();
  });

  it('ends on time with the right winner after the starting node is killed', async () => {
    const [a, b] = [env.gateways[0]!, env.gateways[1]!];
    const host1 = uid('host1');
    const host2 = uid('host2');
    for (const h of [host1, host2]) await createUser(env.db, h);
    const fan1 = uid('fan1');
    const fan2 = uid('fan2');
    await fund(env.admin, fan1, 1000);
    await fund(env.admin, fan2, 1000);
    const h1OnA = await connect(a, host1);
    const h2OnA = await connect(a, host2);
    const h1OnB = await connect(b, host1); // second devices: they watch the battle from the node that survives
    const h2OnB = await connect(b, host2);
    const f1 = await connect(b, fan1);
    const f2 = await connect(b, fan2);
    const gift = (client: typeof f1, recipientId: string, giftId: string, quantity: number) =>
      ok(client, 'gift:send', { giftId, quantity, recipientId, context: 'profile', idempotencyKey: uid('k') });

    await gift(f1, host1, 'rose', 5); // before the battle: does not count
    const invited = await ok<Battle>(h1OnA, 'pk:invite', { opponentId: host2, durationMs: 3000 });
    expect(invited.status).toBe('pending');
    const invitation = await h2OnB.waitFor((f) => f.event === 'pk_battle:invite'); // crossed nodes on the bus
    expect(invitation.data).toMatchObject({ battleId: invited.battleId, host1Id: host1, host2Id: host2 });
    await gift(f2, host2, 'coffee', 1); // pending: does not count
    const started = await ok<Battle>(h2OnA, 'pk:accept', { battleId: invited.battleId });
    expect(started.status).toBe('active');
    expect(Date.parse(started.endsAt) - Date.parse(started.startedAt)).toBe(3000);

    await a.kill(); // the node that started the battle dies

    await gift(f1, host1, 'star', 2); // 66
    await gift(f2, host2, 'heart', 3); // 15
    await gift(f2, host2, 'coffee', 2); // 20
    for (let i = 0; i < 20; i++) await gift(f2, host2, 'rose', 1); // 20 more, one by one: score frames are throttled

    const end = await h1OnB.waitFor((f) => f.event === 'pk_battle:end', 10_000);
    const result = end.data as { winnerId: string; host1Score: number; host2Score: number; result: string; endsAt: string; endedAt: string };
    expect(result).toMatchObject({ winnerId: host1, result: 'win', host1Score: 66, host2Score: 55 });
    expect(result.endsAt).toBe(started.endsAt);
    const lateMs = Date.parse(result.endedAt) - Date.parse(result.endsAt);
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1000);
    expect((await h2OnB.waitFor((f) => f.event === 'pk_battle:end')).data).toEqual(result);

    // Live scores reached both hosts' rooms, throttled, and the last one is the final score.
    const scores = h1OnB.frames.filter((f: ServerFrame) => f.event === 'pk_battle:score').map((f) => f.data as Battle);
    expect(scores.length).toBeGreaterThanOrEqual(1);
    expect(scores.length).toBeLessThanOrEqual(Math.ceil(3000 / 200) + 1);
    expect(scores.at(-1)).toMatchObject({ battleId: started.battleId, host1Score: 66, host2Score: 55, endsAt: started.endsAt });
    expect(await metric(b, 'livegate_pk_battles_ended_total', 'result="win"')).toBe(1);

    // After the end nothing changes the battle; the winner is ranked; MongoDB has the result.
    await gift(f2, host2, 'star', 1);
    await gift(f1, host1, 'star', 1);
    expect(await ok<Battle>(f1, 'pk:get', { battleId: started.battleId })).toMatchObject({ status: 'ended', host1Score: 66, host2Score: 55 });
    expect((await ok<{ entries: Array<{ userId: string; wins: number }> }>(f1, 'pk:rankings', {})).entries).toContainEqual({ userId: host1, wins: 1 });
    const doc = await eventually(
      () => env.db.collection(COLLECTIONS.pkBattles).findOne({ _id: started.battleId as unknown as never }),
      (d) => d?.['status'] === 'ended',
    );
    expect(doc).toMatchObject({ status: 'ended', winnerId: host1, host1Score: 66, host2Score: 55, durationMs: 3000, result: 'win' });
    expect(await metric(b, 'livegate_pk_battles_active')).toBe(0);

    for (const c of [h1OnB, h2OnB, f1, f2]) await c.close();
  });

  it('sends the battle to both stream rooms and calls equal scores a tie', async () => {
    const b = env.gateways[1]!; // the first node was killed above
    const [host1, host2] = [uid('host1'), uid('host2')];
    const [stream1, stream2] = [uid('s1'), uid('s2')];
    const h1 = await connect(b, host1);
    const h2 = await connect(b, host2);
    await startStream(h1, stream1);
    await startStream(h2, stream2);
    const viewer1 = await connect(b, uid('viewer'));
    const viewer2 = await connect(b, uid('viewer'));
    await joinStream(viewer1, stream1);
    await joinStream(viewer2, stream2);
    const fan = uid('fan');
    const admin = await connect(b, uid('admin'), 'admin'); // env.admin was on the killed node
    await fund(admin, fan, 100);
    await admin.close();
    const fanClient = await connect(b, fan);

    const invited = await ok<Battle>(h1, 'pk:invite', { opponentId: host2, durationMs: 2000, livestreamId: stream1 });
    expect(errorCode(await viewer1.request('pk:accept', { battleId: invited.battleId }))).toBe('forbidden');
    await ok(h2, 'pk:accept', { battleId: invited.battleId, livestreamId: stream2 });
    for (const v of [viewer1, viewer2])
      expect((await v.waitFor((f) => f.event === 'pk_battle:start')).data).toMatchObject({ battleId: invited.battleId, livestreamIds: [stream1, stream2] });

    await ok(fanClient, 'gift:send', { giftId: 'coffee', quantity: 1, livestreamId: stream1, idempotencyKey: uid('k') });
    await ok(fanClient, 'gift:send', { giftId: 'heart', quantity: 2, livestreamId: stream2, idempotencyKey: uid('k') });
    for (const v of [viewer1, viewer2]) {
      await v.waitFor((f) => f.event === 'pk_battle:score' && (f.data as Battle).host1Score === 10 && (f.data as Battle).host2Score === 10);
      const end = await v.waitFor((f) => f.event === 'pk_battle:end', 8000);
      expect(end.data).toMatchObject({ battleId: invited.battleId, result: 'tie', winnerId: null, host1Score: 10, host2Score: 10 });
    }
    const rankings = (await ok<{ entries: Array<{ userId: string }> }>(fanClient, 'pk:rankings', {})).entries.map((e) => e.userId);
    expect(rankings).not.toContain(host1);
    expect(rankings).not.toContain(host2);
    // Both hosts are free again.
    expect((await ok<Battle>(h2, 'pk:invite', { opponentId: host1, durationMs: 5000 })).status).toBe('pending');
    for (const c of [h1, h2, viewer1, viewer2, fanClient]) await c.close();
  });
});
