/**
 * Gift bursts: many senders gifting into one stream during a PK battle, on one livegate node with
 * Redis and MongoDB (FerretDB). Three phases:
 * 1. a ledger burst of `ledgerGifts` gifts (also the warm-up), then, once the write queue has
 *    drained, the MongoDB books: every gift has its transaction and its two ledger rows, debits =
 *    creator credits + platform fees, every wallet document = its Redis balance = the sum of its rows;
 * 2. the throughput sweep: accepted gifts/s at swept offered rates, send-to-ack latency;
 * 3. the Redis books over every gift of the run (the hot state the scripts move atomically), and
 *    what the viewers got: coalesced gift:sent frames folding in every accepted gift.
 * The sweep's own MongoDB writes are not waited for: FerretDB (SQLite) applies a few hundred gifts
 * per second, so they stay queued (durably, in Redis) when the node stops; a production MongoDB
 * is a different machine. The ledger burst shows they land exactly.
 */
import { Redis } from 'ioredis';
import { MongoClient, type Db } from 'mongodb';
import { moneyKeys } from '../../src/handlers/wallets/keys.js';
import { COLLECTIONS } from '../../src/store/collections.js';
import { seedCatalogue } from '../../src/tools/seed.js';
import { Loadgen, settled, type Report } from './loadgen.js';
import { bottleneck, utilisation } from './measure.js';
import { sleep } from './proc.js';
import { progress, putSpread, type Row } from './row.js';
import { hs256Token, Rpc } from './rpc.js';
import { P99_LIMIT_MS, latency, spread } from './stats.js';
import { startLivegateWithMoney, type Deployment, type Target } from './targets.js';
import { baseRow, Meter, type Ctx } from './workloads.js';

export interface GiftConfig {
  senders: number;
  /** Requests a sender connection may have waiting for their ack. */
  window: number;
  viewers: number;
  /** Offered gift:send rates (requests/s, all senders together), lowest first. */
  rates: number[];
  warmMs: number;
  windowMs: number;
  repeats: number;
  /** The sweep starts no new rate after this long. */
  budgetMs: number;
  /** Gifts of the ledger burst (checked in MongoDB) and their offered rate. */
  ledgerGifts: number;
  ledgerRate: number;
  /** How long to wait for the MongoDB write queue to drain before checking the ledger there. */
  drainTimeoutMs: number;
  hooks?: { loadStart(dep: Deployment): Promise<void>; loadEnd(dep: Deployment): Promise<void> };
}

/** The gift every request sends: 5 coins, 50 % to the creator -> floor(2.5) = 2, fee 3. */
const GIFT = { id: 'heart', price: 5, earnings: 2 };
const FUNDING = 1_000_000;
const SENDER_OFFSET = 3_000_000;
const VIEWER_OFFSET = 2_000_000;
let giftRuns = 0;

interface Window {
  rate: number;
  sent: number;
  skipped: number;
  accepted: number;
  errors: number;
  perSec: number;
  p50: number;
  p99: number;
  max: number;
  cpu: ReturnType<Meter['end']>;
  ok: boolean;
  why: string;
  /** Mean gift:send requests per gift-send.lua call in the window (livegate_gift_batch_size). */
  perBatch: number;
}

export async function gifts(ctx: Ctx, target: Target, cfg: GiftConfig): Promise<Row> {
  const row = baseRow(ctx, 'gifts', target, {
    senders: cfg.senders,
    window: cfg.window,
    viewers: cfg.viewers,
    rates: cfg.rates.join(','),
    window_ms: cfg.windowMs,
    repeats: cfg.repeats,
  });
  const env = ctx.env;
  if (!env.redisUrl || !env.mongoUrl) {
    row.status = 'skipped';
    row.reason = env.mongoMissing ?? 'no Redis';
    progress(`gifts: skipped (${row.reason})`);
    return row;
  }
  progress(`gifts · livegate (Redis + MongoDB): ${cfg.senders} senders (window ${cfg.window}), ${cfg.viewers} viewers, rates ${cfg.rates.join('/')} gifts/s`);
  const run = `${ctx.runId}${(++giftRuns).toString(36)}`;
  const dbName = `bench_gifts_${run}`;
  const mongo = new MongoClient(env.mongoUrl);
  const redis = new Redis(env.redisUrl, { maxRetriesPerRequest: 2 });
  let dep: Deployment | undefined;
  const gens: Loadgen[] = [];
  const setup: Rpc[] = [];
  try {
    await mongo.connect();
    const db = mongo.db(dbName);
    await seedCatalogue(db);
    // Default writer settings: WRITE_MAX_BULK_OPS (50) keeps every bulk write below the ~100
    // statements on which FerretDB 1.24 deadlocks, so no smaller WRITE_BATCH_SIZE is needed.
    // WRITE_FLUSH_MS: the sweep's writes are not waited for, so the node need not keep writing for 5 s when it stops.
    dep = await startLivegateWithMoney(env, dbName, { WRITE_FLUSH_MS: '200' });
    const ws = dep.urls[0]!;
    const rpc = async (user: string, claims: Record<string, unknown> = {}): Promise<Rpc> => {
      const client = await Rpc.connect(ws, hs256Token(env.secret, user, claims));
      setup.push(client);
      return client;
    };
    // Two hosts live, in a PK battle that outlasts the run: every gift also moves a PK score.
    const [host1, host2, admin] = [`gh1${run}`, `gh2${run}`, `ga${run}`];
    const stream = `gs${run}x0`;
    const h1 = await rpc(host1);
    const h2 = await rpc(host2);
    await h1.request('livestream:start', { title: 'gift burst', streamId: stream });
    await h2.request('livestream:start', { title: 'opponent', streamId: `gs${run}y` });
    const battle = await h1.request<{ battleId: string }>('pk:invite', { opponentId: host2, durationSec: 3600, livestreamId: stream });
    await h2.request('pk:accept', { battleId: battle.battleId, livestreamId: `gs${run}y` });
    const senderIds = Array.from({ length: cfg.senders }, (_, i) => `b${SENDER_OFFSET + i}`);
    const adminRpc = await rpc(admin, { role: 'admin' });
    for (let i = 0; i < senderIds.length; i += 50) {
      await Promise.all(
        senderIds
          .slice(i, i + 50)
          .map((userId) => adminRpc.request('wallet:credit', { userId, amount: FUNDING, reason: 'bench funding', idempotencyKey: `fund-${run}-${userId}` })),
      );
    }

    const viewersGen = cfg.viewers
      ? await Loadgen.start({
          mode: 'sub',
          proto: 'native',
          readyEvent: 'session:ready',
          urls: dep.urls,
          secret: env.secret,
          n: cfg.viewers,
          offset: VIEWER_OFFSET,
          rooms: 1,
          prefix: stream.slice(0, -1),
          joinEvent: 'livestream:join',
          joinKey: 'streamId',
          countGifts: true,
          readBuf: 4096,
        })
      : undefined;
    if (viewersGen) {
      gens.push(viewersGen.gen);
      if ((viewersGen.ready.failed ?? 0) > 0) row.notes.push(`${viewersGen.ready.failed} viewers failed to join: ${viewersGen.ready.error}`);
    }
    const viewerCount = viewersGen?.ready.open ?? 0;
    const { gen: senders, ready } = await Loadgen.start({
      mode: 'gift',
      proto: 'native',
      readyEvent: 'session:ready',
      urls: dep.urls,
      secret: env.secret,
      n: cfg.senders,
      offset: SENDER_OFFSET,
      gift: GIFT.id,
      stream,
      window: cfg.window,
    });
    gens.push(senders);
    if ((ready.failed ?? 0) > 0) row.notes.push(`${ready.failed} senders failed to connect: ${ready.error}`);
    const meter = new Meter(dep.pids, () => gens.map((g) => g.pid), ctx.redisPid);
    const mongoDb = mongo.db(dbName);

    // 1. The ledger burst, checked in MongoDB once the write queue has delivered it.
    await senders.rate(cfg.ledgerRate);
    await sleep((cfg.ledgerGifts / cfg.ledgerRate) * 1000);
    await senders.rate(0);
    const burst = await settled(senders, 10_000);
    const burstBooks = await checkLedger(redis, mongoDb, {
      stream,
      host1,
      battleId: battle.battleId,
      senders: senderIds,
      accepted: burst.ok_total ?? 0,
      drainTimeoutMs: cfg.drainTimeoutMs,
      mongo: true,
      queueLength: () => queueLength(dep!),
    });
    row.metrics['ledger_burst_gifts'] = burst.ok_total ?? 0;
    row.metrics['mongo_ledger_exact'] = burstBooks.mongo.ok ? 1 : 0;
    row.metrics['mongo_drain_s'] = burstBooks.mongo.drainS;
    row.notes.push(
      `ledger burst of ${burst.ok_total} gifts (${burst.errors_total ?? 0} refused), Redis: ${burstBooks.redis.text}`,
      `ledger burst in MongoDB: ${burstBooks.mongo.text}`,
    );
    progress(
      `  gifts: ledger burst of ${burst.ok_total} gifts: Redis ${burstBooks.redis.ok ? 'exact' : 'NOT exact'}; MongoDB ${burstBooks.mongo.ok ? 'exact' : 'NOT exact'} (${burstBooks.mongo.text.slice(0, 100)})`,
    );

    // 2. The sweep.
    await cfg.hooks?.loadStart(dep);

    const windows: Window[] = [];
    let sustained: Window[] | undefined;
    let failing: Window | undefined;
    let bestFast = 0;
    const sweepStart = performance.now();
    for (const rate of cfg.rates) {
      if (performance.now() - sweepStart > cfg.budgetMs) {
        row.notes.push(`sweep stopped before ${rate} gifts/s: time budget of ${cfg.budgetMs / 1000} s used`);
        break;
      }
      await senders.rate(rate);
      await sleep(cfg.warmMs);
      const atRate: Window[] = [];
      for (let r = 0; r < cfg.repeats; r++) {
        await senders.reset();
        const b0 = await batchCounts(dep);
        const { value: rep, cpu } = await meter.window(cfg.windowMs, () => senders.report());
        const b1 = await batchCounts(dep);
        const w = { ...measure(rate, rep, cpu), perBatch: (b1.sum - b0.sum) / Math.max(1, b1.count - b0.count) };
        atRate.push(w);
        windows.push(w);
        row.samples.push({
          phase: `${rate}#${r + 1}`,
          rate,
          sent: w.sent,
          skipped: w.skipped,
          accepted: w.accepted,
          errors: w.errors,
          accepted_per_s: w.perSec,
          gifts_per_batch: w.perBatch,
          p50_ms: w.p50,
          p99_ms: w.p99,
          max_ms: w.max,
          cpu,
          ok: w.ok,
          why: w.why,
        });
        const u = utilisation(cpu);
        progress(
          `  gifts @ ${rate}/s${cfg.repeats > 1 ? ` #${r + 1}` : ''}: ${Math.round(w.perSec)} accepted/s (${w.perBatch.toFixed(1)} per script call), p99 ${w.p99.toFixed(1)} ms, server ${u.serverSum.toFixed(2)} / redis ${u.redis.toFixed(2)} / client ${u.client.toFixed(2)} / box ${u.machine.toFixed(2)} cores${w.ok ? '' : ` — not sustained: ${w.why}`}`,
        );
        if (atRate.filter((x) => !x.ok).length > cfg.repeats / 2) break;
      }
      if (atRate.filter((x) => x.ok).length <= cfg.repeats / 2) {
        failing = atRate.find((x) => !x.ok);
        break;
      }
      sustained = atRate;
      if (spread(atRate.map((x) => x.p99)).median < P99_LIMIT_MS) bestFast = rate;
    }
    await senders.rate(0);
    await cfg.hooks?.loadEnd(dep);

    // 3. Everything sent is answered before the books are checked.
    const final = await settled(senders, 10_000);
    const accepted = final.ok_total ?? 0;
    row.metrics['accepted_total'] = accepted;
    if ((final.errors_total ?? 0) > 0) row.notes.push(`${final.errors_total} gift:send requests refused (${(final.error ?? '').slice(0, 160)})`);

    const peak = windows.reduce((a, b) => (b.perSec > a.perSec ? b : a), windows[0]!);
    row.metrics['peak_accepted_per_s'] = peak?.perSec ?? 0;
    const serverCpu = (w: Window): number => w.cpu.servers.reduce((a, b) => a + b, 0);
    if (peak && peak.accepted > 0) {
      row.metrics['peak_server_cpu_us_per_gift'] = (serverCpu(peak) * 1e6) / peak.accepted;
      row.metrics['peak_redis_cpu_us_per_gift'] = (peak.cpu.redis * 1e6) / peak.accepted;
      row.metrics['peak_gifts_per_batch'] = peak.perBatch;
    }
    if (sustained) {
      const put = (key: string, values: number[]): void => putSpread(row, key, values);
      row.metrics['best_rate'] = sustained[0]!.rate;
      row.metrics['p99_ok_rate'] = bestFast;
      put(
        'accepted_per_s',
        sustained.map((w) => w.perSec),
      );
      put(
        'p50_ms',
        sustained.map((w) => w.p50),
      );
      put(
        'p99_ms',
        sustained.map((w) => w.p99),
      );
      row.metrics['max_ms'] = Math.max(...sustained.map((w) => w.max));
      put(
        'server_cpu_us_per_gift',
        sustained.map((w) => (serverCpu(w) * 1e6) / Math.max(1, w.accepted)),
      );
      put(
        'redis_cpu_us_per_gift',
        sustained.map((w) => (w.cpu.redis * 1e6) / Math.max(1, w.accepted)),
      );
      put(
        'client_cores',
        sustained.map((w) => utilisation(w.cpu).client),
      );
    } else {
      row.metrics['best_rate'] = 0;
      row.notes.push(`not sustained even at the lowest rate (${failing?.why})`);
    }
    const judged = failing ?? sustained?.[0];
    row.bottleneck = judged
      ? (failing ? '' : 'not reached (highest offered rate passed; ') + bottleneck(target, utilisation(judged.cpu)) + (failing ? '' : ')')
      : '';
    if (failing) row.notes.push(`next step ${failing.rate} gifts/s: ${failing.why}`);

    // What the viewers got: coalesced gift:sent frames, which must fold in every accepted gift.
    if (viewersGen) {
      await sleep(800); // the coalescer's last tick (GIFT_COALESCE_MS, 150 ms) and its delivery
      const seen = await viewersGen.gen.report();
      const framesPerViewer = (seen.gift_frames ?? 0) / Math.max(1, viewerCount);
      const sendsPerViewer = (seen.gift_sends ?? 0) / Math.max(1, viewerCount);
      row.metrics['viewers'] = viewerCount;
      row.metrics['gift_frames_per_viewer'] = framesPerViewer;
      row.metrics['frames_per_gift'] = accepted > 0 ? framesPerViewer / accepted : Number.NaN;
      row.metrics['gifts_reaching_each_viewer'] = accepted > 0 ? sendsPerViewer / accepted : Number.NaN;
      if (Math.round(sendsPerViewer) !== accepted)
        row.notes.push(`viewers' gift:sent frames fold in ${sendsPerViewer.toFixed(1)} gifts each, of ${accepted} accepted`);
      if ((seen.dropped ?? 0) > 0) row.notes.push(`${seen.dropped} viewer sockets closed`);
    }

    const books = await checkLedger(redis, mongoDb, {
      stream,
      host1,
      battleId: battle.battleId,
      senders: senderIds,
      accepted,
      drainTimeoutMs: 0,
      mongo: false,
      queueLength: () => queueLength(dep!),
    });
    row.metrics['redis_ledger_exact'] = books.redis.ok && burstBooks.redis.ok ? 1 : 0;
    const lag = await queueLag(dep);
    row.notes.push(`ledger in Redis after all ${accepted} gifts: ${books.redis.text}`, `MongoDB write queue at the end: ${lag}`);
    progress(`  gifts: ${accepted} accepted in all; Redis ${books.redis.ok ? 'exact' : 'NOT exact'}; write queue ${lag}`);
  } catch (err) {
    row.status = 'failed';
    row.reason = err instanceof Error ? err.message : String(err);
    progress(`  gifts: FAILED ${row.reason}`);
  } finally {
    for (const c of setup) c.close();
    await Promise.all(gens.map((g) => g.quit()));
    const warnings = dep?.warnings() ?? [];
    if (warnings.length) row.notes.push(...warnings.slice(0, 3).map((w) => `server said: ${w}`));
    await dep?.stop();
    await mongo
      .db(dbName)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close().catch(() => undefined);
    redis.disconnect();
  }
  return row;
}

async function metricsOf(dep: Deployment): Promise<(name: string) => string | undefined> {
  const text = await (await fetch(`${dep.http}/metrics`)).text();
  return (name) => new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1];
}

/** Sum and count of the node's livegate_gift_batch_size histogram (gifts per gift-send.lua call). */
async function batchCounts(dep: Deployment): Promise<{ sum: number; count: number }> {
  try {
    const get = await metricsOf(dep);
    return { sum: Number(get('livegate_gift_batch_size_sum') ?? 0), count: Number(get('livegate_gift_batch_size_count') ?? 0) };
  } catch {
    return { sum: 0, count: 0 };
  }
}

async function queueLength(dep: Deployment): Promise<number> {
  try {
    return Number((await metricsOf(dep))('livegate_write_queue_length') ?? -1);
  } catch {
    return -1;
  }
}

/** The node's write queue backlog, from its /metrics. */
async function queueLag(dep: Deployment): Promise<string> {
  try {
    const get = await metricsOf(dep);
    return `${get('livegate_write_queue_length') ?? '?'} entries queued, lag ${Number(get('livegate_write_queue_lag_seconds') ?? NaN).toFixed(1)} s (FerretDB applies about 100 gifts/s)`;
  } catch {
    return 'unknown';
  }
}

function measure(rate: number, rep: Report, cpu: ReturnType<Meter['end']>): Omit<Window, 'perBatch'> {
  const lat = latency(rep.hist ?? [], rep.max_us ?? 0);
  const sent = rep.sent ?? 0;
  const accepted = rep.count ?? 0;
  const errors = rep.errors ?? 0;
  const failures: string[] = [];
  if (sent < 0.9 * rate * cpu.wall)
    failures.push(
      `senders got out only ${((sent / (rate * cpu.wall)) * 100).toFixed(0)}% of the rate (${rep.skipped ?? 0} held back by full windows: acks too slow)`,
    );
  if (accepted < 0.9 * sent) failures.push(`acked ${((accepted / Math.max(1, sent)) * 100).toFixed(0)}% of what was sent`);
  if (errors > 0) failures.push(`${errors} refused (${(rep.error ?? '').slice(0, 100)})`);
  return {
    rate,
    sent,
    skipped: rep.skipped ?? 0,
    accepted,
    errors,
    perSec: accepted / cpu.wall,
    p50: lat.p50Ms,
    p99: lat.p99Ms,
    max: lat.maxMs,
    cpu,
    ok: failures.length === 0,
    why: failures.join(', '),
  };
}

interface LedgerInput {
  stream: string;
  host1: string;
  battleId: string;
  senders: string[];
  accepted: number;
  drainTimeoutMs: number;
  /** Check MongoDB too (after waiting for the write queue). */
  mongo: boolean;
  /** Entries in the node's write queue (-1: unknown). */
  queueLength: () => Promise<number>;
}

/**
 * The books after the burst. Redis (the hot state the scripts move): each sender's spend is a
 * whole number of gifts and together they are the accepted gifts' cost; the host got the
 * creator's share of each; stream totals, leaderboard and PK score agree. MongoDB (written
 * through the queue): every gift has its transaction and its two ledger rows; debits = creator
 * credits + platform fees; each wallet document equals its Redis balance and the sum of its rows.
 */
async function checkLedger(
  redis: Redis,
  db: Db,
  x: LedgerInput,
): Promise<{ redis: { ok: boolean; text: string }; mongo: { ok: boolean; text: string; drainS: number } }> {
  const debit = x.accepted * GIFT.price;
  const credit = x.accepted * GIFT.earnings;
  const fees = debit - credit;
  const problems: string[] = [];
  const balances = new Map<string, number>();
  let spent = 0;
  const pipeline = redis.pipeline();
  for (const s of x.senders) pipeline.hget(moneyKeys.wallet(s), 'b');
  const replies = (await pipeline.exec()) ?? [];
  x.senders.forEach((s, i) => {
    const b = Number(replies[i]?.[1]);
    balances.set(s, b);
    const out = FUNDING - b;
    if (!(out >= 0 && out % GIFT.price === 0)) problems.push(`${s} spent ${out}`);
    spent += out;
  });
  if (spent !== debit) problems.push(`senders spent ${spent}, accepted gifts cost ${debit}`);
  const [hostBalance, hostEarned] = await redis.hmget(moneyKeys.wallet(x.host1), 'b', 'e');
  balances.set(x.host1, Number(hostBalance));
  if (Number(hostBalance) !== credit || Number(hostEarned) !== credit)
    problems.push(`host holds ${hostBalance} (earned ${hostEarned}), creator shares ${credit}`);
  const totals = await redis.hmget(moneyKeys.streamTotals(x.stream), 'coins', 'gifts');
  if (Number(totals[0]) !== debit || Number(totals[1]) !== x.accepted) problems.push(`stream totals ${totals[0]} coins / ${totals[1]} gifts`);
  const board = await redis.zrange(moneyKeys.streamBoard(x.stream), 0, -1, 'WITHSCORES');
  let boardSum = 0;
  for (let i = 1; i < board.length; i += 2) boardSum += Number(board[i]);
  if (boardSum !== debit) problems.push(`leaderboard sums to ${boardSum}`);
  const score = await redis.hget(moneyKeys.pkBattle(x.battleId), 's1');
  if (Number(score) !== debit) problems.push(`PK score ${score}`);
  const redisResult = {
    ok: problems.length === 0,
    text:
      problems.length === 0
        ? `exact: ${x.accepted} gifts, ${debit} coins debited from ${x.senders.length} senders = ${credit} credited to the host + ${fees} platform fee; stream totals, leaderboard and PK score = ${debit}`
        : `MISMATCH: ${problems.slice(0, 5).join('; ')}`,
  };

  if (!x.mongo) return { redis: redisResult, mongo: { ok: false, drainS: 0, text: 'not checked' } };
  // MongoDB: wait until the write queue is empty, then read. (Reading FerretDB while the writer
  // writes can deadlock its SQLite backend: both the read and the writer then hang.)
  const started = performance.now();
  let queued = await x.queueLength();
  while (queued !== 0 && performance.now() - started < x.drainTimeoutMs) {
    await sleep(250);
    queued = await x.queueLength();
  }
  const drainS = (performance.now() - started) / 1000;
  if (queued !== 0) {
    return {
      redis: redisResult,
      mongo: { ok: false, drainS, text: `not checked: ${queued} write-queue entries still waiting for MongoDB after ${drainS.toFixed(0)} s` },
    };
  }
  const gifts = db.collection(COLLECTIONS.giftTransactions);
  const mproblems: string[] = [];
  // Summed here: FerretDB's SQLite backend answers $sum over a field path with 0.
  const giftDocs = await gifts.find({ livestreamId: x.stream }, { projection: { totalCost: 1, creatorEarnings: 1, platformFee: 1 } }).toArray();
  const g = { n: giftDocs.length, cost: 0, earn: 0, fee: 0 };
  for (const d of giftDocs) {
    g.cost += Number(d['totalCost']);
    g.earn += Number(d['creatorEarnings']);
    g.fee += Number(d['platformFee']);
  }
  if (g.n !== x.accepted || g.cost !== debit || g.earn + g.fee !== g.cost || g.earn !== credit) mproblems.push(`gift transactions ${JSON.stringify(g)}`);
  const rowDocs = await db
    .collection(COLLECTIONS.transactions)
    .find({}, { projection: { userId: 1, type: 1, amount: 1 } })
    .toArray();
  const sumOf = (type: string): { n: number; sum: number } => {
    const mine = rowDocs.filter((r) => r['type'] === type);
    return { n: mine.length, sum: mine.reduce((t, r) => t + Number(r['amount']), 0) };
  };
  const sent = sumOf('gift_sent');
  const received = sumOf('gift_received');
  if (sent.n !== x.accepted || sent.sum !== -debit) mproblems.push(`gift_sent rows ${JSON.stringify(sent)}`);
  if (received.n !== x.accepted || received.sum !== credit) mproblems.push(`gift_received rows ${JSON.stringify(received)}`);
  if (-sent.sum !== received.sum + g.fee) mproblems.push('debits != credits + fees');
  // Every wallet: its document, its ledger rows (funding + gifts) and Redis agree. The wallet
  // documents are written after the rows; give them the rest of the drain time.
  const users = [...balances.keys()];
  const perUser = new Map<string, number>();
  for (const r of rowDocs) perUser.set(String(r['userId']), (perUser.get(String(r['userId'])) ?? 0) + Number(r['amount']));
  const docs = new Map(
    (
      await db
        .collection<{ _id: string; balance: number }>(COLLECTIONS.wallets)
        .find({ _id: { $in: users } })
        .toArray()
    ).map((d) => [d._id, d.balance]),
  );
  const walletMismatch = users.filter((u) => docs.get(u) !== balances.get(u));
  if (walletMismatch.length) mproblems.push(`${walletMismatch.length} wallet documents differ from Redis (e.g. ${walletMismatch[0]})`);
  const rowMismatch = users.filter((u) => perUser.get(u) !== balances.get(u));
  if (rowMismatch.length)
    mproblems.push(
      `${rowMismatch.length} wallets whose ledger rows do not sum to the balance (e.g. ${rowMismatch[0]}: ${perUser.get(rowMismatch[0]!)} vs ${balances.get(rowMismatch[0]!)})`,
    );
  return {
    redis: redisResult,
    mongo: {
      ok: mproblems.length === 0,
      drainS,
      text:
        mproblems.length === 0
          ? `exact after the write queue drained (${drainS.toFixed(1)} s after the load): ${x.accepted} gift transactions, ${x.accepted} debit rows (${-debit}) and ${x.accepted} credit rows (+${credit}), fees ${fees}; ${users.length} wallet documents = Redis = the sum of their ledger rows`
          : `MISMATCH: ${mproblems.slice(0, 5).join('; ')}`,
    },
  };
}
