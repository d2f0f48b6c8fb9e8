import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { seedCatalogue } from '../../src/tools/seed.js';
import { tryGift } from '../../src/tools/try-gift.js';
import { WebhookReceiver } from '../bridge/webhook-receiver.js';
import { NativeClient, sioConnect, sioConnected } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { metricRefs, parseScrape, type ExprRefs, type Scrape } from '../support/metric-refs.js';
import { ROOT, removeDir, startRedis } from '../support/services.js';

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
}
interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'livegate-dashboard.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: Array<{ definition: string }> };
};
const rules = (parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap(
  (g) => g.rules,
);

/** Every query of the dashboard and the rules, named by where it is. */
const queries: Array<{ where: string; expr: string }> = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ...dashboard.templating.list.map((v) => ({
    where: 'dashboard variable',
    expr: v.definition.replace(/^label_values\((\w+),\s*(\w+)\)$/, 'sum by ($2) ($1)'),
  })),
  ...rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })),
];

/** Series Prometheus adds itself (not the gateway's to export). */
const PROMETHEUS_OWN = { metrics: new Set(['up']), labels: new Set(['job', 'instance']) };
/** Labelled series that exist only after a failure the traffic below does not cause. */
const ONLY_ON_FAILURE = new Set(['livegate_dropped_frames_total', 'livegate_write_failures_total']);

/** What in `refs` the scrape does not back: unknown metrics, and labels none of their series carry. */
function missing(refs: ExprRefs, scrape: Scrape): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  let withSeries = 0;
  for (const { metric, matchers } of refs.metrics) {
    if (PROMETHEUS_OWN.metrics.has(metric)) continue;
    if (!scrape.names.has(metric)) {
      problems.push(`metric ${metric} is not exported`);
      continue;
    }
    const labels = scrape.labels.get(metric);
    if (!labels) {
      if (!ONLY_ON_FAILURE.has(metric)) problems.push(`metric ${metric} has no series after the traffic`);
      continue;
    }
    withSeries++;
    labels.forEach((l) => seen.add(l));
    for (const label of matchers) if (!labels.has(label) && !PROMETHEUS_OWN.labels.has(label)) problems.push(`metric ${metric} has no label ${label}`);
  }
  if (withSeries > 0) {
    for (const label of refs.grouping)
      if (label !== 'le' && !seen.has(label) && !PROMETHEUS_OWN.labels.has(label)) problems.push(`no metric of the query has the label ${label}`);
  }
  return problems;
}

describe('metric references parser', () => {
  it('finds metric names and labels in PromQL, skipping functions, keywords, variables and durations', () => {
    expect(
      metricRefs(
        'histogram_quantile(0.99, sum by (le, route) (rate(livegate_http_request_duration_seconds_bucket{node=~"$node", route!="x"}[$__rate_interval])))',
      ),
    ).toEqual({
      metrics: [{ metric: 'livegate_http_request_duration_seconds_bucket', matchers: ['node', 'route'] }],
      grouping: ['le', 'route'],
    });
    expect(
      metricRefs('sum(rate(a_total[5m])) > 3 * (sum(rate(a_total[1h] offset 5m)) or vector(0)) and on (node) b == 1e3').metrics.map((m) => m.metric),
    ).toEqual(['a_total', 'a_total', 'b']);
    const scrape = parseScrape('# HELP h x\n# TYPE h histogram\nh_bucket{le="1",node="n"} 1\n# TYPE c counter\nc{reason="r"} 2\n');
    expect([...scrape.names].sort()).toEqual(['c', 'h_bucket', 'h_count', 'h_sum']);
    expect(missing(metricRefs('sum by (reason) (rate(c[5m])) + sum(h_sum) + sum(h)'), scrape)).toEqual([
      'metric h_sum has no series after the traffic',
      'metric h is not exported',
    ]);
    expect(missing(metricRefs('sum by (dialect) (c{kind="x"})'), scrape)).toEqual([
      'metric c has no label kind',
      'no metric of the query has the label dialect',
    ]);
  });
});

describe('the Grafana dashboard and the alert rules name only what the gateway exports', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let gw: GatewayProcess;
  let mongo: MongoClient;
  let receiver: WebhookReceiver;
  let scrape: Scrape;
  const dbName = `dashboard_${process.pid}`;

  beforeAll(async () => {
    redis = await startRedis();
    mongo = await new MongoClient(inject('mongoUrl')).connect();
    await seedCatalogue(mongo.db(dbName));
    receiver = new WebhookReceiver();
    await receiver.up();
    gw = await startGateway({
      REDIS_URL: redis.url,
      MONGO_URL: inject('mongoUrl'),
      MONGO_DB: dbName,
      DEV_PAYMENTS: 'true',
      DEV_TOKENS: 'true',
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: 'dashboard-test-webhook-secret',
      HTTP_RATE_LIMIT_PER_SEC: '1',
      HTTP_RATE_LIMIT_BURST: '20',
    });

    // Traffic, so that the labelled series exist: both dialects, a refused token, an unknown event,
    // HTTP routes, rate-limited requests, and the whole gift flow (rooms, bus, money, write queue, webhooks).
    const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'dash-native' }) });
    expect((await native.request('no:such-event', {})).error?.code).toBe('unknown_event');
    const refused = sioConnect(gw.http, { token: 'not-a-jwt' });
    await expect(sioConnected(refused)).rejects.toBeTruthy();
    refused.close();
    const sio = sioConnect(gw.http, { token: await makeToken({ sub: 'dash-sio' }) });
    await sioConnected(sio);
    await sio.emitWithAck('session:info', {});
    const result = await tryGift(gw.http);
    expect(result.gift.balance).toBe(result.purchase.balance - result.gift.totalCost);
    await receiver.waitForCount(1, 20_000);
    let limited = 0;
    for (let i = 0; i < 30 && limited === 0; i++) {
      if (
        (await fetch(`${gw.http}/api/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"dash-burst"}' }))
          .status === 429
      )
        limited++;
    }
    expect(limited).toBe(1);
    // The write queue drained what the gift queued (so write ops and batch histograms have samples).
    for (;;) {
      const text = await (await fetch(`${gw.http}/metrics`)).text();
      if (/^livegate_write_ops_total\{result="applied"[^}]*\} [1-9]/m.test(text)) {
        scrape = parseScrape(text);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    sio.close();
    await native.close();
  }, 120_000);

  afterAll(async () => {
    await gw?.stop();
    await receiver?.close();
    await mongo?.db(dbName).dropDatabase();
    await mongo?.close();
    await redis?.stop();
    if (redis) removeDir(redis.dir);
  });

  it('covers what the dashboard is for, with no panel or rule left without a query', () => {
    const titles = dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.title);
    for (const needed of [
      'Connections by node and dialect',
      'Frames in / s by event',
      'Frames out / s by event',
      'Deliveries / s',
      'Publish-to-deliver latency',
      'Dropped frames / s by reason',
      'Slow consumers',
      'Rooms and bus subscriptions',
      'Bus publish batch size',
      'Write-queue length',
      'Write-queue lag',
      'Write failures and retries / s',
      'Gift sends / s by outcome',
      'Ledger errors',
      'Webhook backlog',
      'HTTP latency p99 by route',
      'Event-loop lag',
    ])
      expect(titles).toContain(needed);
    expect(dashboard.panels.filter((p) => p.type !== 'row' && (p.targets ?? []).length === 0)).toEqual([]);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'LivegateWriteQueueLag',
        'LivegateSlowConsumerCloses',
        'LivegateEventLoopLag',
        'LivegateRedisUnreachable',
        'LivegateMongoUnreachable',
        'LivegateAuthFailureSpike',
      ]),
    );
  });

  it('every metric and label a panel or rule names is exported by a gateway on Redis and MongoDB', () => {
    const problems = queries.flatMap(({ where, expr }) => missing(metricRefs(expr), scrape).map((p) => `${where}: ${p}`));
    expect(problems).toEqual([]);
    // The check is not empty: most queries name gateway metrics, and the readiness gauge reports both stores.
    expect(queries.filter((q) => /livegate_|nodejs_/.test(q.expr)).length).toBeGreaterThan(30);
    expect(scrape.labels.get('livegate_dependency_up')).toEqual(new Set(['dependency', 'node']));
  });

  it('the alert rules pass promtool check rules, and the Prometheus config that loads them passes check config', () => {
    expect(execFileSync('promtool', ['check', 'rules', join(ROOT, 'deploy', 'prometheus', 'alerts.yml')], { encoding: 'utf8' })).toMatch(
      /SUCCESS: \d+ rules found/,
    );
    const config = execFileSync('promtool', ['check', 'config', join(ROOT, 'deploy', 'prometheus.yml')], { encoding: 'utf8' });
    expect(config).toContain('SUCCESS: 1 rule files found');
  });
});
