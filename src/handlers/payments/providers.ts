/**
 * The payment-provider seam. Real providers (Stripe, app stores) implement PaymentProvider;
 * the only one shipped is DevPaymentProvider, which charges nothing and is enabled solely by
 * DEV_PAYMENTS=true.
 *
 * Crediting coins is the wallet ledger's job (the money module's WalletService): it plugs in
 * as a WalletCreditor. Without one, payments and admin credits are recorded with
 * `creditStatus: "awaiting_wallet_service"` and nothing is credited.
 */
import { randomUUID } from 'node:crypto';

export interface ChargeRequest {
  paymentId: string;
  userId: string;
  /** Price in minor units (cents). */
  amountMinor: number;
  currency: string;
  description: string;
}

export type ChargeResult = { status: 'succeeded'; providerRef: string } | { status: 'failed'; providerRef: string | null; reason: string };

export interface PaymentProvider {
  readonly id: string;
  readonly displayName: string;
  /** True for providers that move no real money. */
  readonly development: boolean;
  charge(request: ChargeRequest): Promise<ChargeResult>;
}

export interface CreditRequest {
  userId: string;
  coins: number;
  /** Ledger reason, e.g. coin_purchase, admin_credit. */
  reason: 'coin_purchase' | 'admin_credit';
  /** Stable id of what caused the credit (payment or adjustment id): the ledger credits it once. */
  referenceId: string;
  actorId: string;
  description: string;
}

export interface WalletCreditor {
  credit(request: CreditRequest): Promise<{ transactionId: string; balance: number | null }>;
}

/** DEVELOPMENT ONLY: every charge succeeds at once and no money moves. Never enable in production. */
export class DevPaymentProvider implements PaymentProvider {
  readonly id = 'dev';
  readonly displayName = 'Development payments (no money moves)';
  readonly development = true;

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    return { status: 'succeeded', providerRef: `dev_${request.paymentId}_${randomUUID().slice(0, 8)}` };
  }
}
