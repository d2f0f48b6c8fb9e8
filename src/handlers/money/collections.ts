/** MongoDB collection names of the money domains (mongoose's default plural names, as the backend uses). */
export const COLLECTIONS = {
  wallets: 'wallets',
  transactions: 'transactions',
  gifts: 'gifts',
  giftTransactions: 'gifttransactions',
  coinPackages: 'coinpackages',
  currencies: 'currencies',
  levels: 'levels',
  supporterBadges: 'supporterbadges',
  pkBattles: 'pkbattles',
  shoppingSessions: 'liveshoppingsessions',
  shoppingOrders: 'liveshoppingorders',
  livestreams: 'livestreams',
  users: 'users',
} as const;
