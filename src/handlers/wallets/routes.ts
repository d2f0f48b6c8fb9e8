/**
 * Wallets over HTTP (seed 001: /api/wallets*): the hot balances of WalletService (the same state
 * the socket events and the gift script change), the ledger from MongoDB, and transfers between
 * users (wallet-transfer.lua, idempotent per sender and key). Top-up and withdraw are payments
 * (src/handlers/payments/coin-routes.ts). A user sees only their own wallet and ledger (403 for
 * anyone else's); admins may read any user's, and get 404 for a user livegate does not know.
 */
import { Type } from '@sinclair/typebox';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { DateTime, IdempotencyKey, Nullable, UserId, assertOwner } from '../../kernel/schemas.js';
import type { Principal } from '../../kernel/session.js';
import type { RoomSend } from '../../rooms/hub.js';
import { MAX_TRANSFER } from './service.js';
import { requireMoney, type MoneyServices } from './services.js';

const tags = ['wallets'];
const Coins = Type.Integer({ minimum: 0 });

const Wallet = Type.Object(
  {
    userId: Type.String(),
    balance: Coins,
    currency: Type.Literal('coins'),
    totalEarnings: Type.Integer({ minimum: 0, description: 'lifetime earnings: gift shares, earning and commission credits' }),
    withdrawn: Type.Integer({ minimum: 0, description: 'coins paid out so far (failed payouts not counted)' }),
    withdrawable: Type.Integer({ minimum: 0, description: 'what POST /api/wallets/withdraw may take now: min(balance, totalEarnings - withdrawn)' }),
  },
  { $id: 'Wallet', additionalProperties: false },
);

const WalletBalance = Type.Object(
  { userId: Type.String(), balance: Coins, currency: Type.Literal('coins') },
  { $id: 'WalletBalance', additionalProperties: false },
);

const WalletTransaction = Type.Object(
  {
    id: Type.String(),
    userId: Type.String(),
    type: Type.String({ description: 'purchase, bonus, refund, earning, commission, gift_sent, gift_received, transfer, withdrawal, withdrawal_reversal' }),
    amount: Type.Integer({ description: 'coins; negative for debits' }),
    currency: Type.String(),
    description: Type.String(),
    status: Type.String(),
    balanceBefore: Nullable(Type.Integer()),
    balanceAfter: Nullable(Type.Integer()),
    referenceId: Nullable(Type.String()),
    referenceType: Nullable(Type.String({ description: 'gift_transaction, transfer, payment, payout, wallet_adjustment' })),
    createdAt: DateTime,
  },
  { $id: 'WalletTransaction', additionalProperties: false },
);

const TransferInput = Type.Object(
  {
    recipientId: UserId,
    amount: Type.Integer({ minimum: 1, maximum: MAX_TRANSFER, description: `whole coins, 1-${MAX_TRANSFER}` }),
    idempotencyKey: IdempotencyKey,
    note: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { $id: 'TransferInput', additionalProperties: false },
);

const WalletTransfer = Type.Object(
  {
    transferId: Type.String(),
    senderId: Type.String(),
    recipientId: Type.String(),
    amount: Type.Integer({ minimum: 1 }),
    note: Nullable(Type.String()),
    balance: Type.Integer({ description: "the sender's balance after the transfer" }),
    createdAt: DateTime,
  },
  { $id: 'WalletTransfer', additionalProperties: false },
);

const UserParams = Type.Object({ userId: UserId });

const int = (n: number): number => (Number.isFinite(n) ? Math.trunc(n) : 0);

/** Publishes a socket event to a room on every node (core.hub.publish). */

export function walletRoutes(services: MoneyServices | undefined, publish: RoomSend): RouteDef[] {
  const money = (): MoneyServices => requireMoney(services);

  /** Own wallet, or an admin reading a user livegate knows; 403 for anyone else's (whether it exists or not). */
  const readable = async (principal: Principal, userId: string): Promise<MoneyServices> => {
    const m = money();
    assertOwner(userId, principal, 'this wallet');
    if (userId !== principal.userId && !(await m.store.userExists(userId))) throw new AppError('not_found', `user "${userId}" not found`);
    return m;
  };

  return [
    defineRoute(
      {
        method: 'get',
        path: '/api/wallets',
        operationId: 'getMyWallet',
        summary: "The caller's wallet: balance, earnings and what may be withdrawn",
        tags,
        auth: 'user',
        description: 'Read from the hot wallet (the balance gift:send and every other money operation change), so it includes what was just acknowledged.',
        response: Wallet,
      },
      async ({ principal }) => {
        const state = await money().wallets.state(principal.userId);
        return {
          userId: principal.userId,
          balance: int(state.balance),
          currency: 'coins' as const,
          totalEarnings: int(state.earnings),
          withdrawn: int(state.withdrawn),
          withdrawable: int(state.withdrawable),
        };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/wallets/:userId/balance',
        operationId: 'getWalletBalance',
        summary: "A wallet's balance (your own; admins: anyone's)",
        tags,
        auth: 'user',
        description: "Same answer as the socket event `wallet:balance`. Someone else's wallet: 403 (admins: 404 for an unknown user).",
        params: UserParams,
        response: WalletBalance,
        errors: ['not_found'],
      },
      async ({ principal, params }) => {
        const m = await readable(principal, params.userId);
        return { userId: params.userId, balance: int(await m.wallets.balance(params.userId)), currency: 'coins' as const };
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/wallets/:userId/transactions',
        operationId: 'listWalletTransactions',
        summary: "A wallet's ledger, newest first (your own; admins: anyone's)",
        tags,
        auth: 'user',
        description:
          "The ledger rows in MongoDB (written through the write queue, so an operation acknowledged a moment ago may not be listed yet). Someone else's: 403 (admins: 404 for an unknown user).",
        params: UserParams,
        query: Type.Object(PageQuery),
        response: Paginated(WalletTransaction, 'WalletTransactionPage'),
        errors: ['not_found'],
      },
      async ({ principal, params, query }) => {
        const m = await readable(principal, params.userId);
        const w = pageWindow(query);
        const { rows, total } = await m.store.ledgerPage(params.userId, w.skip, w.limit);
        const items = rows.map((r) => ({
          ...r,
          amount: int(r.amount),
          balanceBefore: r.balanceBefore === null ? null : int(r.balanceBefore),
          balanceAfter: r.balanceAfter === null ? null : int(r.balanceAfter),
          createdAt: r.createdAt.toISOString(),
        }));
        return pageOf(items, total, w);
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/wallets/transfer',
        operationId: 'transferCoins',
        summary: 'Send coins from your wallet to another user',
        tags,
        auth: 'user',
        description:
          "All or nothing in one Redis script: the balance never goes below zero (422 `insufficient_funds`, nothing moved). The recipient must be a known user (404) and not yourself (422). Transferred coins add to the recipient's balance, not to their earnings (they cannot be withdrawn). The recipient's devices get `wallet:transfer`. A retry with the same idempotencyKey returns the first result.",
        body: TransferInput,
        response: WalletTransfer,
        status: 201,
        errors: ['not_found', 'insufficient_funds'],
      },
      async ({ principal, body }) => {
        const m = money();
        const { ack, accepted, record } = await m.wallets.transfer(principal.userId, body.recipientId, body.amount, body.idempotencyKey, body.note ?? null);
        if (accepted) {
          const event = {
            transferId: ack.transferId,
            senderId: ack.senderId,
            amount: ack.amount,
            note: ack.note,
            balance: record.recipientBalanceAfter,
            createdAt: ack.createdAt,
          };
          publish(userRoom(record.recipientId), 'wallet:transfer', event);
        }
        return ack;
      },
    ),
  ];
}
