/** MongoDB collection names of the money domains (shared with the HTTP modules: payments reads coin_packages, supporters reads supporter_badges). */
export const COLLECTIONS = {
  wallets: 'wallets',
  transactions: 'transactions',
  gifts: 'gifts',
  giftTransactions: 'gifttransactions',
  walletTransfers: 'wallettransfers',
  coinPackages: 'coin_packages',
  currencies: 'currencies',
  levels: 'levels',
  supporterBadges: 'supporter_badges',
  pkBattles: 'pkbattles',
  shoppingSessions: 'liveshoppingsessions',
  shoppingOrders: 'liveshoppingorders',
  livestreams: 'livestreams',
  users: 'users',
} as const;
