/**
 * Sending a gift: validate against the catalogue, check a profile gift's recipient, hand the gift
 * to the batcher (gift-batch.ts: the stream host lookup, gift-send.lua, the one atomic step that
 * moves coins, and the outbox commit of the MongoDB writes), then fold the send into the room's
 * coalesced frame and tell the PK scorer. The ack carries the sender's new balance.
 */
import type { Logger } from 'pino';
import { AppError, type ErrorCode } from '../../kernel/errors.js';
import { giftAck, giftTransactionId, giftWrites, type GiftAck, type GiftContext, type GiftMeta, type GiftRecord } from '../wallets/ledger.js';
import type { MoneyMetrics } from '../wallets/metrics.js';
import type { MoneyStore } from '../wallets/money-store.js';
import type { Outbox } from '../wallets/outbox.js';
import { IDEMPOTENCY_KEY } from '../wallets/service.js';
import type { CatalogService } from './catalog.js';
import type { GiftCoalescer } from './coalescer.js';
import type { GiftBatcher } from './gift-batch.js';
import { isGiftAvailable } from './model.js';

export interface GiftSendInput {
  giftId: string;
  quantity: number;
  livestreamId?: string;
  recipientId?: string;
  context?: GiftContext;
  contentId?: string;
  idempotencyKey: string;
  message?: string;
  isAnonymous?: boolean;
}

/** Told about every accepted gift that changed a PK battle's score. */
export type PkScoreListener = (battleId: string) => void;

export class GiftService {
  private readonly knownUsers = new Set<string>();
  private pkListener: PkScoreListener = () => {};
  private acceptedListener: (record: GiftRecord) => void = () => {};

  constructor(
    private readonly catalog: CatalogService,
    private readonly batcher: GiftBatcher,
    private readonly store: MoneyStore,
    outbox: Outbox,
    private readonly coalescer: GiftCoalescer,
    private readonly metrics: MoneyMetrics,
    private readonly log: Logger,
    redis: { get(key: string): Promise<string | null> },
  ) {
    outbox.register('money:idem:gift:', async (key) => {
      const raw = await redis.get(key);
      return raw ? giftWrites(JSON.parse(raw) as GiftRecord) : undefined;
    });
  }

  onPkScore(listener: PkScoreListener): void {
    this.pkListener = listener;
  }

  /** Told once about every newly accepted gift (not about replays). */
  onAccepted(listener: (record: GiftRecord) => void): void {
    this.acceptedListener = listener;
  }

  async send(senderId: string, input: GiftSendInput): Promise<GiftAck> {
    try {
      return await this.trySend(senderId, input);
    } catch (err) {
      this.metrics.gifts.inc({ outcome: err instanceof AppError ? err.code : 'internal' });
      throw err;
    }
  }

  private async trySend(senderId: string, input: GiftSendInput): Promise<GiftAck> {
    if (!IDEMPOTENCY_KEY.test(input.idempotencyKey)) refuse('validation_failed', 'idempotencyKey must be 8-128 characters of A-Z a-z 0-9 _ . : -');
    if (!Number.isSafeInteger(input.quantity) || input.quantity < 1) refuse('validation_failed', 'quantity must be a positive whole number');
    const gift = this.catalog.gift(input.giftId);
    if (!gift) refuse('not_found', `gift "${input.giftId}" does not exist`);
    if (!isGiftAvailable(gift, new Date())) refuse('conflict', `gift "${gift._id}" is not available now`);

    if (input.recipientId === senderId) refuse('bad_request', 'you cannot send a gift to yourself');
    const context: GiftContext = input.context ?? (input.livestreamId ? 'livestream' : 'profile');
    const meta: GiftMeta = {
      giftTransactionId: giftTransactionId(senderId, input.idempotencyKey),
      idempotencyKey: input.idempotencyKey,
      giftName: gift.name,
      giftIcon: gift.icon,
      context,
      livestreamId: input.livestreamId ?? null,
      contentId: input.contentId ?? null,
      message: input.message ?? null,
      isAnonymous: input.isAnonymous ?? false,
    };
    const { status, record } = await this.batcher.submit({
      senderId,
      to: input.livestreamId ? { stream: input.livestreamId, named: input.recipientId } : { user: await this.knownRecipient(input.recipientId) },
      idempotencyKey: input.idempotencyKey,
      giftId: gift._id,
      quantity: input.quantity,
      unitPrice: gift.price,
      creatorEarningsPercent: gift.creatorEarningsPercent,
      meta,
    });
    if (status === 'replay') {
      this.metrics.gifts.inc({ outcome: 'replayed' });
      return giftAck(record);
    }
    this.metrics.gifts.inc({ outcome: 'accepted' });
    this.metrics.coins.inc({ flow: 'gift_debit' }, record.totalCost);
    this.metrics.coins.inc({ flow: 'creator_credit' }, record.creatorEarnings);
    this.metrics.coins.inc({ flow: 'platform_fee' }, record.platformFee);
    this.coalescer.add(record, gift);
    if (record.pk) this.pkListener(record.pk.battleId);
    this.acceptedListener(record);
    return giftAck(record);
  }

  /** Waits until every gift sent so far is answered and its MongoDB writes are queued. */
  idle(): Promise<void> {
    return this.batcher.idle();
  }

  /** The named recipient of a profile gift, if the user is known. */
  private async knownRecipient(recipientId: string | undefined): Promise<string> {
    if (!recipientId) refuse('validation_failed', 'give livestreamId or recipientId');
    if (!this.knownUsers.has(recipientId)) {
      const exists = await this.store.userExists(recipientId).catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message }, 'user lookup failed');
        throw new AppError('unavailable', 'cannot check the recipient now; retry');
      });
      if (!exists) refuse('not_found', `user "${recipientId}" does not exist`);
      this.rememberUser(recipientId);
    }
    return recipientId;
  }

  private rememberUser(userId: string): void {
    if (this.knownUsers.size > 100_000) this.knownUsers.clear();
    this.knownUsers.add(userId);
  }
}

function refuse(code: ErrorCode, message: string): never {
  throw new AppError(code, message);
}
