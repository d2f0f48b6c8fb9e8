/**
 * The gift models shared by the socket events and the HTTP routes: `GiftSendInput` validates both
 * `gift:send` and `POST /api/gifts/send` (one schema, one set of rules), and the views clients see.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { EmittedEvents } from '../../gateway/handler.js';
import { DateTime, IdempotencyKey, Nullable, UserId } from '../../kernel/schemas.js';
import type { GiftAck } from '../wallets/ledger.js';
import { isGiftAvailable, type Gift } from './model.js';

const Id = Type.String({ minLength: 1, maxLength: 128 });

export const GiftSend = Type.Object(
  {
    giftId: Type.String({ minLength: 1, maxLength: 64 }),
    quantity: Type.Integer({ minimum: 1, maximum: 9999 }),
    livestreamId: Type.Optional(Id),
    recipientId: Type.Optional(UserId),
    context: Type.Optional(Type.Union([Type.Literal('livestream'), Type.Literal('video'), Type.Literal('profile'), Type.Literal('message')])),
    contentId: Type.Optional(Id),
    idempotencyKey: IdempotencyKey,
    message: Type.Optional(Type.String({ maxLength: 200 })),
    isAnonymous: Type.Optional(Type.Boolean()),
  },
  {
    $id: 'GiftSendInput',
    additionalProperties: false,
    description: 'livestreamId (the gift goes to the stream host) or recipientId (a user); idempotencyKey names the request per sender',
  },
);

export const GiftSendResult = Type.Object(
  {
    giftTransactionId: Type.String(),
    giftId: Type.String(),
    recipientId: Type.String(),
    livestreamId: Nullable(Type.String()),
    quantity: Type.Integer({ minimum: 1 }),
    unitPrice: Type.Integer({ minimum: 0 }),
    totalCost: Type.Integer({ minimum: 0 }),
    creatorEarnings: Type.Integer({ minimum: 0 }),
    platformFee: Type.Integer({ minimum: 0 }),
    balance: Type.Integer({ description: "the sender's balance after the gift" }),
    createdAt: DateTime,
  },
  { $id: 'GiftSendResult', additionalProperties: false },
);

export const giftSendResult = (ack: GiftAck): Static<typeof GiftSendResult> => ack;

const giftProperties = {
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  price: Type.Integer({ minimum: 0, description: 'coins per gift' }),
  currency: Type.String(),
  icon: Type.String(),
  animationUrl: Nullable(Type.String()),
  animation: Type.String(),
  category: Type.String(),
  rarity: Type.String(),
  isActive: Type.Boolean(),
  isFeatured: Type.Boolean(),
  isLimitedEdition: Type.Boolean(),
  availableFrom: Nullable(DateTime),
  availableUntil: Nullable(DateTime),
  popularity: Type.Number(),
  sortOrder: Type.Number(),
  creatorEarningsPercent: Type.Number({ minimum: 0, maximum: 100 }),
  available: Type.Boolean({ description: 'active and inside its availability window now: gift:send / POST /api/gifts/send accept it' }),
};

export const GiftSchema = Type.Object(giftProperties, { $id: 'Gift', additionalProperties: false });

export const PopularGift = Type.Object(
  { ...giftProperties, sentLastWeek: Type.Integer({ minimum: 0, description: 'units sent in the last 7 days (all senders)' }) },
  { $id: 'PopularGift', additionalProperties: false },
);

export type GiftBody = Static<typeof GiftSchema>;

const str = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const date = (d: Date | null): string | null => (d && !Number.isNaN(d.getTime()) ? d.toISOString() : null);

/** What clients see of a catalogue gift (every field present and typed, whatever the stored document lacks). */
export function giftBody(g: Gift, now: Date): GiftBody {
  return {
    id: g._id,
    name: str(g.name, g._id),
    description: str(g.description, ''),
    price: Math.max(0, Math.trunc(num(g.price))),
    currency: str(g.currency, 'coins'),
    icon: str(g.icon, ''),
    animationUrl: typeof g.animationUrl === 'string' ? g.animationUrl : null,
    animation: str(g.animation, 'none'),
    category: str(g.category, ''),
    rarity: str(g.rarity, 'common'),
    isActive: g.isActive === true,
    isFeatured: g.isFeatured === true,
    isLimitedEdition: g.isLimitedEdition === true,
    availableFrom: date(g.availableFrom),
    availableUntil: date(g.availableUntil),
    popularity: num(g.popularity),
    sortOrder: num(g.sortOrder),
    creatorEarningsPercent: Math.min(100, Math.max(0, num(g.creatorEarningsPercent))),
    available: isGiftAvailable(g, now),
  };
}

/** A gift as the socket's `gift:catalog` and `catalog:get` give it: the Gift view with the document's `_id`. */
export const CatalogGift = Type.Object({ _id: Type.String(), ...giftProperties }, { $id: 'CatalogGift', additionalProperties: false });
export const catalogGift = (g: Gift, now: Date): Static<typeof CatalogGift> => ({ _id: g._id, ...giftBody(g, now) });

/** Catalogue documents (seed 000) as stored: the fields below, and whatever else the backend stored with them. */
const open = { additionalProperties: true } as const;
const CoinPackageDoc = Type.Object(
  {
    _id: Type.String(),
    name: Type.String(),
    coins: Type.Integer(),
    bonusCoins: Type.Integer(),
    price: Type.Number(),
    currency: Type.String(),
    isPopular: Type.Boolean(),
    isBestValue: Type.Boolean(),
    isActive: Type.Boolean(),
    sortOrder: Type.Number(),
  },
  { $id: 'CatalogCoinPackage', ...open },
);
const LevelDoc = Type.Object(
  {
    _id: Type.String(),
    level: Type.Integer(),
    name: Type.String(),
    minXP: Type.Number(),
    maxXP: Type.Number(),
    rewards: Type.Object({ coins: Type.Integer(), badges: Type.Array(Type.String()), features: Type.Array(Type.String()) }, open),
    icon: Type.String(),
    color: Type.String(),
  },
  { $id: 'CatalogLevel', ...open },
);
const SupporterBadgeDoc = Type.Object(
  {
    _id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    icon: Type.String(),
    color: Type.String(),
    requirement: Type.String(),
    threshold: Type.Number(),
    isActive: Type.Boolean(),
    rarity: Type.String(),
  },
  { $id: 'CatalogSupporterBadge', ...open },
);
const CurrencyDoc = Type.Object(
  {
    _id: Type.String(),
    code: Type.String(),
    name: Type.String(),
    symbol: Type.String(),
    exchangeRate: Type.Number(),
    baseCurrency: Type.String(),
    isActive: Type.Boolean(),
    isDefault: Type.Boolean(),
    decimalPlaces: Type.Integer(),
    country: Nullable(Type.String()),
    flag: Nullable(Type.String()),
  },
  { $id: 'CatalogCurrency', ...open },
);

export const GiftCatalogAck = Type.Object({ version: Type.String(), gifts: Type.Array(CatalogGift) }, { additionalProperties: false });
const catalogKind = <K extends string, I extends TSchema>(kind: K, item: I) =>
  Type.Object({ kind: Type.Literal(kind), version: Type.String(), items: Type.Array(item) }, { additionalProperties: false });
export const CatalogAck = Type.Union([
  catalogKind('gifts', CatalogGift),
  catalogKind('coinPackages', CoinPackageDoc),
  catalogKind('levels', LevelDoc),
  catalogKind('supporterBadges', SupporterBadgeDoc),
  catalogKind('currencies', CurrencyDoc),
]);

export const WalletCreditAck = Type.Object(
  { transactionId: Type.String(), userId: Type.String(), amount: Type.Integer(), balance: Type.Integer(), createdAt: DateTime },
  { $id: 'WalletCreditAck', additionalProperties: false },
);
export const LeaderboardAck = Type.Object(
  {
    livestreamId: Type.Optional(Type.String()),
    creatorId: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer()),
    entries: Type.Array(Type.Object({ userId: Type.String(), coins: Type.Integer() }, { additionalProperties: false }), { description: 'most coins first' }),
  },
  { additionalProperties: false },
);
export const GiftTotalsAck = Type.Object(
  {
    livestreamId: Type.String(),
    coins: Type.Integer(),
    gifts: Type.Integer(),
    byGift: Type.Record(Type.String(), Type.Object({ count: Type.Integer(), coins: Type.Integer() }, { additionalProperties: false }), {
      description: 'giftId -> count and coins',
    }),
  },
  { additionalProperties: false },
);

/** The ack of `wallet:balance`. */
export const WalletBalance = Type.Object({ userId: Type.String(), balance: Type.Integer(), currency: Type.Literal('coins') }, { additionalProperties: false });

/** `gift:sent` (src/handlers/gifts/coalescer.ts GiftSentFrame): coalesced gift frames. */
export const GIFT_EVENTS: EmittedEvents = {
  'gift:sent': {
    schema: Type.Object(
      {
        livestreamId: Nullable(Type.String()),
        recipientId: Type.String(),
        sender: Nullable(Type.Object({ userId: Type.String() }, { additionalProperties: false, description: 'null for anonymous gifts' })),
        giftId: Type.String(),
        giftName: Type.String(),
        giftIcon: Type.String(),
        animation: Type.String(),
        rarity: Type.String(),
        count: Type.Integer({ description: 'gifts folded into this frame (sum of quantities)' }),
        coins: Type.Integer({ description: 'coins of the gifts in this frame' }),
        sends: Type.Integer({ description: 'gift:send requests folded into this frame' }),
        combo: Type.Object({ id: Type.String(), count: Type.Integer() }, { additionalProperties: false }),
        totals: Nullable(
          Type.Object(
            { giftCount: Type.Integer(), giftCoins: Type.Integer(), streamCoins: Type.Integer(), streamGifts: Type.Integer() },
            { additionalProperties: false },
          ),
        ),
        message: Nullable(Type.String()),
        sentAt: { ...DateTime, description: 'when the newest send in the frame happened' },
      },
      { additionalProperties: false },
    ),
    to: 'room',
    description: 'Gifts to a stream (its room) or to a user (their user room), coalesced per GIFT_COALESCE_MS.',
  },
};
