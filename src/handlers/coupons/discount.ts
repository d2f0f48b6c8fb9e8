/** Coupon rules (seed 000 "Coupon"), pure: whether a coupon applies to an order and how much it takes off. */

export interface CouponRules {
  type: 'percentage' | 'fixed';
  value: number;
  minPurchase: number;
  maxDiscount: number | null;
  usageLimit: number | null;
  usageCount: number;
  validFrom: Date | null;
  validUntil: Date | null;
  isActive: boolean;
  applicableProducts: string[];
  applicableCategories: string[];
}

export interface Order {
  total: number;
  productIds: string[];
  categoryIds: string[];
}

export type Rejection = 'inactive' | 'not_started' | 'expired' | 'usage_limit_reached' | 'min_purchase_not_met' | 'not_applicable';

export type Verdict = { valid: true; discount: number; finalTotal: number } | { valid: false; reason: Rejection };

const cents = (n: number): number => Math.round(n * 100) / 100;

/** Checks in a fixed order so the reason a client sees is stable. */
export function evaluate(coupon: CouponRules, order: Order, now: Date): Verdict {
  if (!coupon.isActive) return { valid: false, reason: 'inactive' };
  if (coupon.validFrom && now < coupon.validFrom) return { valid: false, reason: 'not_started' };
  if (coupon.validUntil && now > coupon.validUntil) return { valid: false, reason: 'expired' };
  if (coupon.usageLimit !== null && coupon.usageCount >= coupon.usageLimit) return { valid: false, reason: 'usage_limit_reached' };
  if (order.total < coupon.minPurchase) return { valid: false, reason: 'min_purchase_not_met' };
  const productOk = coupon.applicableProducts.length === 0 || order.productIds.some((id) => coupon.applicableProducts.includes(id));
  const categoryOk = coupon.applicableCategories.length === 0 || order.categoryIds.some((id) => coupon.applicableCategories.includes(id));
  if (!productOk || !categoryOk) return { valid: false, reason: 'not_applicable' };
  let discount = coupon.type === 'percentage' ? (order.total * coupon.value) / 100 : coupon.value;
  if (coupon.maxDiscount !== null) discount = Math.min(discount, coupon.maxDiscount);
  discount = cents(Math.min(discount, order.total));
  return { valid: true, discount, finalTotal: cents(order.total - discount) };
}
