/**
 * The money path tells the backend: `gift.sent` for every accepted gift (not for replays) and
 * `pk_battle.ended` once per battle, signed like every webhook (docs/BRIDGE.md).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/handlers/bridge/webhooks/signature.js';
import { WebhookReceiver } from '../bridge/webhook-receiver.js';
import { connect, createUser, fund, ok, startMoneyEnv, uid, type MoneyEnv } from './support.js';

const SECRET = 'money-webhook-secret-0123456789';

interface Body {
  type: string;
  data: Record<string, unknown>;
}

describe('money webhooks', () => {
  let env: MoneyEnv;
  const receiver = new WebhookReceiver();
  beforeAll(async () => {
    await receiver.up();
    env = await startMoneyEnv(inject('mongoUrl'), 1, { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_EVENTS: 'gift.sent,pk_battle.ended' });
  });
  afterAll(async () => {
    await env.close();
    await receiver.close();
  });

  it('delivers gift.sent once per accepted gift and pk_battle.ended with the winner, signed', async () => {
    const [gw] = env.gateways;
    const host1 = uid('host1');
    const host2 = uid('host2');
    for (const h of [host1, host2]) await createUser(env.db, h);
    const fan = uid('fan');
    await fund(env.admin, fan, 1000);
    const h1 = await connect(gw!, host1);
    const h2 = await connect(gw!, host2);
    const f = await connect(gw!, fan);

    const key = uid('k');
    const first = await ok<{ giftTransactionId: string }>(f, 'gift:send', {
      giftId: 'rose',
      quantity: 2,
      recipientId: host1,
      context: 'profile',
      idempotencyKey: key,
    });
    await ok(f, 'gift:send', { giftId: 'rose', quantity: 2, recipientId: host1, context: 'profile', idempotencyKey: key }); // a replay: no second webhook

    const battle = await ok<{ battleId: string }>(h1, 'pk:invite', { opponentId: host2, durationMs: 1000 });
    await ok(h2, 'pk:accept', { battleId: battle.battleId });
    await ok(f, 'gift:send', { giftId: 'star', quantity: 1, recipientId: host2, context: 'profile', idempotencyKey: uid('k') });
    await h1.waitFor((fr) => fr.event === 'pk_battle:end', 10_000);

    await receiver.waitForCount(3, 20_000);
    const bodies = receiver.deliveries.map((d) => {
      expect(verifyWebhookSignature(SECRET, d.body, d.headers['x-livegate-signature'] as string | undefined).ok).toBe(true);
      return JSON.parse(d.body) as Body;
    });
    const gifts = bodies.filter((b) => b.type === 'gift.sent');
    expect(gifts).toHaveLength(2);
    expect(gifts[0]!.data).toMatchObject({
      giftTransactionId: first.giftTransactionId,
      senderId: fan,
      receiverId: host1,
      giftId: 'rose',
      quantity: 2,
      coins: 2,
    });
    const ended = bodies.filter((b) => b.type === 'pk_battle.ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]!.data).toMatchObject({ battleId: battle.battleId, winnerId: host2, result: 'win', host1Score: 0 });
    await Promise.all([h1.close(), h2.close(), f.close()]);
  }, 60_000);
});
