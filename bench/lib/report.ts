/** Writes a run's rows as JSON lines and as its section of bench/RESULTS.md. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './loadgen.js';
import type { Row } from './row.js';
import { fmtMs, fmtRate, fmtSpread, type Spread } from './stats.js';

export interface RunInfo {
  suite: string;
  command: string;
  date: string;
  durationS: number;
  machine: string;
  versions: Record<string, string>;
  loadStart: number;
  loadEnd: number;
  notes: string[];
  /** Partial runs (--workloads, --only): appended to the JSON lines file name, e.g. `chat-presence`. */
  fileTag?: string;
}

const jsonlName = (info: RunInfo): string => `${info.suite}-${info.date.slice(0, 16).replace(':', '')}${info.fileTag ? `-${info.fileTag}` : ''}.jsonl`;

const RESULTS_MD = join(ROOT, 'bench', 'RESULTS.md');

export function writeJsonLines(info: RunInfo, rows: Row[]): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, jsonlName(info));
  writeFileSync(file, [JSON.stringify({ type: 'run', ...info }), ...rows.map((r) => JSON.stringify({ type: 'row', ...r }))].join('\n') + '\n');
  return file;
}

const ok = (rows: Row[], workload: Row['workload']): Row[] => rows.filter((r) => r.workload === workload);
const find = (rows: Row[], workload: Row['workload'], target: string): Row | undefined =>
  rows.find((r) => r.workload === workload && r.target === target && r.status === 'ok');
const ratio = (a: number | undefined, b: number | undefined): string => (a && b && Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}×` : '—');
const s = (row: Row, key: string, fmt: (x: number) => string): string => {
  const sp: Spread | undefined = row.spreads[key];
  return sp ? fmtSpread(sp, fmt) : row.metrics[key] !== undefined ? fmt(row.metrics[key]!) : '—';
};
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const notRun = (r: Row): string => `${r.status}: ${cell(r.reason ?? '')}`;

function sweepTable(rows: Row[], workload: 'fanout' | 'rooms'): string[] {
  const raw = find(rows, workload, 'raw-uws');
  const out = [
    '| target | nodes | highest sustained rate msg/s | p99 < 50 ms up to msg/s | deliveries/s | p50 ms | p99 ms | max ms | × raw uWS deliveries | peak deliveries/s seen | server CPU-s per M deliveries (at peak) | × raw uWS CPU efficiency | client CPU-s per M deliveries, client cores (at peak) | bottleneck | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of ok(rows, workload)) {
    if (r.status !== 'ok') {
      out.push(`| ${r.label} | ${r.nodes} | ${notRun(r)} |  |  |  |  |  |  |  |  |  |  |  |  |`);
      continue;
    }
    const m = r.metrics;
    const client = `${(m['peak_client_cpu_s_per_m'] ?? NaN).toFixed(2)}, ${(m['peak_client_cores'] ?? NaN).toFixed(2)}`;
    out.push(
      `| ${r.label} | ${r.nodes} | ${m['best_rate'] ?? '—'} | ${m['p99_ok_rate'] || '—'} | ${s(r, 'deliveries_per_s', fmtRate)} | ${s(r, 'p50_ms', fmtMs)} | ${s(r, 'p99_ms', fmtMs)} | ${fmtMs(m['max_ms'] ?? NaN)} | ${r.target === 'raw-uws' ? '1' : ratio(m['deliveries_per_s'], raw?.metrics['deliveries_per_s'])} | ${fmtRate(m['peak_deliveries_per_s'] ?? NaN)} | ${(m['peak_server_cpu_s_per_m'] ?? NaN).toFixed(2)} | ${r.target === 'raw-uws' ? '1' : ratio(raw?.metrics['peak_server_cpu_s_per_m'], m['peak_server_cpu_s_per_m'])} | ${client} | ${cell(r.bottleneck)} | ${cell(r.notes.join('; '))} |`,
    );
  }
  return out;
}

function idleTable(rows: Row[]): string[] {
  const out = ['| target | connections | server RSS per connection | × raw uWS | connects/s during setup | notes |', '|---|---|---|---|---|---|'];
  for (const r of ok(rows, 'idle')) {
    if (r.status !== 'ok') {
      out.push(`| ${r.label} | ${r.params['connections']} | ${notRun(r)} |  |  |  |`);
      continue;
    }
    const raw = rows.find((x) => x.workload === 'idle' && x.target === 'raw-uws' && x.params['connections'] === r.params['connections'] && x.status === 'ok');
    out.push(
      `| ${r.label} | ${r.params['connections']} | ${s(r, 'kb_per_conn', (x) => `${x.toFixed(1)} KB`)} | ${r.target === 'raw-uws' ? '1' : ratio(r.metrics['kb_per_conn'], raw?.metrics['kb_per_conn'])} | ${s(r, 'setup_connects_per_s', fmtRate)} | ${cell(r.notes.join('; '))} |`,
    );
  }
  return out;
}

function giftTable(rows: Row[]): string[] {
  const out = [
    '| target | senders (window) | viewers | highest sustained offered rate gifts/s | p99 < 50 ms up to gifts/s | accepted gifts/s | p50 ms | p99 ms | max ms | peak accepted/s seen (gifts per script call) | server / Redis CPU µs per gift | gift:sent frames per viewer per gift | gifts reaching each viewer | ledger | bottleneck | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of ok(rows, 'gifts')) {
    if (r.status !== 'ok') {
      out.push(`| ${r.label} | ${notRun(r)} |  |  |  |  |  |  |  |  |  |  |  |  |  |  |`);
      continue;
    }
    const m = r.metrics;
    const ledger = `Redis ${m['redis_ledger_exact'] ? 'exact' : 'NOT exact'}, MongoDB ${m['mongo_ledger_exact'] ? 'exact' : 'not confirmed'}`;
    out.push(
      `| ${r.label} | ${r.params['senders']} (${r.params['window']}) | ${m['viewers'] ?? 0} | ${m['best_rate'] ?? '—'} | ${m['p99_ok_rate'] || '—'} | ${s(r, 'accepted_per_s', fmtRate)} | ${s(r, 'p50_ms', fmtMs)} | ${s(r, 'p99_ms', fmtMs)} | ${fmtMs(m['max_ms'] ?? NaN)} | ${fmtRate(m['peak_accepted_per_s'] ?? NaN)} (${(m['peak_gifts_per_batch'] ?? NaN).toFixed(1)}) | ${(m['server_cpu_us_per_gift'] ?? m['peak_server_cpu_us_per_gift'] ?? NaN).toFixed(0)} / ${(m['redis_cpu_us_per_gift'] ?? m['peak_redis_cpu_us_per_gift'] ?? NaN).toFixed(0)} | ${(m['frames_per_gift'] ?? NaN).toFixed(4)} | ${((m['gifts_reaching_each_viewer'] ?? NaN) * 100).toFixed(1)}% | ${ledger} | ${cell(r.bottleneck)} | ${cell(r.notes.join('; '))} |`,
    );
  }
  return out;
}

function churnTable(rows: Row[]): string[] {
  const raw = find(rows, 'churn', 'raw-uws');
  const out = ['| target | connect+close per s | × raw uWS | cycle p99 ms | server CPU ms per cycle | bottleneck | notes |', '|---|---|---|---|---|---|---|'];
  for (const r of ok(rows, 'churn')) {
    if (r.status !== 'ok') {
      out.push(`| ${r.label} | ${notRun(r)} |  |  |  |  |  |`);
      continue;
    }
    out.push(
      `| ${r.label} | ${s(r, 'cycles_per_s', fmtRate)} | ${r.target === 'raw-uws' ? '1' : ratio(r.metrics['cycles_per_s'], raw?.metrics['cycles_per_s'])} | ${fmtMs(r.metrics['p99_ms'] ?? NaN)} | ${(r.metrics['server_cpu_ms_per_cycle'] ?? NaN).toFixed(3)} | ${cell(r.bottleneck)} | ${cell(r.notes.join('; '))} |`,
    );
  }
  return out;
}

function chatTable(rows: Row[]): string[] {
  const out = [
    '| target | conversations | receivers view them | highest sustained offered msg/s | p99 < 50 ms up to msg/s | accepted msg/s | send→ack p50 / p99 ms | send→message:new p50 / p99 ms | deliveries/s | peak accepted/s seen | server / Redis CPU ms per 1k msgs | client cores | write queue in sustained windows: growth entries/s, lag s | after the sweep: queue, lag s, writer entries/s | MongoDB count = accepted | bottleneck | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of ok(rows, 'chat')) {
    if (r.status !== 'ok') {
      out.push(`| ${r.label} | ${r.params['shape'] ?? ''} | ${notRun(r)} |  |  |  |  |  |  |  |  |  |  |  |  |  |  |`);
      continue;
    }
    const m = r.metrics;
    const num = (k: string, d = 0): string => (m[k] === undefined || !Number.isFinite(m[k]) ? '—' : m[k]!.toFixed(d));
    const mongo = `burst ${m['burst_accepted'] ?? '?'}: ${m['mongo_exact'] ? 'yes' : 'NOT confirmed'}${m['mongo_exact_total'] !== undefined ? `; whole run ${m['accepted_total']}: ${m['mongo_exact_total'] ? 'yes' : 'NO'}` : '; whole run: not drained in time'}`;
    out.push(
      `| ${r.label} | ${r.params['shape']} | ${r.params['view'] ? 'yes' : 'no (notification per receiver)'} | ${m['best_rate'] ?? '—'} | ${m['p99_ok_rate'] || '—'} | ${s(r, 'accepted_per_s', fmtRate)} | ${s(r, 'ack_p50_ms', fmtMs)} / ${s(r, 'ack_p99_ms', fmtMs)} | ${s(r, 'del_p50_ms', fmtMs)} / ${s(r, 'del_p99_ms', fmtMs)} | ${s(r, 'deliveries_per_s', fmtRate)} | ${fmtRate(m['peak_accepted_per_s'] ?? NaN)} | ${s(r, 'server_cpu_ms_per_1k', (x) => x.toFixed(0))} / ${s(r, 'redis_cpu_ms_per_1k', (x) => x.toFixed(0))} | ${num('client_cores', 2)} | ${num('queue_growth_per_s')}, ${num('queue_lag_s', 1)} | ${num('queue_after_sweep')}, ${num('lag_after_sweep_s', 1)}, ${num('writer_entries_per_s')} | ${mongo} | ${cell(r.bottleneck)} | ${cell(r.notes.join('; '))} |`,
    );
  }
  return out;
}

function presenceTable(rows: Row[]): string[] {
  const out = [
    '| target | nodes | workers / churning users / watchers | connect+disconnect cycles/s | presence changes seen/s | seen / (2 × cycles × watchers) | connect→online seen p50 / p99 ms | disconnect→offline seen p50 / p99 ms | server CPU ms per cycle | Redis CPU ms per cycle | client cores | bottleneck | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of ok(rows, 'presence')) {
    if (r.status !== 'ok') {
      out.push(`| ${r.label} | ${r.nodes} | ${notRun(r)} |  |  |  |  |  |  |  |  |  |  |`);
      continue;
    }
    const m = r.metrics;
    out.push(
      `| ${r.label} | ${r.nodes} | ${r.params['workers']} / ${r.params['users']} / ${r.params['watchers']} | ${s(r, 'cycles_per_s', fmtRate)} | ${s(r, 'changes_per_s', fmtRate)} | ${((m['seen_ratio'] ?? NaN) * 100).toFixed(1)}% | ${s(r, 'online_p50_ms', fmtMs)} / ${s(r, 'online_p99_ms', fmtMs)} | ${s(r, 'offline_p50_ms', fmtMs)} / ${s(r, 'offline_p99_ms', fmtMs)} | ${s(r, 'server_cpu_ms_per_cycle', (x) => x.toFixed(3))} | ${r.nodes > 1 ? s(r, 'redis_cpu_ms_per_cycle', (x) => x.toFixed(3)) : '—'} | ${(m['client_cores'] ?? NaN).toFixed(2)} | ${cell(r.bottleneck)} | ${cell(r.notes.join('; '))} |`,
    );
  }
  return out;
}

function httpTable(rows: Row[]): string[] {
  const out = ['| target | endpoint | requests/s | × raw uWS | p99 ms | server CPU µs per request | bottleneck | notes |', '|---|---|---|---|---|---|---|---|'];
  for (const r of ok(rows, 'http')) {
    if (r.status !== 'ok') {
      out.push(`| ${r.label} | ${r.params['endpoint']} | ${notRun(r)} |  |  |  |  |  |`);
      continue;
    }
    const raw = rows.find((x) => x.workload === 'http' && x.target === 'raw-uws' && x.params['endpoint'] === r.params['endpoint'] && x.status === 'ok');
    out.push(
      `| ${r.label} | \`${r.params['endpoint']}\` | ${s(r, 'requests_per_s', fmtRate)} | ${r.target === 'raw-uws' ? '1' : ratio(r.metrics['requests_per_s'], raw?.metrics['requests_per_s'])} | ${fmtMs(r.metrics['p99_ms'] ?? NaN)} | ${(r.metrics['server_cpu_us_per_request'] ?? NaN).toFixed(0)} | ${cell(r.bottleneck)} | ${cell(r.notes.join('; '))} |`,
    );
  }
  return out;
}

/** The issue's targets, checked against this run's rows. */
function goals(rows: Row[]): string[] {
  const out: string[] = [];
  const lg = find(rows, 'fanout', 'livegate');
  const raw = find(rows, 'fanout', 'raw-uws');
  const sioUws = find(rows, 'fanout', 'sio-uws');
  // CPU per million deliveries is compared at each target's busiest step, sustained or not.
  const cpuPerM = (r: Row | undefined): number => r?.metrics['peak_server_cpu_s_per_m'] ?? Number.NaN;
  const sustained = (r: Row | undefined): number => r?.metrics['deliveries_per_s'] ?? 0;
  if (lg && raw) {
    const d = sustained(lg) / (sustained(raw) || Number.NaN);
    const eff = cpuPerM(raw) / cpuPerM(lg);
    const vsSio = sioUws ? sustained(lg) / (sustained(sioUws) || Number.NaN) : Number.NaN;
    const effSio = sioUws ? cpuPerM(sioUws) / cpuPerM(lg) : Number.NaN;
    const f = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');
    const p99 = lg.metrics['p99_ms'];
    // The issue's own yardstick: the highest rate whose p99 stays under 50 ms, livegate vs raw uWS.
    const fast = (r: Row | undefined): number => r?.metrics['p99_ok_rate'] ?? 0;
    const dFast = fast(lg) / (fast(raw) || Number.NaN);
    const fastLine = `highest rate with p99 < 50 ms: livegate ${fast(lg) || 'none'} msg/s, raw uWS ${fast(raw) || 'none'} msg/s${sioUws ? `, Socket.IO on uWS ${fast(sioUws) || 'none'} msg/s` : ''} (${f(dFast)} raw uWS)`;
    const met = Number.isFinite(dFast) && dFast >= 0.8 && (!sioUws || fast(lg) >= fast(sioUws));
    out.push(
      `- Single-room fan-out, one node, ≥ 0.8× raw uWS with p99 < 50 ms, not behind Socket.IO on uWS: sustained deliveries/s ${f(d)} raw uWS (livegate ${fmtRate(sustained(lg))}, p99 ${fmtMs(p99 ?? Number.NaN)} ms; raw ${fmtRate(sustained(raw))}); server CPU per delivery: raw uWS needs ${f(eff)} of livegate's (1.00× = as efficient); vs Socket.IO on uWS ${f(vsSio)} deliveries, CPU ${f(effSio)} ; ${fastLine} → **${met ? 'met' : 'missed'}** (judged on the highest rates with p99 < 50 ms, as the issue measured its reference numbers${Number.isFinite(d) && p99 !== undefined && p99 >= 50 ? `; at the highest sustained rate livegate's p99 is ${fmtMs(p99)} ms, over the 50 ms bar` : ''}). Read with the bottleneck column: on a saturated box the CPU ratio is the fairer one.`,
    );
  } else out.push('- Single-room fan-out vs raw uWS: not measured in this run.');
  const lg2 = find(rows, 'rooms', 'livegate-2n');
  const sio2 = ['sio-uws-redis', 'sio-node-redis'].map((t) => find(rows, 'rooms', t)).filter((r): r is Row => Boolean(r));
  const bestSio = sio2.sort((a, b) => (b.metrics['deliveries_per_s'] ?? 0) - (a.metrics['deliveries_per_s'] ?? 0))[0];
  if (lg2 && bestSio) {
    const x = (lg2.metrics['deliveries_per_s'] ?? 0) / (bestSio.metrics['deliveries_per_s'] ?? 1);
    out.push(`- Many rooms over two nodes ≥ 2× the best Socket.IO variant (${bestSio.label}): ${x.toFixed(2)}× → **${x >= 2 ? 'met' : 'missed'}**.`);
  } else {
    const why = rows.find((r) => r.workload === 'rooms' && r.target === 'livegate-2n');
    const lg1 = find(rows, 'rooms', 'livegate');
    const interim =
      lg1 && bestSio
        ? ` Interim only (not the target): livegate on one node sustained ${fmtRate(sustained(lg1))} deliveries/s, ${(sustained(lg1) / (sustained(bestSio) || Number.NaN)).toFixed(2)}× ${bestSio.label}.`
        : '';
    out.push(
      `- Many rooms over two nodes ≥ 2× the best Socket.IO variant: livegate two-node ${why ? `${why.status}${why.reason ? ` (${why.reason})` : ''}` : 'not run'}; no ratio.${interim}`,
    );
  }
  const lgIdle = rows.filter((r) => r.workload === 'idle' && r.target === 'livegate' && r.status === 'ok');
  for (const r of lgIdle) {
    const rawIdle = rows.find(
      (x) => x.workload === 'idle' && x.target === 'raw-uws' && x.params['connections'] === r.params['connections'] && x.status === 'ok',
    );
    if (!rawIdle) continue;
    const x = (r.metrics['kb_per_conn'] ?? 0) / (rawIdle.metrics['kb_per_conn'] ?? 1);
    out.push(
      `- Idle memory per connection ≤ 1.5× raw uWS at ${r.params['connections']}: ${r.metrics['kb_per_conn']!.toFixed(1)} vs ${rawIdle.metrics['kb_per_conn']!.toFixed(1)} KB = ${x.toFixed(2)}× → **${x <= 1.5 ? 'met' : 'missed'}**.`,
    );
  }
  const g = find(rows, 'gifts', 'livegate');
  if (g) {
    const perSec = g.metrics['accepted_per_s'] ?? 0;
    const met = perSec >= 20_000;
    out.push(
      `- ≥ 20,000 gift debits/s on one node: ${fmtRate(perSec)} accepted gifts/s sustained (highest offered rate passed: ${g.metrics['best_rate'] ?? 0}/s, p99 ack ${fmtMs(g.metrics['p99_ms'] ?? NaN)} ms; peak ${fmtRate(g.metrics['peak_accepted_per_s'] ?? NaN)}/s) → **${met ? 'met' : `missed by ${fmtRate(20_000 - perSec)}/s (${((perSec / 20_000) * 100).toFixed(0)}% of the target)`}**; ledger: Redis ${g.metrics['redis_ledger_exact'] ? 'exact' : 'NOT exact'}, MongoDB ${g.metrics['mongo_ledger_exact'] ? 'exact' : 'not confirmed'} (gifts table).`,
    );
  } else {
    const why = rows.find((r) => r.workload === 'gifts');
    out.push(`- ≥ 20,000 gift debits/s on one node: ${why ? `${why.status}${why.reason ? ` (${why.reason})` : ''}` : 'not run'}.`);
  }
  out.push("- Where livegate's time and memory go (node --cpu-prof and heap snapshots, summarised): bench/PROFILE.md (`node dist/bench/run.js --profile`).");
  return out;
}

export function section(info: RunInfo, rows: Row[]): string {
  const lines = [
    `## ${info.suite === 'full' ? 'Full suite' : info.suite === 'quick' ? 'Quick suite' : `Suite ${info.suite}`}`,
    '',
    `- command: \`${info.command}\``,
    `- date: ${info.date}, took ${Math.round(info.durationS)} s; every window: bench/results/${jsonlName(info)}`,
    `- machine: ${info.machine}`,
    `- versions: ${Object.entries(info.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `- load average at start ${info.loadStart.toFixed(2)}, at end ${info.loadEnd.toFixed(2)}; "others" in the bottleneck column is CPU used by processes outside the benchmark (other helpers' tests) during the window`,
    ...info.notes.map((n) => `- ${n}`),
    '',
    '### Against the targets',
    '',
    ...goals(rows),
    '',
    '### Fan-out: one room, one publisher',
    '',
    ...sweepTable(rows, 'fanout'),
    '',
    '### Many rooms',
    '',
    ...sweepTable(rows, 'rooms'),
    '',
    '### Idle connections',
    '',
    ...idleTable(rows),
    '',
    '### Gift bursts (one stream in a PK battle, one node with Redis and MongoDB)',
    '',
    ...giftTable(rows),
    '',
    '### Connection churn (connect, authenticate, close)',
    '',
    ...churnTable(rows),
    '',
    '### Chat with persistence (one node with Redis and MongoDB/FerretDB)',
    '',
    ...chatTable(rows),
    '',
    '### Presence churn (users connect and disconnect; watchers subscribed to their presence)',
    '',
    ...presenceTable(rows),
    '',
    '### HTTP (autocannon)',
    '',
    ...httpTable(rows),
    '',
  ];
  return lines.join('\n');
}

const HEADER = `# livegate benchmark results

Produced by \`npm run bench\` (full suite, ≤ 10 min) and \`npm run bench:quick\` (≤ 2 min); see bench/README.md
for what each workload does and how the bottleneck is named. Each section is rewritten by its own suite;
the raw measurements of every window are in bench/results/<suite>-<date>.jsonl (one file per run). Values are medians of the repeated
runs with ± half the min–max range; ratios compare against raw uWebSockets.js from the same run.
`;

export function writeResultsMd(info: RunInfo, rows: Row[]): void {
  const existing = existsSync(RESULTS_MD) ? readFileSync(RESULTS_MD, 'utf8') : '';
  const sections = new Map<string, string>();
  for (const m of existing.matchAll(/<!-- suite:(\w+) -->\n([\s\S]*?)<!-- \/suite:\1 -->/g)) sections.set(m[1]!, m[2]!);
  sections.set(info.suite, section(info, rows));
  const order = ['full', 'quick', ...[...sections.keys()].filter((k) => k !== 'full' && k !== 'quick')];
  const body = order.filter((k) => sections.has(k)).map((k) => `<!-- suite:${k} -->\n${sections.get(k)!.trimEnd()}\n<!-- /suite:${k} -->`);
  writeFileSync(RESULTS_MD, `${HEADER}\n${body.join('\n\n')}\n`);
}
