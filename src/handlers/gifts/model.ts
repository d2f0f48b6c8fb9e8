/** The catalogue documents (seed 000: Gift, CoinPackage, Level, SupporterBadge, Currency). */

export type Rarity = 'common' | 'rare' | 'epic' | 'legendary';
export type GiftAnimation = 'none' | 'float' | 'pulse' | 'sparkle' | 'burst' | 'rain' | 'fullscreen';

export interface Gift {
  _id: string;
  name: string;
  description: string;
  /** Price of one gift in coins (whole coins). */
  price: number;
  currency: 'coins';
  icon: string;
  animationUrl: string | null;
  animation: GiftAnimation;
  category: string;
  rarity: Rarity;
  isActive: boolean;
  isFeatured: boolean;
  isLimitedEdition: boolean;
  availableFrom: Date | null;
  availableUntil: Date | null;
  popularity: number;
  sortOrder: number;
  /** Creator's share in percent (0-100); the platform keeps the rest. */
  creatorEarningsPercent: number;
}

export interface CoinPackage {
  _id: string;
  name: string;
  coins: number;
  bonusCoins: number;
  price: number;
  currency: string;
  isPopular: boolean;
  isBestValue: boolean;
  isActive: boolean;
  sortOrder: number;
}

export interface Level {
  _id: string;
  level: number;
  name: string;
  minXP: number;
  maxXP: number;
  rewards: { coins: number; badges: string[]; features: string[] };
  icon: string;
  color: string;
}

export interface SupporterBadge {
  _id: string;
  name: string;
  description: string;
  icon: string;
  color: string;
  requirement: 'subscription' | 'gifts' | 'duration' | 'engagement' | 'special';
  threshold: number;
  isActive: boolean;
  rarity: Rarity;
}

export interface Currency {
  _id: string;
  code: string;
  name: string;
  symbol: string;
  exchangeRate: number;
  baseCurrency: string;
  isActive: boolean;
  isDefault: boolean;
  decimalPlaces: number;
  country: string | null;
  flag: string | null;
}

export interface Catalogue {
  gifts: Gift[];
  coinPackages: CoinPackage[];
  levels: Level[];
  supporterBadges: SupporterBadge[];
  currencies: Currency[];
}

export type CatalogueKind = keyof Catalogue;
export const CATALOGUE_KINDS: readonly CatalogueKind[] = ['gifts', 'coinPackages', 'levels', 'supporterBadges', 'currencies'];

/** Whether a gift can be sent at `now`: active and inside its availability window (from inclusive, until exclusive). */
export function isGiftAvailable(gift: Gift, now: Date): boolean {
  if (!gift.isActive) return false;
  if (gift.availableFrom && now < gift.availableFrom) return false;
  if (gift.availableUntil && now >= gift.availableUntil) return false;
  return true;
}
