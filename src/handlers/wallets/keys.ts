/**
 * Every Redis key the money domains use, in one place. The hot state (balances, idempotency
 * records, scores, leaderboards, the outbox) lives on the data Redis (core.redis) and has no
 * TTL unless stated: Redis must run with `maxmemory-policy noeviction` (docs/MONEY.md).
 */
export const moneyKeys = {
  /** hash {b: balance, e: lifetime earnings, w: coins withdrawn (net of reversals), v: version}: the hot wallet. */
  wallet: (userId: string) => `wallet:{${userId}}`,
  /**
   * string (JSON record, TTL = idempotency window): the outcome of one gift, one-wallet entry
   * (credit, or the debit of a withdrawal) or transfer, per (user, key).
   */
  idem: (kind: 'gift' | 'credit' | 'transfer', userId: string, key: string) => `money:idem:${kind}:${userId}:${key}`,
  /**
   * string: the id of this Redis' money data (a random id made on first use). A Redis that lost
   * its data has none, so a wallet read from MongoDB before the loss is never installed after it.
   */
  epoch: 'money:epoch',
  /** zset idem key -> due ms: records whose MongoDB writes are not yet confirmed queued. */
  outbox: 'money:outbox',
  /** hash {<giftId>:n, <giftId>:c, coins, gifts}: exact per-gift totals of a stream. */
  streamTotals: (livestreamId: string) => `gifts:stream:{${livestreamId}}:totals`,
  /** zset sender -> coins given in a stream. */
  streamBoard: (livestreamId: string) => `lb:stream:{${livestreamId}}`,
  /** zset sender -> coins given to a creator, all streams and profiles. */
  creatorBoard: (creatorId: string) => `lb:creator:{${creatorId}}`,
  /** string battleId: the battle a host is in while it is pending or active. */
  pkActive: (hostId: string) => `pk:active:{${hostId}}`,
  /** hash: one PK battle (status, hosts, scores, times). */
  pkBattle: (battleId: string) => `pk:battle:{${battleId}}`,
  /** zset battleId -> endsAt ms: every node polls it; the one whose ZREM succeeds ends the battle. */
  pkEnds: 'pk:ends',
  /** zset hostId -> wins. */
  pkWins: 'pk:rank:wins',
  /** string: bumped whenever the catalogue in MongoDB changes; nodes poll it. */
  catalogVersion: 'catalog:version',
  /** hash: live shopping counters of a stream (orders, revenueCoins, pinned JSON with server-known prices). */
  shopping: (livestreamId: string) => `shop:{${livestreamId}}`,
  /** HyperLogLog of users who opened the product panel / of buyers. */
  shoppingViewers: (livestreamId: string) => `shop:{${livestreamId}}:viewers`,
  shoppingBuyers: (livestreamId: string) => `shop:{${livestreamId}}:buyers`,
  /** set of order ids already counted (idempotent order recording). */
  shoppingOrders: (livestreamId: string) => `shop:{${livestreamId}}:orders`,
  /** set of orderIds with PX = one minute: the orders one buyer placed in one stream in this window (rate limit). */
  shoppingRate: (livestreamId: string, buyerId: string) => `shop:{${livestreamId}}:rate:${buyerId}`,
} as const;

/** The room of a livestream's viewers, `live:<streamId>` (the livestream module's own name for it). */
export { streamRoom as livestreamRoom } from '../livestream/viewers.js';
