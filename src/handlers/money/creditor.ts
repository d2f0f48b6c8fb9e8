/**
 * The payments module's WalletCreditor seam, backed by the money WalletService: a coin purchase or
 * an admin credit becomes one idempotent ledger credit keyed by what caused it (payment/adjustment id).
 */
import type { Core } from '../../core.js';
import type { WalletCreditor } from '../payments/providers.js';
import { moneyServices } from './services.js';

export function moneyCreditor(core: Core): WalletCreditor | undefined {
  const services = moneyServices(core);
  if (!services) return undefined;
  return {
    async credit(request) {
      const ack = await services.wallets.credit(
        request.userId,
        request.coins,
        request.description,
        `${request.reason}:${request.referenceId}`,
        request.reason === 'coin_purchase' ? 'purchase' : 'bonus',
      );
      return { transactionId: ack.transactionId, balance: ack.balance };
    },
  };
}
