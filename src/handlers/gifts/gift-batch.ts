/**
 * Gift sends go to Redis in batches. The sends that arrive while a batch is in Redis wait for
 * the next one, which carries them all as one gift-send.lua call: each gift stays all or nothing
 * and is applied in arrival order. What is paid per batch instead of per gift:
 * - one host lookup per stream, one read of the recipients' PK pointers, one script call;
 * - one write-queue append and one outbox clear for all the accepted gifts.
 * A lone gift goes out at once as a batch of one. Under a burst the batches grow by themselves,
 * so round trips, socket writes and script overhead per gift fall as the load rises.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError } from '../../kernel/errors.js';
import { coalesce } from '../../store/bulk.js';
import { moneyKeys } from '../wallets/keys.js';
import { giftWrites, type GiftMeta, type GiftRecord } from '../wallets/ledger.js';
import { GIFT_ARGS, GIFT_KEYS, giftSendScript } from '../wallets/lua/gift-send.js';
import type { MoneyMetrics } from '../wallets/metrics.js';
import type { Outbox } from '../wallets/outbox.js';
import type { StreamDirectory } from '../wallets/stream-directory.js';

/** One gift:send, validated against the catalogue. */
export interface GiftJob {
  senderId: string;
  /**
   * A stream gift goes to the stream's host, looked up per batch (`named`: the recipient the
   * client gave, which must be the host). A profile gift goes to a user already known to exist.
   */
  to: { stream: string; named: string | undefined } | { user: string };
  idempotencyKey: string;
  giftId: string;
  quantity: number;
  unitPrice: number;
  creatorEarningsPercent: number;
  meta: GiftMeta;
}

export interface GiftOutcome {
  status: 'ok' | 'replay';
  record: GiftRecord;
}

export interface GiftBatchOptions {
  /** Most gifts per script call. */
  maxBatch: number;
  idempotencyTtlSec: number;
  outboxGraceMs: number;
}

/** Wallets not hot in Redis are loaded from MongoDB; a gift waits for at most this many loads. */
const MAX_LOADS = 3;

interface Pending {
  job: GiftJob;
  loads: number;
  resolve(outcome: GiftOutcome): void;
  reject(err: unknown): void;
}

interface Ready {
  p: Pending;
  recipientId: string;
}

export class GiftBatcher {
  private queue: Pending[] = [];
  private running: Promise<void> | undefined;
  private readonly commits = new Set<Promise<boolean>>();

  constructor(
    private readonly redis: Redis,
    private readonly streams: StreamDirectory,
    private readonly wallets: { ensureLoaded(userId: string): Promise<void>; assertServing(): void },
    private readonly outbox: Outbox,
    private readonly metrics: MoneyMetrics,
    private readonly log: Logger,
    private readonly opts: GiftBatchOptions,
  ) {}

  submit(job: GiftJob): Promise<GiftOutcome> {
    return new Promise<GiftOutcome>((resolve, reject) => {
      this.queue.push({ job, loads: 0, resolve, reject });
      // Sends read in the same I/O phase join the first batch.
      this.running ??= new Promise<void>((done) => setImmediate(() => void this.drain().finally(done)));
    });
  }

  /** Waits until every submitted gift is answered and its MongoDB writes are queued. */
  async idle(): Promise<void> {
    while (this.running || this.commits.size > 0) await Promise.all([this.running, ...this.commits]);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      try {
        await this.apply(batch);
      } catch (err) {
        // The lookups or the script call failed. Gifts not yet answered get the error; Redis may
        // still have applied the script, and a client's retry with the same key then replays it.
        for (const p of batch) p.reject(err);
      }
    }
    this.running = undefined;
  }

  private async apply(batch: Pending[]): Promise<void> {
    this.wallets.assertServing(); // money is refused on a Redis without the required durability
    const ready = await this.recipients(batch);
    if (ready.length === 0) return;
    this.metrics.giftBatchSize.observe(ready.length);
    const battleIds = await this.activeBattles(ready);
    const keys: string[] = [moneyKeys.outbox];
    const args: Array<string | number> = [this.opts.idempotencyTtlSec, this.opts.outboxGraceMs, ready.length];
    for (const { p, recipientId } of ready) {
      const j = p.job;
      const streamId = 'stream' in j.to ? j.to.stream : '';
      const battleId = battleIds.get(recipientId) ?? '';
      const total = j.quantity * j.unitPrice;
      const earnings = Math.floor((total * j.creatorEarningsPercent) / 100);
      const m = j.meta;
      // The record's fixed fields, spelled out (a spread of the meta costs more per gift).
      const fixed: Omit<
        GiftRecord,
        | 'senderBalanceBefore'
        | 'senderBalanceAfter'
        | 'senderVersion'
        | 'recipientBalanceBefore'
        | 'recipientBalanceAfter'
        | 'recipientEarnings'
        | 'recipientVersion'
        | 'ts'
      > = {
        giftTransactionId: m.giftTransactionId,
        idempotencyKey: m.idempotencyKey,
        giftName: m.giftName,
        giftIcon: m.giftIcon,
        context: m.context,
        livestreamId: m.livestreamId,
        contentId: m.contentId,
        message: m.message,
        isAnonymous: m.isAnonymous,
        senderId: j.senderId,
        recipientId,
        giftId: j.giftId,
        quantity: j.quantity,
        unitPrice: j.unitPrice,
        totalCost: total,
        creatorEarnings: earnings,
        platformFee: total - earnings,
      };
      keys.push(
        moneyKeys.idem('gift', j.senderId, j.idempotencyKey),
        moneyKeys.wallet(j.senderId),
        moneyKeys.wallet(recipientId),
        moneyKeys.streamTotals(streamId),
        moneyKeys.streamBoard(streamId),
        moneyKeys.creatorBoard(recipientId),
        moneyKeys.pkActive(recipientId),
        moneyKeys.pkBattle(battleId),
      );
      args.push(j.senderId, recipientId, j.giftId, j.quantity, total, earnings, battleId, streamId, JSON.stringify(fixed));
    }
    if (keys.length !== 1 + ready.length * GIFT_KEYS || args.length !== 3 + ready.length * GIFT_ARGS)
      throw new Error('gift-send: key or argument layout out of step with the script');
    const reply = (await giftSendScript.run(this.redis, keys, args)) as string[];
    const again = this.settle(ready, reply);
    if (again.gifts.length === 0) return;
    // Gifts whose wallets were not hot go first in the next batch, once those wallets are loaded.
    try {
      await Promise.all([...again.wallets].map((id) => this.wallets.ensureLoaded(id)));
      this.queue.unshift(...again.gifts);
    } catch (err) {
      for (const p of again.gifts) p.reject(err);
    }
  }

  /** The recipient of every gift; gifts into a stream that is not live (or unknown) are refused. */
  private async recipients(batch: Pending[]): Promise<Ready[]> {
    const lookups = new Map<string, Promise<{ host: string | undefined } | { failed: Error }>>();
    for (const { job } of batch) {
      if ('stream' in job.to && !lookups.has(job.to.stream)) {
        lookups.set(
          job.to.stream,
          this.streams.hostOf(job.to.stream).then(
            (host) => ({ host }),
            (err: unknown) => ({ failed: err as Error }),
          ),
        );
      }
    }
    const ready: Ready[] = [];
    for (const p of batch) {
      const { to, senderId } = p.job;
      if ('user' in to) {
        ready.push({ p, recipientId: to.user });
        continue;
      }
      const found = await lookups.get(to.stream)!;
      if ('failed' in found) {
        this.log.warn({ err: found.failed.message }, 'livestream lookup failed');
        p.reject(new AppError('unavailable', 'cannot check the livestream now; retry'));
      } else if (!found.host) p.reject(new AppError('not_found', `livestream "${to.stream}" does not exist or has ended`));
      else if (to.named && to.named !== found.host) p.reject(new AppError('bad_request', 'recipientId must be the stream host (or left out)'));
      else if (found.host === senderId) p.reject(new AppError('bad_request', 'you cannot send a gift to yourself'));
      else ready.push({ p, recipientId: found.host });
    }
    return ready;
  }

  /** The PK battle each recipient is in (read once per batch; the script checks it again). */
  private async activeBattles(ready: Ready[]): Promise<Map<string, string>> {
    const recipients = [...new Set(ready.map((r) => r.recipientId))];
    const ids = await this.redis.mget(recipients.map((id) => moneyKeys.pkActive(id)));
    const battles = new Map<string, string>();
    recipients.forEach((id, i) => {
      const battleId = ids[i];
      if (battleId) battles.set(id, battleId);
    });
    return battles;
  }

  /** Answers every gift of the batch; returns those to run again once their wallets are hot. */
  private settle(ready: Ready[], reply: string[]): { gifts: Pending[]; wallets: Set<string> } {
    const accepted: GiftRecord[] = [];
    const idems: string[] = [];
    const toLoad = new Set<string>();
    const again: Pending[] = [];
    ready.forEach(({ p }, i) => {
      const status = reply[2 * i];
      const payload = reply[2 * i + 1] ?? '';
      switch (status) {
        case 'ok': {
          const record = JSON.parse(payload) as GiftRecord;
          accepted.push(record);
          idems.push(moneyKeys.idem('gift', p.job.senderId, p.job.idempotencyKey));
          p.resolve({ status: 'ok', record });
          break;
        }
        case 'replay':
          p.resolve({ status: 'replay', record: JSON.parse(payload) as GiftRecord });
          break;
        case 'insufficient_funds':
          p.reject(new AppError('insufficient_funds', `balance ${payload} does not cover ${p.job.quantity * p.job.unitPrice} coins`));
          break;
        case 'no_wallet':
          if (p.loads >= MAX_LOADS) p.reject(new Error(`wallet ${payload} could not be made hot`));
          else {
            p.loads += 1;
            toLoad.add(payload);
            again.push(p);
          }
          break;
        default:
          p.reject(new Error(`gift-send: unexpected reply ${String(status)}`));
      }
    });
    if (accepted.length > 0) this.commit(idems, accepted);
    return { gifts: again, wallets: toLoad };
  }

  /** Queues the accepted gifts' MongoDB writes (one append) and clears their outbox entries. */
  private commit(idems: string[], records: GiftRecord[]): void {
    const done = this.outbox.commitMany(idems, coalesce(records.flatMap(giftWrites)));
    this.commits.add(done);
    void done.finally(() => this.commits.delete(done));
  }
}
