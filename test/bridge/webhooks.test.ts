import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/handlers/bridge/webhooks/signature.js';
import type { WebhookEvent } from '../../src/kernel/webhooks.js';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { removeDir, startRedis } from '../support/services.js';
import { metric } from './helpers.js';
import { WebhookReceiver } from './webhook-receiver.js';

const SECRET = 'whsec-test-0123456789abcdef';
const STREAM = 'livegate:webhooks';
const DOWN_MS = 30_000;

describe('webhooks: durable, signed, ordered per source', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let watcher: Redis;
  const receiver = new WebhookReceiver();
  const nodes: GatewayProcess[] = [];

  beforeAll(async () => {
    // A Redis of its own: the webhook stream and leases are cluster-global keys.
    redis = await startRedis();
    watcher = new Redis(redis.url);
    await receiver.up();
    const env = {
      REDIS_URL: redis.url,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_RETRY_MAX_MS: '2000',
      WEBHOOK_TIMEOUT_MS: '2000',
    };
    nodes.push(await startGateway({ ...env, NODE_ID: `wh-a-${process.pid}` }), await startGateway({ ...env, NODE_ID: `wh-b-${process.pid}` }));
  });
  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await receiver.close();
    watcher.disconnect();
    await redis.stop();
    removeDir(redis.dir);
  });

  /** Resolves with the next entry appended to the webhook stream after `afterId` (XREAD BLOCK: no polling). */
  async function nextEntry(afterId: string): Promise<{ id: string; event: WebhookEvent }> {
    const reply = (await watcher.xread('BLOCK', 10_000, 'STREAMS', STREAM, afterId)) as Array<[string, Array<[string, string[]]>]> | null;
    const entry = reply?.[0]?.[1]?.[0];
    if (!entry) throw new Error(`no webhook queued after ${afterId}`);
    return { id: entry[0], event: JSON.parse(entry[1][1]!) as WebhookEvent };
  }

  it('a receiver down for 30 s gets every event afterwards, signed, in order per source, even after the deliverer crashed', { timeout: 120_000 }, async () => {
    const [a, b] = nodes as [GatewayProcess, GatewayProcess];
    // Up: a first event arrives signed.
    const first = await NativeClient.connect(a.ws, { token: await makeToken({ sub: 'wh-u0' }) });
    await receiver.waitForCount(1, 10_000);
    const hello = receiver.deliveries[0]!;
    expect(hello.headers['x-livegate-event']).toBe('user.online');
    expect(verifyWebhookSignature(SECRET, hello.body, hello.headers[SIGNATURE_HEADER] as string)).toMatchObject({ ok: true });
    await first.close();
    await receiver.waitForCount(2, 10_000);

    await receiver.down();
    const downAt = Date.now();

    // While down: four users each come online and go offline twice, alternating nodes.
    const users = ['wh-u1', 'wh-u2', 'wh-u3', 'wh-u4'];
    const info = (await watcher.xinfo('STREAM', STREAM)) as unknown[];
    let lastId = String(info[info.indexOf('last-generated-id') + 1]);
    const queued: WebhookEvent[] = [];
    for (const user of users) {
      const token = await makeToken({ sub: user });
      for (const node of [a, b]) {
        const client = await NativeClient.connect(node.ws, { token });
        let entry = await nextEntry(lastId);
        queued.push(entry.event);
        lastId = entry.id;
        await client.close();
        entry = await nextEntry(lastId);
        queued.push(entry.event);
        lastId = entry.id;
      }
    }
    expect(queued.map((e) => e.type)).toEqual(users.flatMap(() => ['user.online', 'user.offline', 'user.online', 'user.offline']));

    // The deliverer is retrying; then it crashes. The other node takes the lease and the unacknowledged entries.
    const isDeliverer = (l: { msg: string; [k: string]: unknown }): boolean => l.msg === 'lease acquired' && l['lease'] === 'livegate:webhooks:deliverer';
    const deliverer = a.logs.some(isDeliverer) ? a : b;
    const survivor = deliverer === a ? b : a;
    await deliverer.waitForLog((l) => l.msg === 'webhook retry scheduled');
    expect(await metric(deliverer.http, 'livegate_webhook_queue_depth')).toBe(queued.length);
    await deliverer.kill();
    await survivor.waitForLog(isDeliverer, 20_000);
    await survivor.waitForLog((l) => l.msg === 'resuming unacknowledged webhooks');
    await survivor.waitForLog((l) => l.msg === 'webhook retry scheduled' && Number(l['attempt']) >= 1);

    // The outage lasts 30 s (the scenario, not a wait for an event).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, DOWN_MS - (Date.now() - downAt))));
    await receiver.up();
    const upAt = Date.now();
    await receiver.waitForCount(2 + queued.length, 30_000);
    console.info(`webhooks: ${queued.length} events held ${upAt - downAt} ms; all delivered ${Date.now() - upAt} ms after the receiver came back`);

    const received = receiver.deliveries.slice(2);
    // Each exactly once, each signed validly.
    expect(received.map((d) => (JSON.parse(d.body) as WebhookEvent).id).sort()).toEqual(queued.map((e) => e.id).sort());
    for (const d of received) {
      expect(verifyWebhookSignature(SECRET, d.body, d.headers[SIGNATURE_HEADER] as string)).toMatchObject({ ok: true });
      expect(d.receivedAt - downAt).toBeGreaterThanOrEqual(DOWN_MS);
    }
    // In order per source: every user's events arrive in the order they were emitted.
    for (const user of users) {
      const emitted = queued.filter((e) => e.source === `user:${user}`).map((e) => e.id);
      const arrived = received.map((d) => JSON.parse(d.body) as WebhookEvent).filter((e) => e.source === `user:${user}`);
      expect(arrived.map((e) => e.id)).toEqual(emitted);
      expect(arrived.map((e) => e.type)).toEqual(['user.online', 'user.offline', 'user.online', 'user.offline']);
      const versions = arrived.map((e) => Number(e.data['version']));
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
    }

    // Tampered and replayed deliveries are caught by the documented verification.
    const sample = received[0]!;
    const header = sample.headers[SIGNATURE_HEADER] as string;
    expect(verifyWebhookSignature(SECRET, sample.body.replace('wh-u', 'wh-X'), header)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature('wrong-secret-0123456789', sample.body, header)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(SECRET, sample.body, header, { now: Math.floor(Date.now() / 1000) + 600 })).toEqual({ ok: false, reason: 'too_old' });

    expect(await metric(survivor.http, 'livegate_webhook_queue_depth')).toBe(0);
    expect(await metric(survivor.http, 'livegate_webhook_deliveries_total', { outcome: 'delivered' })).toBe(queued.length);
    expect(await metric(survivor.http, 'livegate_webhook_retries_total')).toBeGreaterThan(0);
  });
});

describe('webhooks on a single node (in-process queue)', () => {
  const receiver = new WebhookReceiver();
  let gw: GatewayProcess;
  beforeAll(async () => {
    await receiver.up();
    gw = await startGateway({
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_RETRY_MAX_MS: '200',
      WEBHOOK_EVENTS: 'user.online,user.offline',
    });
  });
  afterAll(async () => {
    await gw.stop();
    await receiver.close();
  });

  it('retries 5xx in order, gives up on a 4xx refusal and carries on with the source', async () => {
    // online: 503, 500, then accepted; offline: refused with 400 (dead letter); online again: accepted.
    receiver.statuses = [503, 500, 204, 400];
    const token = await makeToken({ sub: 'wh-single' });
    const first = await NativeClient.connect(gw.ws, { token });
    // A native socket is online once its token is verified (right after open): wait for that.
    await first.request('session:info');
    await first.close();
    const second = await NativeClient.connect(gw.ws, { token });
    await receiver.waitForCount(2, 10_000);
    const events = receiver.deliveries.map((d) => JSON.parse(d.body) as WebhookEvent);
    expect(events.map((e) => e.type)).toEqual(['user.online', 'user.online']);
    expect(events.map((e) => Number(e.data['version']))).toEqual([1, 3]);
    expect(receiver.deliveries.map((d) => d.headers['x-livegate-attempt'])).toEqual(['3', '1']);
    for (const d of receiver.deliveries) expect(verifyWebhookSignature(SECRET, d.body, d.headers[SIGNATURE_HEADER] as string).ok).toBe(true);
    expect(await metric(gw.http, 'livegate_webhook_retries_total', { type: 'user.online' })).toBe(2);
    expect(await metric(gw.http, 'livegate_webhook_deliveries_total', { type: 'user.offline', outcome: 'failed' })).toBe(1);
    expect(await metric(gw.http, 'livegate_webhook_deliveries_total', { outcome: 'delivered' })).toBe(2);
    expect(await metric(gw.http, 'livegate_webhook_queue_depth')).toBe(0);
    await second.close();
  });
});

describe('livestream webhooks', () => {
  const receiver = new WebhookReceiver();
  let gw: GatewayProcess;
  beforeAll(async () => {
    await receiver.up();
    gw = await startGateway({
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_EVENTS: 'livestream.started,livestream.ended,livestream.viewer_milestone',
    });
  });
  afterAll(async () => {
    await gw.stop();
    await receiver.close();
  });

  it('started, the 10-viewer milestone once (even when the count dips and comes back), ended, in order', async () => {
    const host = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'wh-host' }) });
    const started = await host.request('livestream:start', { title: 'hello' });
    const livestreamId = (started.data as { livestreamId: string }).livestreamId;
    // Starting your live stream again is a no-op: no second livestream.started.
    expect((await host.request('livestream:start', { title: 'hello', livestreamId })).error).toBeUndefined();
    const viewers: NativeClient[] = [];
    for (let i = 0; i < 10; i++) {
      const viewer = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: `wh-viewer-${i}` }) });
      expect((await viewer.request('livestream:join', { livestreamId })).error).toBeUndefined();
      viewers.push(viewer);
    }
    await receiver.waitForCount(2, 10_000);
    // Down to 9 and back to 10: no second milestone.
    await viewers[9]!.request('livestream:leave', { livestreamId });
    await viewers[9]!.request('livestream:join', { livestreamId });
    expect((await host.request('livestream:end', { livestreamId })).error).toBeUndefined();
    await receiver.waitForCount(3, 10_000);
    const events = receiver.deliveries.map((d) => JSON.parse(d.body) as WebhookEvent);
    expect(events.map((e) => e.type)).toEqual(['livestream.started', 'livestream.viewer_milestone', 'livestream.ended']);
    expect(new Set(events.map((e) => e.source))).toEqual(new Set([`livestream:${livestreamId}`]));
    expect(events[0]!.data).toMatchObject({ livestreamId, hostId: 'wh-host', title: 'hello' });
    expect(events[1]!.data).toMatchObject({ livestreamId, milestone: 10, viewers: 10 });
    expect(events[2]!.data).toMatchObject({ livestreamId, hostId: 'wh-host', startedAt: expect.any(String), endedAt: expect.any(String) });
    expect(await metric(gw.http, 'livegate_webhook_emitted_total', { type: 'livestream.viewer_milestone', outcome: 'queued' })).toBe(1);
    for (const v of viewers) v.close();
    host.close();
  });
});

describe('user.offline when a node dies', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const receiver = new WebhookReceiver();
  const nodes: GatewayProcess[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    await receiver.up();
    const env = {
      REDIS_URL: redis.url,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_EVENTS: 'user.online,user.offline',
      NODE_HEARTBEAT_MS: '250',
      NODE_TTL_MS: '1500',
    };
    nodes.push(await startGateway({ ...env, NODE_ID: `wh-live-${process.pid}` }), await startGateway({ ...env, NODE_ID: `wh-doomed-${process.pid}` }));
  });
  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await receiver.close();
    await redis.stop();
    removeDir(redis.dir);
  });

  it('a survivor reports the users whose last connection was on the crashed node', async () => {
    const [survivor, doomed] = nodes as [GatewayProcess, GatewayProcess];
    const both = 'wh-both';
    const onlyDoomed = 'wh-only-doomed';
    await NativeClient.connect(doomed.ws, { token: await makeToken({ sub: onlyDoomed }) });
    await NativeClient.connect(doomed.ws, { token: await makeToken({ sub: both }) });
    const stays = await NativeClient.connect(survivor.ws, { token: await makeToken({ sub: both }) });
    await receiver.waitForCount(2, 10_000);
    await doomed.kill();
    await receiver.waitForCount(3, 20_000);
    const events = receiver.deliveries.map((d) => JSON.parse(d.body) as WebhookEvent);
    expect(events.map((e) => [e.type, e.data['userId']])).toEqual(
      expect.arrayContaining([
        ['user.online', onlyDoomed],
        ['user.online', both],
        ['user.offline', onlyDoomed],
      ]),
    );
    expect(events[2]!.data).toMatchObject({ userId: onlyDoomed, nodeId: doomed.nodeId, reason: 'node_dead' });
    // `both` still has a connection on the survivor: no offline for them.
    expect(events.filter((e) => e.type === 'user.offline' && e.data['userId'] === both)).toEqual([]);
    stays.close();
    await receiver.waitForCount(4, 10_000);
    expect(JSON.parse(receiver.deliveries[3]!.body)).toMatchObject({ type: 'user.offline', data: { userId: both, nodeId: survivor.nodeId } });
  });
});
