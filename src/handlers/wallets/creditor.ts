/**
 * The payments module's WalletCreditor seam, backed by the money WalletService: a coin purchase or
 * an admin credit becomes one idempotent ledger credit keyed by what caused it (payment/adjustment
 * id); a payout becomes one idempotent `withdrawal` debit keyed by the payout id, and a failed
 * payout one `withdrawal_reversal` credit.
 */
import type { WalletCreditor } from '../payments/providers.js';
import type { MoneyServices } from './services.js';

export function moneyCreditor(services: MoneyServices | undefined): WalletCreditor | undefined {
  if (!services) return undefined;
  const { wallets } = services;
  return {
    async credit(request) {
      const ack = await wallets.credit(
        request.userId,
        request.coins,
        request.description,
        `${request.reason}:${request.referenceId}`,
        request.reason === 'coin_purchase' ? 'purchase' : 'bonus',
        { id: request.referenceId, type: request.reason === 'coin_purchase' ? 'payment' : 'wallet_adjustment' },
      );
      return { transactionId: ack.transactionId, balance: ack.balance };
    },
    async debitForPayout(request) {
      const ack = await wallets.debitForPayout(request.userId, request.coins, request.description, `withdrawal:${request.payoutId}`, {
        id: request.payoutId,
        type: 'payout',
      });
      return { transactionId: ack.transactionId, balance: ack.balance };
    },
    async reversePayout(request) {
      const ack = await wallets.credit(request.userId, request.coins, request.description, `withdrawal_reversal:${request.payoutId}`, 'withdrawal_reversal', {
        id: request.payoutId,
        type: 'payout',
      });
      return { transactionId: ack.transactionId, balance: ack.balance };
    },
  };
}
