/** Drives the Go loadgen (bench/loadgen): one process, line commands in, JSON lines out. */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sleep, spawnTracked } from './proc.js';
import type { Sparse } from './stats.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
/** Built per checkout (.data is not shared): worktrees that share a linked .tools cannot replace each other's client mid-run. */
export const LOADGEN_BIN = join(ROOT, '.data', 'bin', 'loadgen');

export interface Ready {
  type: 'ready';
  open: number;
  failed?: number;
  error?: string;
  setup_ms?: number;
}

export interface Report {
  type: 'report';
  count?: number;
  hist?: Sparse;
  max_us?: number;
  dropped?: number;
  sent?: number;
  errors?: number;
  error?: string;
  /** gift: requests a full window kept from being sent; acks since start; acks still awaited. */
  skipped?: number;
  ok_total?: number;
  errors_total?: number;
  waiting?: number;
  /** sub: data frames, and with countGifts the gift:sent frames and the sends they fold in. */
  frames?: number;
  gift_frames?: number;
  gift_sends?: number;
  /** chat: message:new seen by receivers (own echo excluded), what the acked messages should reach, their latencies; bytes read. */
  delivered?: number;
  expected?: number;
  dhist?: Sparse;
  dmax_us?: number;
  bytes?: number;
  sent_total?: number;
  delivered_total?: number;
  expected_total?: number;
  /** presence: presence:update online/offline seen by watchers, changes of an earlier cycle, latencies. */
  online?: number;
  offline?: number;
  stale?: number;
  on_hist?: Sparse;
  on_max_us?: number;
  off_hist?: Sparse;
  off_max_us?: number;
}

type Message = Ready | Report | { type: 'ok' } | { type: 'fatal'; error: string };

export interface LoadgenArgs {
  mode: 'sub' | 'pub' | 'churn' | 'gift' | 'chat' | 'presence';
  proto: string;
  urls: string[];
  secret: string;
  n: number;
  offset?: number;
  rooms?: number;
  prefix?: string;
  join?: boolean;
  readBuf?: number;
  payload?: number;
  /** sub: least milliseconds between two reads of a socket (frames batch per read; adds at most that to latency). */
  pollMs?: number;
  /** native sub: join with this event and data field instead of bench:join {room}. */
  joinEvent?: string;
  joinKey?: string;
  countGifts?: boolean;
  /** native: wait for this event after connecting (livegate: session:ready, sent once the token is verified). */
  readyEvent?: string;
  /** sub: 'spread' (a room's subscribers alternate nodes) or 'room' (all on the room's node). */
  layout?: 'spread' | 'room';
  /** gift mode: the gift id, the livestream, and the most unacked requests per connection. */
  gift?: string;
  stream?: string;
  window?: number;
  /** chat mode: the conversations file, and whether each connection views its first conversation. */
  convs?: string;
  view?: boolean;
  /** presence mode: watcher connections (on watchUrls), churning users, time connected per cycle. */
  watchers?: number;
  users?: number;
  watchUrls?: string[];
  holdMs?: number;
}

export class Loadgen {
  private readonly queue: Message[] = [];
  private waiter: ((m: Message) => void) | undefined;
  private exited = false;
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly args: LoadgenArgs,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch {
        return;
      }
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(message);
      } else this.queue.push(message);
    });
    child.stderr?.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-2000)));
    child.once('exit', (code) => {
      this.exited = true;
      this.waiter?.({ type: 'fatal', error: `loadgen exited (${code}): ${this.stderr.trim()}` });
      this.waiter = undefined;
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  static async start(args: LoadgenArgs, timeoutMs = 120_000): Promise<{ gen: Loadgen; ready: Ready }> {
    const argv = [
      `-mode=${args.mode}`,
      `-proto=${args.proto}`,
      `-urls=${args.urls.join(',')}`,
      `-secret=${args.secret}`,
      `-n=${args.n}`,
      `-offset=${args.offset ?? 0}`,
      `-rooms=${args.rooms ?? 1}`,
      `-prefix=${args.prefix ?? 'bench:'}`,
      `-join=${args.join ?? true}`,
      `-readbuf=${args.readBuf ?? 16384}`,
      `-payload=${args.payload ?? 64}`,
      `-poll=${args.pollMs ?? 0}ms`,
      ...(args.joinEvent ? [`-joinevent=${args.joinEvent}`, `-joinkey=${args.joinKey ?? 'room'}`] : []),
      ...(args.countGifts ? ['-countgifts'] : []),
      ...(args.readyEvent ? [`-readyevent=${args.readyEvent}`] : []),
      ...(args.layout ? [`-layout=${args.layout}`] : []),
      ...(args.mode === 'gift' ? [`-gift=${args.gift ?? 'heart'}`, `-stream=${args.stream ?? ''}`, `-window=${args.window ?? 16}`] : []),
      ...(args.mode === 'chat' ? [`-convs=${args.convs ?? ''}`, `-window=${args.window ?? 16}`, `-view=${args.view ?? false}`] : []),
      ...(args.mode === 'presence'
        ? [
            `-watchers=${args.watchers ?? 10}`,
            `-users=${args.users ?? 400}`,
            `-hold=${args.holdMs ?? 0}ms`,
            ...(args.watchUrls ? [`-watchurls=${args.watchUrls.join(',')}`] : []),
          ]
        : []),
    ];
    const child = spawnTracked(LOADGEN_BIN, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, GOGC: '400' } });
    const gen = new Loadgen(child, args);
    const first = await gen.next(timeoutMs);
    if (first.type !== 'ready') {
      await gen.quit();
      throw new Error(`loadgen ${args.mode}: ${first.type === 'fatal' ? first.error : `unexpected ${first.type}`}`);
    }
    return { gen, ready: first };
  }

  private next(timeoutMs = 30_000): Promise<Message> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.exited) return Promise.resolve({ type: 'fatal', error: `loadgen exited: ${this.stderr.trim()}` });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve({ type: 'fatal', error: `loadgen did not answer in ${timeoutMs} ms` });
      }, timeoutMs);
      this.waiter = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
    });
  }

  private async command(line: string): Promise<Message> {
    if (this.exited) throw new Error(`loadgen exited: ${this.stderr.trim()}`);
    this.child.stdin!.write(`${line}\n`);
    const reply = await this.next();
    if (reply.type === 'fatal') throw new Error(reply.error);
    return reply;
  }

  async reset(): Promise<void> {
    await this.command('reset');
  }

  async rate(perSecond: number): Promise<void> {
    await this.command(`rate ${Math.round(perSecond)}`);
  }

  async report(): Promise<Report> {
    const reply = await this.command('report');
    if (reply.type !== 'report') throw new Error(`loadgen: expected a report, got ${reply.type}`);
    return reply;
  }

  async quit(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end('quit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Waits (at most `maxMs`) until every request the generator sent has its ack; its last report. */
export async function settled(gen: Loadgen, maxMs: number): Promise<Report> {
  let rep = await gen.report();
  for (let waited = 0; waited < maxMs && (rep.waiting ?? 0) > 0; waited += 100) {
    await sleep(100);
    rep = await gen.report();
  }
  return rep;
}
