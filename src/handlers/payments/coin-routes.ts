/**
 * The coin shop and the wallet's money-in / money-out endpoints (seed 001: /api/coins/*,
 * /api/wallets/top-up, /api/wallets/withdraw). All of them go through PaymentService, the same
 * path as /api/payments/checkout and the `coins:purchase` socket event, so a purchase is charged,
 * credited and de-duplicated (per user and idempotencyKey) in one place.
 */
import { Type } from '@sinclair/typebox';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { CoinPackage, Payment, PurchaseInput, Payout, WithdrawInput, coinPackageView, paymentView, payoutView } from './schemas.js';
import { WITHDRAWAL, type PaymentService } from './service.js';

const paymentLinks = { GetPayment: { operationId: 'getPayment', parameters: { id: '$response.body#/id' } } };

export function coinRoutes(service: PaymentService): RouteDef[] {
  const purchase = async (userId: string, body: { packageId: string; provider?: string | undefined; idempotencyKey: string }) => {
    service.requireLedger();
    return paymentView(await service.checkout(userId, { provider: body.provider ?? 'dev', packageId: body.packageId, idempotencyKey: body.idempotencyKey }));
  };
  return [
    defineRoute(
      {
        method: 'get',
        path: '/api/coins/packages',
        operationId: 'listCoinPackages',
        summary: 'Coin packages on sale, in shop order',
        tags: ['coins'],
        auth: 'user',
        query: Type.Object(PageQuery),
        response: Paginated(CoinPackage, 'CoinPackagePage'),
      },
      async ({ query }) => {
        const w = pageWindow(query);
        const filter = { isActive: true };
        const [docs, total] = await Promise.all([
          service.packages().find(filter).sort({ sortOrder: 1, _id: 1 }).skip(w.skip).limit(w.limit).toArray(),
          service.packages().countDocuments(filter),
        ]);
        return pageOf(docs.map(coinPackageView), total, w);
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/coins/purchase',
        operationId: 'purchaseCoins',
        summary: 'Buy a coin package; the coins are credited at once',
        tags: ['coins'],
        auth: 'user',
        description:
          'The checkout path (`POST /api/payments/checkout`) with a required idempotencyKey: a retry with the same key returns the first payment and charges nothing twice (the `coins:purchase` socket event shares the key space). Credits `coins + bonusCoins` (ledger type `purchase`); `balanceAfter` is the new balance. With the development provider no money moves.',
        body: PurchaseInput,
        response: Payment,
        status: 201,
        errors: ['not_found', 'conflict'],
        links: paymentLinks,
      },
      async ({ principal, body }) => purchase(principal.userId, body),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/wallets/top-up',
        operationId: 'topUpWallet',
        summary: "Add coins to the caller's wallet by buying a coin package",
        tags: ['wallets'],
        auth: 'user',
        description: 'Same operation as `POST /api/coins/purchase` (one checkout path, one idempotency space): coins are sold only as catalogued packages.',
        body: PurchaseInput,
        response: Payment,
        status: 201,
        errors: ['not_found', 'conflict'],
        links: paymentLinks,
      },
      async ({ principal, body }) => purchase(principal.userId, body),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/wallets/withdraw',
        operationId: 'withdrawFromWallet',
        summary: 'Pay earned coins out through a payout provider',
        tags: ['wallets'],
        auth: 'user',
        description: `Debits \`amount\` coins (ledger type \`withdrawal\`) and asks the provider to pay them out. Rules: ${WITHDRAWAL.minCoins} to ${WITHDRAWAL.maxCoins} whole coins per request; only earned coins (gift shares, earning and commission credits) that were not withdrawn before and are still in the balance (GET /api/wallets: \`withdrawable\`), else 422 \`insufficient_funds\`; a failed payout returns the coins (\`withdrawal_reversal\`, status \`failed\`). A retry with the same idempotencyKey returns the first payout. With the development provider no money moves.`,
        body: WithdrawInput,
        response: Payout,
        status: 201,
        errors: ['not_found', 'conflict', 'insufficient_funds'],
      },
      async ({ principal, body }) =>
        payoutView(await service.withdraw(principal.userId, { provider: body.provider ?? 'dev', coins: body.amount, idempotencyKey: body.idempotencyKey })),
    ),
  ];
}
