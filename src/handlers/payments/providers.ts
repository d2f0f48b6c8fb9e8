/**
 * The payment-provider seam. Real providers (Stripe, app stores, payout services) implement
 * PaymentProvider: `charge` for coin purchases, `payout` for withdrawals. The only one shipped is
 * DevPaymentProvider, which moves no money and is enabled solely by DEV_PAYMENTS=true.
 *
 * Crediting and debiting coins is the wallet ledger's job (the money module's WalletService): it
 * plugs in as a WalletCreditor. Without one, checkouts and admin credits are recorded with
 * `creditStatus: "awaiting_wallet_service"` and nothing is credited; purchases through the coin
 * shop / top-up and withdrawals are refused (503) instead.
 */
export interface ChargeRequest {
  paymentId: string;
  userId: string;
  /** Price in minor units (cents). */
  amountMinor: number;
  currency: string;
  description: string;
}

export type ChargeResult = { status: 'succeeded'; providerRef: string } | { status: 'failed'; providerRef: string | null; reason: string };

export interface PayoutRequest {
  /** Stable per (user, idempotency key): a provider must pay one payoutId at most once. */
  payoutId: string;
  userId: string;
  /** Coins taken from the wallet; converting them to cash is the provider's (the backend's) rule. */
  coins: number;
  description: string;
}

export type PayoutResult = ChargeResult;

/**
 * A provider must be idempotent on `paymentId` / `payoutId`: a second charge (payout) with the same
 * id charges (pays) nothing and answers the first outcome. livegate calls it again only when a
 * request that claimed a payment failed or crashed before recording the outcome.
 */
export interface PaymentProvider {
  readonly id: string;
  readonly displayName: string;
  /** True for providers that move no real money. */
  readonly development: boolean;
  charge(request: ChargeRequest): Promise<ChargeResult>;
  payout(request: PayoutRequest): Promise<PayoutResult>;
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

export interface PayoutEntryRequest {
  userId: string;
  coins: number;
  /** The payout: the ledger debits (and reverses) it once. */
  payoutId: string;
  description: string;
}

export interface WalletCreditor {
  credit(request: CreditRequest): Promise<{ transactionId: string; balance: number | null }>;
  /** Takes earned coins out for a payout (ledger type withdrawal); throws AppError insufficient_funds. */
  debitForPayout(request: PayoutEntryRequest): Promise<{ transactionId: string; balance: number }>;
  /** Gives a failed payout's coins back (ledger type withdrawal_reversal). */
  reversePayout(request: PayoutEntryRequest): Promise<{ transactionId: string; balance: number }>;
}

/** DEVELOPMENT ONLY: every charge succeeds at once and no money moves. Never enable in production. */
export class DevPaymentProvider implements PaymentProvider {
  readonly id = 'dev';
  readonly displayName = 'Development payments (no money moves)';
  readonly development = true;

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    return { status: 'succeeded', providerRef: `dev_${request.paymentId}` };
  }

  async payout(request: PayoutRequest): Promise<PayoutResult> {
    return { status: 'succeeded', providerRef: `devpayout_${request.payoutId}` };
  }
}
