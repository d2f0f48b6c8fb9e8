import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metrics of the money domains (gifts, wallets, PK, shopping), on the gateway's registry. */
export class MoneyMetrics {
  readonly gifts: Counter<'outcome'>;
  readonly coins: Counter<'flow'>;
  readonly giftSendsCoalesced: Counter;
  readonly giftFrames: Counter;
  readonly giftBatchSize: Histogram;
  readonly walletLoads: Counter<'source'>;
  readonly pkEnded: Counter<'result'>;
  readonly shoppingOrders: Counter;
  readonly ledgerErrors: Counter<'reason'>;

  constructor(registry: Registry, gauges: { outboxPending: () => Promise<number>; pkActive: () => Promise<number> }) {
    const registers = [registry];
    this.gifts = new Counter({
      name: 'livegate_gifts_total',
      help: 'gift:send requests by outcome (accepted, replayed, or the refusal code)',
      labelNames: ['outcome'],
      registers,
    });
    this.coins = new Counter({
      name: 'livegate_coins_moved_total',
      help: 'Coins moved by flow: gift_debit, creator_credit, platform_fee, credit, withdrawal, transfer',
      labelNames: ['flow'],
      registers,
    });
    this.giftSendsCoalesced = new Counter({
      name: 'livegate_gift_sends_coalesced_total',
      help: 'Accepted gift sends folded into gift:sent frames (divide by frames for the coalescing ratio)',
      registers,
    });
    this.giftFrames = new Counter({ name: 'livegate_gift_frames_total', help: 'gift:sent frames published to rooms', registers });
    this.giftBatchSize = new Histogram({
      name: 'livegate_gift_batch_size',
      help: 'gift:send requests per gift-send.lua call (batches grow with the load)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.walletLoads = new Counter({
      name: 'livegate_wallet_loads_total',
      help: 'Hot wallets installed from MongoDB (cold start or after a Redis loss)',
      labelNames: ['source'],
      registers,
    });
    this.pkEnded = new Counter({
      name: 'livegate_pk_battles_ended_total',
      help: 'PK battles ended by this node, by result (winner, tie)',
      labelNames: ['result'],
      registers,
    });
    this.shoppingOrders = new Counter({ name: 'livegate_shopping_orders_total', help: 'Live shopping orders recorded', registers });
    this.ledgerErrors = new Counter({
      name: 'livegate_money_ledger_errors_total',
      help: 'Money outbox failures by reason: commit (ledger writes not confirmed queued; the sweeper retries), sweep (a sweep failed), orphan (entry without its record, dropped), lost (records gone with a Redis that lost its data, not written)',
      labelNames: ['reason'],
      registers,
    });
    // Zero series from the start: the alert on increase() must see the first error.
    for (const reason of ['commit', 'sweep', 'orphan', 'lost']) this.ledgerErrors.inc({ reason }, 0);
    new Gauge({
      name: 'livegate_money_outbox_pending',
      help: 'Money records whose MongoDB writes are not yet confirmed queued (cluster-wide)',
      registers,
      async collect() {
        this.set(await gauges.outboxPending().catch(() => -1));
      },
    });
    new Gauge({
      name: 'livegate_pk_battles_active',
      help: 'PK battles running now (cluster-wide)',
      registers,
      async collect() {
        this.set(await gauges.pkActive().catch(() => -1));
      },
    });
  }
}
