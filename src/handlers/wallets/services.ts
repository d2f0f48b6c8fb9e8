/**
 * The money domains' shared services: wallets, catalogue, gifts, PK battles and live shopping share
 * Redis scripts, the outbox and the metrics. Built once per node by the composition root
 * (src/modules.ts) and handed to the modules that use them; the wallets module starts and stops them.
 */
import type { Redis } from 'ioredis';
import type { Core } from '../../core.js';
import { AppError } from '../../kernel/errors.js';
import type { WriteQueue } from '../../store/write-queue.js';
import { CatalogService } from '../gifts/catalog.js';
import { GiftCoalescer } from '../gifts/coalescer.js';
import { GiftBatcher } from '../gifts/gift-batch.js';
import { GiftService } from '../gifts/service.js';
import { streamGiftState } from '../gifts/stream-state.js';
import { streamDirectoryFor } from '../livestream/directory.js';
import { PkService } from '../pk/service.js';
import { ShoppingService } from '../shopping/service.js';
import { MoneyDurabilityGuard } from './durability.js';
import { moneyKeys } from './keys.js';
import { MoneyMetrics } from './metrics.js';
import { EmptyMoneyStore, MongoMoneyStore, type MoneyStore } from './money-store.js';
import { Outbox } from './outbox.js';
import { WalletService } from './service.js';
import type { StreamDirectory } from './stream-directory.js';

export interface MoneyServices {
  redis: Redis;
  queue: WriteQueue;
  store: MoneyStore;
  streams: StreamDirectory;
  outbox: Outbox;
  durability: MoneyDurabilityGuard;
  metrics: MoneyMetrics;
  catalog: CatalogService;
  wallets: WalletService;
  coalescer: GiftCoalescer;
  gifts: GiftService;
  pk: PkService;
  shopping: ShoppingService;
}

/** The node's money services, or undefined without Redis (money state lives only in Redis). */
export function createMoneyServices(core: Core): MoneyServices | undefined {
  const redis = core.redis;
  if (!redis) {
    core.log.warn('money: REDIS_URL is not set; gifts, wallets, PK battles and live shopping are unavailable');
    return undefined;
  }
  const cfg = core.config.money;
  const log = core.log.child({ component: 'money' });
  const queue = core.queue;
  const store: MoneyStore = core.documents.configured ? new MongoMoneyStore(core.documents) : new EmptyMoneyStore();
  // Read per gift batch (one small Redis read per stream): a stream that ended stops taking gifts at once.
  const streams: StreamDirectory = streamDirectoryFor(core);
  const metrics = new MoneyMetrics(core.metrics.registry, {
    outboxPending: () => redis.zcard(moneyKeys.outbox),
    pkActive: () => redis.zcard(moneyKeys.pkEnds),
  });
  const outbox = new Outbox(redis, queue, log, {
    sweepMs: cfg.outboxSweepMs,
    leaseMs: Math.max(cfg.outboxGraceMs, 2000),
    onError: (reason) => metrics.ledgerErrors.inc({ reason }),
  });
  const publish = (room: string, event: string, data: unknown): void => core.hub.send(room, event, data);
  const catalog = new CatalogService(core.documents, redis, log, cfg.catalogRefreshMs);
  const durability = new MoneyDurabilityGuard(redis, log, { mode: cfg.durability, reloadFenceMs: cfg.reloadFenceMs });
  const wallets = new WalletService(
    redis,
    store,
    outbox,
    metrics,
    log,
    { idempotencyTtlSec: cfg.idempotencyTtlSec, outboxGraceMs: cfg.outboxGraceMs },
    durability,
  );
  const coalescer = new GiftCoalescer(publish, cfg.giftCoalesceMs, cfg.giftComboWindowMs, metrics);
  const batcher = new GiftBatcher(redis, streams, wallets, outbox, metrics, log, {
    maxBatch: cfg.giftBatchMax,
    idempotencyTtlSec: cfg.idempotencyTtlSec,
    outboxGraceMs: cfg.outboxGraceMs,
  });
  const gifts = new GiftService(catalog, batcher, store, outbox, coalescer, metrics, log, redis);
  const pk = new PkService(redis, outbox, publish, core.roomState, metrics, log, {
    pollMs: cfg.pkPollMs,
    scoreIntervalMs: cfg.pkScoreIntervalMs,
    inviteTtlSec: cfg.pkInviteTtlSec,
    outboxGraceMs: cfg.outboxGraceMs,
  });
  gifts.onPkScore((battleId) => pk.scoreChanged(battleId));
  const streamState = streamGiftState(core.roomState, redis, core.config.hotRooms.topSupporters);
  // The stream's keyed state (totals, top supporters); backend webhooks (durable, signed;
  // docs/BRIDGE.md), in order per sender / per battle.
  gifts.onAccepted((r) => {
    streamState(r);
    core.webhooks.emit(
      'gift.sent',
      {
        giftTransactionId: r.giftTransactionId,
        senderId: r.isAnonymous ? null : r.senderId,
        receiverId: r.recipientId,
        giftId: r.giftId,
        quantity: r.quantity,
        coins: r.totalCost,
        creatorEarnings: r.creatorEarnings,
        livestreamId: r.livestreamId,
        context: r.context,
      },
      r.livestreamId ? `livestream:${r.livestreamId}` : `user:${r.recipientId}`,
    );
  });
  pk.onEnded((b) =>
    core.webhooks.emit(
      'pk_battle.ended',
      {
        battleId: b.battleId,
        winnerId: b.winnerId,
        result: b.result,
        host1Id: b.host1Id,
        host2Id: b.host2Id,
        host1Score: b.host1Score,
        host2Score: b.host2Score,
      },
      `pk_battle:${b.battleId}`,
    ),
  );
  const shopping = new ShoppingService(redis, streams, queue, publish, metrics, wallets, cfg.shoppingOrdersPerMinute);
  return { redis, queue, store, streams, outbox, durability, metrics, catalog, wallets, coalescer, gifts, pk, shopping };
}

/** For handlers: the services, or a typed `unavailable` error in a node without Redis. */
export function requireMoney(services: MoneyServices | undefined): MoneyServices {
  if (!services) throw new AppError('unavailable', 'gifts, wallets, PK and shopping need REDIS_URL on this node');
  return services;
}
