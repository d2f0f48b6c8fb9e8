/**
 * The money domains' shared services, built once per node from Core: wallets, catalogue, gifts,
 * PK battles and live shopping share Redis scripts, the outbox and the metrics. The gifts, pk and
 * shopping modules each take what they need from here.
 */
import type { Redis } from 'ioredis';
import type { Core } from '../../core.js';
import { AppError } from '../../gateway/errors.js';
import type { WriteQueue } from '../../store/write-queue.js';
import { CatalogService } from '../gifts/catalog.js';
import { GiftCoalescer } from '../gifts/coalescer.js';
import { GiftBatcher } from '../gifts/gift-batch.js';
import { GiftService } from '../gifts/gift-service.js';
import { PkService } from '../pk/pk-service.js';
import { ShoppingService } from '../shopping/shopping-service.js';
import { MoneyMetrics } from './metrics.js';
import { EmptyMoneyStore, MongoMoneyStore, type MoneyStore } from './money-store.js';
import { moneyKeys } from './keys.js';
import { Outbox } from './outbox.js';
import type { StreamDirectory } from './stream-directory.js';
import { streamDirectoryFor } from '../../livestream/directory.js';
import { WalletService } from './wallet-service.js';

export interface MoneyServices {
  redis: Redis;
  queue: WriteQueue;
  store: MoneyStore;
  streams: StreamDirectory;
  outbox: Outbox;
  metrics: MoneyMetrics;
  catalog: CatalogService;
  wallets: WalletService;
  coalescer: GiftCoalescer;
  gifts: GiftService;
  pk: PkService;
  shopping: ShoppingService;
}

const built = new WeakMap<Core, MoneyServices | null>();

/** The node's money services, or undefined without Redis (money state lives only in Redis). */
export function moneyServices(core: Core): MoneyServices | undefined {
  const existing = built.get(core);
  if (existing !== undefined) return existing ?? undefined;
  const redis = core.redis;
  if (!redis) {
    core.log.warn('money: REDIS_URL is not set; gifts, wallets, PK battles and live shopping are unavailable');
    built.set(core, null);
    return undefined;
  }
  const cfg = core.config.money;
  const log = core.log.child({ component: 'money' });
  const queue = core.queue;
  const mongo = core.mongo;
  const store: MoneyStore = mongo ? new MongoMoneyStore(mongo) : new EmptyMoneyStore();
  // Read per gift batch (one small Redis read per stream): a stream that ended stops taking gifts at once.
  const streams: StreamDirectory = streamDirectoryFor(core);
  const metrics = new MoneyMetrics(core.metrics.registry, {
    outboxPending: () => redis.zcard(moneyKeys.outbox),
    pkActive: () => redis.zcard(moneyKeys.pkEnds),
  });
  const outbox = new Outbox(redis, queue, log, { sweepMs: cfg.outboxSweepMs, leaseMs: Math.max(cfg.outboxGraceMs, 2000), onError: (reason) => metrics.ledgerErrors.inc({ reason }) });
  const publish = (room: string, event: string, data: unknown): void => {
    core.hub.publish(room, event, data).catch((err: unknown) => log.warn({ err: (err as Error).message, room, event }, 'room publish failed'));
  };
  const catalog = new CatalogService(core.mongo, redis, log, cfg.catalogRefreshMs);
  const wallets = new WalletService(redis, store, outbox, metrics, log, { idempotencyTtlSec: cfg.idempotencyTtlSec, outboxGraceMs: cfg.outboxGraceMs });
  const coalescer = new GiftCoalescer(publish, cfg.giftCoalesceMs, cfg.giftComboWindowMs, metrics);
  const batcher = new GiftBatcher(redis, streams, wallets, outbox, metrics, log, { maxBatch: cfg.giftBatchMax, idempotencyTtlSec: cfg.idempotencyTtlSec, outboxGraceMs: cfg.outboxGraceMs });
  const gifts = new GiftService(catalog, batcher, store, outbox, coalescer, metrics, log, redis);
  const pk = new PkService(redis, outbox, publish, metrics, log, { pollMs: cfg.pkPollMs, scoreIntervalMs: cfg.pkScoreIntervalMs, inviteTtlSec: cfg.pkInviteTtlSec, outboxGraceMs: cfg.outboxGraceMs });
  gifts.onPkScore((battleId) => pk.scoreChanged(battleId));
  // Backend webhooks (durable, signed; docs/BRIDGE.md), in order per sender / per battle.
  gifts.onAccepted((r) =>
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
    ),
  );
  pk.onEnded((b) =>
    core.webhooks.emit(
      'pk_battle.ended',
      { battleId: b.battleId, winnerId: b.winnerId, result: b.result, host1Id: b.host1Id, host2Id: b.host2Id, host1Score: b.host1Score, host2Score: b.host2Score },
      `pk_battle:${b.battleId}`,
    ),
  );
  const shopping = new ShoppingService(redis, streams, queue, publish, metrics);
  const services: MoneyServices = { redis, queue, store, streams, outbox, metrics, catalog, wallets, coalescer, gifts, pk, shopping };
  built.set(core, services);
  return services;
}

/** For handlers: the services, or a typed `unavailable` error in a node without Redis. */
export function requireMoney(services: MoneyServices | undefined): MoneyServices {
  if (!services) throw new AppError('unavailable', 'gifts, wallets, PK and shopping need REDIS_URL on this node');
  return services;
}
