/**
 * Chat with persistence on: one livegate node with Redis and MongoDB (FerretDB), conversations
 * created beforehand (1:1 pairs, or groups), every member connected through the Go loadgen's
 * chat mode, which sends message:send at swept offered rates and records send -> ack at the
 * senders and send -> message:new at the other members. Phases:
 * 1. a persistence burst (`burst` messages, also the warm-up): once the write queue is empty, the
 *    messages stored in MongoDB for these conversations must equal the accepted ones;
 * 2. the sweep (stops at the first rate whose windows mostly miss), with the write queue's length
 *    and lag read at the end of every window (how far the MongoDB writer falls behind);
 * 3. after the sweep, the queue is given `finalDrainMs` to drain: the writer's drain rate, and if
 *    it empties, the stored message count checked again over every accepted message of the run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { Loadgen, settled, type Report } from './loadgen.js';
import { CORES, utilisation, type CpuSample, type Utilisation } from './measure.js';
import { sleep } from './proc.js';
import { progress, putSpread, type Row } from './row.js';
import { hs256Token, Rpc } from './rpc.js';
import { P99_LIMIT_MS, latency, spread, type Latency } from './stats.js';
import { startLivegateWithMoney, type Deployment, type Target } from './targets.js';
import { baseRow, Meter, type Ctx } from './workloads.js';

export interface ChatShape {
  /** 'dm': `conversations` pairs, both members sending; 'group': `conversations` groups of `members`, `senders` of them sending. */
  kind: 'dm' | 'group';
  conversations: number;
  members: number;
  senders: number;
  /** Requests a connection may have waiting for their ack. */
  window: number;
  /** Receivers view their conversation (conversation:view): no notification:new, no notification writes. */
  view: boolean;
  rates: number[];
  warmMs: number;
  windowMs: number;
  repeats: number;
  budgetMs: number;
  /** Messages of the persistence burst (checked in MongoDB) and their offered rate. */
  burst: number;
  burstRate: number;
  /** Wait for the queue to drain after the burst (the check) and after the sweep (the drain rate). */
  drainTimeoutMs: number;
  finalDrainMs: number;
}

export interface ChatConfig {
  shapes: ChatShape[];
  /** Writer batch (FerretDB 1.24 deadlocks on updates of > ~100 distinct documents in one command). */
  writeBatch: number;
}

interface Conv {
  id: string;
  members: number[];
  senders: number[];
}

interface Win {
  rate: number;
  sent: number;
  accepted: number;
  errors: number;
  perSec: number;
  ack: Latency;
  del: Latency;
  delivered: number;
  expected: number;
  deliveriesPerSec: number;
  framesPerSec: number;
  mbPerSec: number;
  cpu: CpuSample;
  util: Utilisation;
  queueStart: number;
  queueEnd: number;
  lagS: number;
  ok: boolean;
  why: string;
}

let chatRuns = 0;

export const shapeLabel = (s: ChatShape): string =>
  s.kind === 'dm' ? `1:1, ${s.conversations} pairs` : `groups, ${s.conversations} × ${s.members} members, ${s.senders} senders each`;

export async function chat(ctx: Ctx, target: Target, cfg: ChatConfig, shape: ChatShape): Promise<Row> {
  const row = baseRow(ctx, 'chat', target, {
    shape: shapeLabel(shape),
    kind: shape.kind,
    conversations: shape.conversations,
    members: shape.members,
    senders: shape.senders,
    window: shape.window,
    view: shape.view ? 1 : 0,
    rates: shape.rates.join(','),
    window_ms: shape.windowMs,
    repeats: shape.repeats,
    write_batch: cfg.writeBatch,
  });
  const env = ctx.env;
  if (!env.redisUrl || !env.mongoUrl) {
    row.status = 'skipped';
    row.reason = env.mongoMissing ?? 'no Redis';
    progress(`chat: skipped (${row.reason})`);
    return row;
  }
  progress(`chat · livegate (Redis + MongoDB): ${shapeLabel(shape)}, rates ${shape.rates.join('/')} msg/s`);
  const n = ++chatRuns;
  const run = `${ctx.runId}${n.toString(36)}`;
  const dbName = `bench_chat_${run}`;
  const stream = `livegate:bench-writes:${run}`;
  const offset = 4_000_000 + n * 100_000;
  const mongo = new MongoClient(env.mongoUrl);
  const redis = new Redis(env.redisUrl, { maxRetriesPerRequest: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'livegate-bench-chat-'));
  let dep: Deployment | undefined;
  const gens: Loadgen[] = [];
  try {
    await mongo.connect();
    // Its own queue stream: what other workloads left queued is not drained into this database.
    // WRITE_FLUSH_MS: at the end the node stops at once (the queue's backlog was measured already).
    dep = await startLivegateWithMoney(env, dbName, { WRITE_BATCH_SIZE: String(cfg.writeBatch), WRITE_QUEUE_STREAM: stream, WRITE_FLUSH_MS: '200' });
    const convs = await createConversations(dep.urls[0]!, env.secret, shape, offset);
    const convFile = join(dir, 'convs.json');
    writeFileSync(convFile, JSON.stringify(convs));
    const users = shape.conversations * (shape.kind === 'dm' ? 2 : shape.members);
    const { gen, ready } = await Loadgen.start({
      mode: 'chat',
      proto: 'native',
      readyEvent: 'session:ready',
      urls: dep.urls,
      secret: env.secret,
      n: users,
      offset,
      convs: convFile,
      window: shape.window,
      view: shape.view,
    });
    gens.push(gen);
    progress(`  chat: ${ready.open} users connected, ${convs.length} conversations`);
    const meter = new Meter(dep.pids, () => gens.map((g) => g.pid), ctx.redisPid, ctx.mongoPid);
    const queueLength = (): Promise<number> => redis.xlen(stream);
    const convIds = convs.map((c) => c.id);
    const db = mongo.db(dbName);
    const storedMessages = (): Promise<number> => db.collection('messages').countDocuments({ conversationId: { $in: convIds } });

    // 1. The persistence burst.
    await gen.rate(shape.burstRate);
    await sleep((shape.burst / shape.burstRate) * 1000);
    await gen.rate(0);
    const burst = await settled(gen, 20_000);
    const burstAccepted = burst.ok_total ?? 0;
    const qAfterBurst = await queueLength();
    const drain = await drainQueue(queueLength, shape.drainTimeoutMs);
    row.metrics['burst_accepted'] = burstAccepted;
    row.metrics['burst_drain_s'] = drain.seconds;
    if (drain.left === 0) {
      const stored = await storedMessages();
      row.metrics['burst_stored'] = stored;
      row.metrics['mongo_exact'] = stored === burstAccepted ? 1 : 0;
      row.notes.push(
        `persistence burst: ${burstAccepted} messages accepted, ${qAfterBurst} queue entries left when the last ack came, drained in ${drain.seconds.toFixed(1)} s; MongoDB holds ${stored} messages of these conversations${stored === burstAccepted ? ' = accepted' : ` — MISMATCH (accepted ${burstAccepted})`}`,
      );
    } else {
      row.metrics['mongo_exact'] = 0;
      row.notes.push(
        `persistence burst: ${burstAccepted} messages accepted; ${drain.left} of ${qAfterBurst} queue entries still waiting after ${drain.seconds.toFixed(0)} s: MongoDB not checked`,
      );
    }
    progress(
      `  chat: burst of ${burstAccepted} messages, queue drained in ${drain.seconds.toFixed(1)} s, MongoDB ${row.metrics['mongo_exact'] ? 'exact' : 'NOT confirmed'}`,
    );

    // 2. The sweep.
    const windows: Win[] = [];
    let sustained: Win[] | undefined;
    let failing: Win | undefined;
    let bestFast = 0;
    let budgetStop: number | undefined;
    const sweepStart = performance.now();
    for (const rate of shape.rates) {
      if (performance.now() - sweepStart > shape.budgetMs) {
        row.notes.push(`sweep stopped before ${rate} msg/s: time budget of ${shape.budgetMs / 1000} s used`);
        budgetStop = rate;
        break;
      }
      await gen.rate(rate);
      await sleep(shape.warmMs);
      const atRate: Win[] = [];
      for (let r = 0; r < shape.repeats; r++) {
        await gen.reset();
        const queueStart = await queueLength();
        const { value: rep, cpu } = await meter.window(shape.windowMs, () => gen.report());
        const queueEnd = await queueLength();
        const lagS = await queueLag(dep);
        const w = measure(rate, rep, cpu, queueStart, queueEnd, lagS);
        atRate.push(w);
        windows.push(w);
        row.samples.push({
          phase: `${rate}#${r + 1}`,
          rate,
          sent: w.sent,
          accepted: w.accepted,
          errors: w.errors,
          accepted_per_s: w.perSec,
          ack_p50_ms: w.ack.p50Ms,
          ack_p99_ms: w.ack.p99Ms,
          ack_max_ms: w.ack.maxMs,
          delivered: w.delivered,
          expected: w.expected,
          deliveries_per_s: w.deliveriesPerSec,
          del_p50_ms: w.del.p50Ms,
          del_p99_ms: w.del.p99Ms,
          del_max_ms: w.del.maxMs,
          frames_per_s: w.framesPerSec,
          client_mb_per_s: w.mbPerSec,
          queue_start: w.queueStart,
          queue_end: w.queueEnd,
          queue_lag_s: w.lagS,
          cpu,
          ok: w.ok,
          why: w.why,
        });
        progress(
          `  chat @ ${rate} msg/s${shape.repeats > 1 ? ` #${r + 1}` : ''}: ${Math.round(w.perSec)} accepted/s, ack p99 ${w.ack.p99Ms.toFixed(1)} ms, delivery p99 ${w.del.p99Ms.toFixed(1)} ms, ${Math.round(w.deliveriesPerSec)} deliveries/s, queue ${w.queueStart} -> ${w.queueEnd} (lag ${w.lagS.toFixed(1)} s), server ${w.util.serverSum.toFixed(2)} / redis ${w.util.redis.toFixed(2)} / FerretDB ${w.util.mongo.toFixed(2)} / client ${w.util.client.toFixed(2)} / box ${w.util.machine.toFixed(2)} cores${w.ok ? '' : ` — not sustained: ${w.why}`}`,
        );
        if (atRate.filter((x) => !x.ok).length > shape.repeats / 2) break;
      }
      if (atRate.filter((x) => x.ok).length <= shape.repeats / 2) {
        failing = atRate.find((x) => !x.ok);
        break;
      }
      sustained = atRate;
      if (spread(atRate.map((x) => x.ack.p99Ms)).median < P99_LIMIT_MS && spread(atRate.map((x) => x.del.p99Ms)).median < P99_LIMIT_MS) bestFast = rate;
    }
    await gen.rate(0);
    await settled(gen, 20_000);
    const final = await deliveriesDone(gen);
    const accepted = final.ok_total ?? 0;
    row.metrics['accepted_total'] = accepted;
    if ((final.errors_total ?? 0) > 0) row.notes.push(`${final.errors_total} message:send requests refused (${(final.error ?? '').slice(0, 160)})`);
    if ((final.dropped ?? 0) > 0) row.notes.push(`${final.dropped} chat sockets closed by the server`);
    const total = `${final.delivered_total ?? 0} of ${final.expected_total ?? 0} deliveries over the whole run (${(((final.delivered_total ?? 0) / Math.max(1, final.expected_total ?? 0)) * 100).toFixed(2)}%)`;
    row.notes.push(total);
    progress(`  chat: ${total}`);

    const peak = windows.reduce((a, b) => (b.perSec > a.perSec ? b : a), windows[0]!);
    const serverCpu = (w: Win): number => w.cpu.servers.reduce((a, b) => a + b, 0);
    if (peak) {
      row.metrics['peak_accepted_per_s'] = peak.perSec;
      row.metrics['peak_server_cpu_ms_per_1k'] = peak.accepted ? (serverCpu(peak) * 1e6) / peak.accepted : Number.NaN;
      row.metrics['peak_redis_cpu_ms_per_1k'] = peak.accepted ? (peak.cpu.redis * 1e6) / peak.accepted : Number.NaN;
      row.metrics['peak_client_cores'] = peak.util.client;
    }
    // How the writer kept up: queue growth per second over the sustained windows.
    if (sustained) {
      const put = (key: string, values: number[]): void => putSpread(row, key, values);
      row.metrics['best_rate'] = sustained[0]!.rate;
      row.metrics['p99_ok_rate'] = bestFast;
      put(
        'accepted_per_s',
        sustained.map((w) => w.perSec),
      );
      put(
        'ack_p50_ms',
        sustained.map((w) => w.ack.p50Ms),
      );
      put(
        'ack_p99_ms',
        sustained.map((w) => w.ack.p99Ms),
      );
      put(
        'del_p50_ms',
        sustained.map((w) => w.del.p50Ms),
      );
      put(
        'del_p99_ms',
        sustained.map((w) => w.del.p99Ms),
      );
      put(
        'deliveries_per_s',
        sustained.map((w) => w.deliveriesPerSec),
      );
      put(
        'server_cpu_ms_per_1k',
        sustained.map((w) => (serverCpu(w) * 1e6) / Math.max(1, w.accepted)),
      );
      put(
        'redis_cpu_ms_per_1k',
        sustained.map((w) => (w.cpu.redis * 1e6) / Math.max(1, w.accepted)),
      );
      put(
        'client_cores',
        sustained.map((w) => w.util.client),
      );
      put(
        'client_mb_per_s',
        sustained.map((w) => w.mbPerSec),
      );
      put(
        'queue_growth_per_s',
        sustained.map((w) => (w.queueEnd - w.queueStart) / w.cpu.wall),
      );
      put(
        'queue_lag_s',
        sustained.map((w) => w.lagS),
      );
    } else {
      row.metrics['best_rate'] = 0;
      row.notes.push(`not sustained even at the lowest rate (${failing?.why})`);
    }
    const judged = failing ?? sustained?.[0];
    if (judged) {
      const cpu = chatBottleneck(judged.util);
      row.bottleneck = failing
        ? cpu
        : budgetStop
          ? `not reached (the sweep's time budget ended before ${budgetStop} msg/s; ${cpu})`
          : `not reached (highest offered rate passed; ${cpu})`;
    }
    // Persistence: the ack waits for the queue (XADD), not for MongoDB; the writer is behind when
    // the queue grows while the rate is sustained.
    const behind = windows.filter((w) => w.ok && w.queueEnd - w.queueStart > 0.1 * w.accepted);
    if (behind.length) {
      const first = behind[0]!;
      row.bottleneck += `; MongoDB writer behind from ${first.rate} msg/s (queue +${Math.round((first.queueEnd - first.queueStart) / first.cpu.wall)} entries/s, lag ${first.lagS.toFixed(1)} s)`;
    }
    if (failing) row.notes.push(`next step ${failing.rate} msg/s: ${failing.why}`);

    // 3. The write queue after the sweep: its backlog, how fast the writer drains it, and (if it
    // empties in time) the stored messages against every accepted one.
    const qEnd = await queueLength();
    const lagEnd = await queueLag(dep);
    const finalDrain = await drainQueue(queueLength, shape.finalDrainMs);
    const drained = qEnd - finalDrain.left;
    const drainRate = finalDrain.seconds > 0 ? drained / finalDrain.seconds : Number.NaN;
    row.metrics['queue_after_sweep'] = qEnd;
    row.metrics['lag_after_sweep_s'] = lagEnd;
    row.metrics['writer_entries_per_s'] = drainRate;
    row.metrics['queue_left'] = finalDrain.left;
    // Entries per accepted message over the run (each send enqueues one entry; notifications and
    // conversation snapshots add their own): the writer's rate in messages/s.
    if (finalDrain.left === 0) {
      const stored = await storedMessages();
      row.metrics['stored_total'] = stored;
      row.metrics['mongo_exact_total'] = stored === accepted ? 1 : 0;
      row.metrics['final_drain_s'] = finalDrain.seconds;
      row.notes.push(
        `after the sweep: ${qEnd} queue entries (lag ${lagEnd.toFixed(1)} s) drained in ${finalDrain.seconds.toFixed(1)} s (${Math.round(drainRate)} entries/s); MongoDB holds ${stored} messages${stored === accepted ? ` = all ${accepted} accepted` : ` — MISMATCH (accepted ${accepted})`}`,
      );
    } else {
      row.notes.push(
        `after the sweep: ${qEnd} queue entries (lag ${lagEnd.toFixed(1)} s); the writer drained ${drained} in ${finalDrain.seconds.toFixed(0)} s (${Math.round(drainRate)} entries/s), ${finalDrain.left} left (≈ ${Math.round(finalDrain.left / Math.max(1, drainRate))} s more): stored count over the whole run not checked`,
      );
    }
    const writer = await writerStats(dep);
    if (writer) row.notes.push(`writer (livegate_write_duration_seconds, whole run): ${writer}`);
    progress(`  chat: writer ${writer}`);
    progress(
      `  chat: ${accepted} accepted in all; queue after the sweep ${qEnd} (lag ${lagEnd.toFixed(1)} s), writer ${Math.round(drainRate)} entries/s, ${finalDrain.left} left`,
    );
  } catch (err) {
    row.status = 'failed';
    row.reason = err instanceof Error ? err.message : String(err);
    progress(`  chat: FAILED ${row.reason}`);
  } finally {
    await Promise.all(gens.map((g) => g.quit()));
    const warnings = dep?.warnings() ?? [];
    if (warnings.length) row.notes.push(...warnings.slice(0, 3).map((w) => `server said: ${w}`));
    await dep?.stop();
    await redis.del(stream).catch(() => undefined);
    await mongo
      .db(dbName)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close().catch(() => undefined);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  return row;
}

/** The conversations, created by one member each (connection k = user b<offset+k>). */
async function createConversations(url: string, secret: string, shape: ChatShape, offset: number): Promise<Conv[]> {
  const specs = Array.from({ length: shape.conversations }, (_, i) => {
    const size = shape.kind === 'dm' ? 2 : shape.members;
    const members = Array.from({ length: size }, (_, j) => i * size + j);
    return { members, senders: shape.kind === 'dm' ? members : members.slice(0, shape.senders) };
  });
  const out: Conv[] = [];
  for (let i = 0; i < specs.length; i += 50) {
    out.push(
      ...(await Promise.all(
        specs.slice(i, i + 50).map(async (spec, j) => {
          const [creator, ...rest] = spec.members.map((k) => `b${offset + k}`);
          const rpc = await Rpc.connect(url, hs256Token(secret, creator!));
          try {
            const data =
              shape.kind === 'dm'
                ? { type: 'private', userId: rest[0] }
                : { type: 'group', participants: rest, groupName: `bench group ${i + j}`, clientId: `bench-${i + j}` };
            const conv = await rpc.request<{ id: string }>('conversation:create', data);
            return { id: conv.id, ...spec };
          } finally {
            rpc.close();
          }
        }),
      )),
    );
  }
  return out;
}

/** Waits until the receivers got every acked message's deliveries, or no more arrive for 1 s (at most 8 s). */
async function deliveriesDone(gen: Loadgen): Promise<Report> {
  let rep = await gen.report();
  let last = -1;
  let still = 0;
  for (let i = 0; i < 80 && (rep.delivered_total ?? 0) < (rep.expected_total ?? 0); i++) {
    await sleep(100);
    rep = await gen.report();
    still = rep.delivered_total === last ? still + 1 : 0;
    if (still >= 10) break;
    last = rep.delivered_total ?? 0;
  }
  return rep;
}

async function drainQueue(length: () => Promise<number>, timeoutMs: number): Promise<{ seconds: number; left: number }> {
  const t0 = performance.now();
  let left = await length();
  while (left > 0 && performance.now() - t0 < timeoutMs) {
    await sleep(200);
    left = await length();
  }
  return { seconds: (performance.now() - t0) / 1000, left };
}

/** Average MongoDB bulk write time and batches per collection, from the node's /metrics. */
async function writerStats(dep: Deployment): Promise<string> {
  try {
    const text = await (await fetch(`${dep.http}/metrics`)).text();
    const per = new Map<string, { sum: number; count: number }>();
    for (const m of text.matchAll(/^livegate_write_duration_seconds_(sum|count)\{([^}]*)\} ([0-9.e+-]+)$/gm)) {
      const collection = /collection="([^"]+)"/.exec(m[2]!)?.[1] ?? '?';
      const e = per.get(collection) ?? { sum: 0, count: 0 };
      e[m[1] as 'sum' | 'count'] = Number(m[3]);
      per.set(collection, e);
    }
    const ops = /^livegate_write_batch_ops_sum(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text)?.[1];
    const batches = /^livegate_write_batch_ops_count(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text)?.[1];
    const parts = [...per.entries()].map(
      ([c, e]) => `${c} ${e.count} bulk writes, ${((e.sum / Math.max(1, e.count)) * 1000).toFixed(0)} ms each (${e.sum.toFixed(1)} s)`,
    );
    return `${batches ?? '?'} batches of ${(Number(ops) / Math.max(1, Number(batches))).toFixed(0)} ops on average; ${parts.join('; ')}`;
  } catch {
    return '';
  }
}

/** livegate_write_queue_lag_seconds from the node's /metrics (NaN when unreadable). */
async function queueLag(dep: Deployment): Promise<number> {
  try {
    const text = await (await fetch(`${dep.http}/metrics`)).text();
    const m = /^livegate_write_queue_lag_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text);
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function measure(rate: number, rep: Report, cpu: CpuSample, queueStart: number, queueEnd: number, lagS: number): Win {
  const ack = latency(rep.hist ?? [], rep.max_us ?? 0);
  const del = latency(rep.dhist ?? [], rep.dmax_us ?? 0);
  const sent = rep.sent ?? 0;
  const accepted = rep.count ?? 0;
  const errors = rep.errors ?? 0;
  const delivered = rep.delivered ?? 0;
  const expected = rep.expected ?? 0;
  const failures: string[] = [];
  if (sent < 0.9 * rate * cpu.wall)
    failures.push(
      `senders got out only ${((sent / (rate * cpu.wall)) * 100).toFixed(0)}% of the rate (${rep.skipped ?? 0} held back by full windows: acks too slow)`,
    );
  if (accepted < 0.9 * sent) failures.push(`acked ${((accepted / Math.max(1, sent)) * 100).toFixed(0)}% of what was sent`);
  if (delivered < 0.9 * expected) failures.push(`receivers got ${((delivered / Math.max(1, expected)) * 100).toFixed(0)}% of the acked messages' deliveries`);
  if (errors > 0) failures.push(`${errors} refused (${(rep.error ?? '').slice(0, 100)})`);
  if ((rep.dropped ?? 0) > 0) failures.push(`${rep.dropped} sockets closed`);
  return {
    rate,
    sent,
    accepted,
    errors,
    perSec: accepted / cpu.wall,
    ack,
    del,
    delivered,
    expected,
    deliveriesPerSec: delivered / cpu.wall,
    framesPerSec: (rep.frames ?? 0) / cpu.wall,
    mbPerSec: (rep.bytes ?? 0) / cpu.wall / 2 ** 20,
    cpu,
    util: utilisation(cpu),
    queueStart,
    queueEnd,
    lagS,
    ok: failures.length === 0,
    why: failures.join(', '),
  };
}

/**
 * Who ran out of CPU: the server thread (≥ 90%), Redis's thread, or on a saturated box the
 * biggest of server, client, Redis and FerretDB (the MongoDB writer's other half).
 */
function chatBottleneck(u: Utilisation): string {
  const parts = `server ${u.serverSum.toFixed(2)}, client ${u.client.toFixed(2)}, redis ${u.redis.toFixed(2)}, FerretDB ${u.mongo.toFixed(2)}, others ${u.others.toFixed(2)} (softirq ${u.softirq.toFixed(2)}) cores`;
  if (u.serverMax >= 0.9) return `server CPU (one thread at ${(u.serverMax * 100).toFixed(0)}%; ${parts})`;
  if (u.redis >= 0.9) return `Redis CPU (one thread at ${(u.redis * 100).toFixed(0)}%; ${parts})`;
  if (u.machine >= 0.9 * CORES) {
    const who: Array<[string, number]> = [
      ['server CPU', u.serverSum],
      ['client CPU', u.client],
      ['Redis CPU', u.redis],
      ['FerretDB CPU (MongoDB writes)', u.mongo],
      ['box CPU taken by other processes', u.others - u.softirq],
    ];
    const top = who.reduce((a, b) => (b[1] > a[1] ? b : a));
    return `${top[0]} (box saturated: ${parts})`;
  }
  return `neither CPU-bound (server thread at ${(u.serverMax * 100).toFixed(0)}%; ${parts})`;
}
