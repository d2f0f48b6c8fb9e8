/** Pure pieces of the HTTP domains: coupon rules and password hashing. */
import { describe, expect, it } from 'vitest';
import { SCRYPT, hashPassword, verifyPassword } from '../../src/handlers/auth/passwords.js';
import { evaluate, type CouponRules } from '../../src/handlers/coupons/discount.js';

const base: CouponRules = {
  type: 'percentage',
  value: 20,
  minPurchase: 0,
  maxDiscount: null,
  usageLimit: null,
  usageCount: 0,
  validFrom: null,
  validUntil: null,
  isActive: true,
  applicableProducts: [],
  applicableCategories: [],
};
const order = { total: 50, productIds: ['p1'], categoryIds: ['c1'] };
const now = new Date('2026-06-01T00:00:00Z');

describe('coupon rules', () => {
  it('computes percentage and fixed discounts, capped by maxDiscount and by the order total, in cents', () => {
    expect(evaluate(base, order, now)).toEqual({ valid: true, discount: 10, finalTotal: 40 });
    expect(evaluate({ ...base, maxDiscount: 4 }, order, now)).toEqual({ valid: true, discount: 4, finalTotal: 46 });
    expect(evaluate({ ...base, type: 'fixed', value: 80 }, order, now)).toEqual({ valid: true, discount: 50, finalTotal: 0 });
    expect(evaluate({ ...base, value: 33 }, { ...order, total: 9.99 }, now)).toEqual({ valid: true, discount: 3.3, finalTotal: 6.69 });
  });

  it('gives the first failing reason in a fixed order', () => {
    expect(evaluate({ ...base, isActive: false, validUntil: new Date('2020-01-01') }, order, now)).toEqual({ valid: false, reason: 'inactive' });
    expect(evaluate({ ...base, validFrom: new Date('2027-01-01') }, order, now)).toEqual({ valid: false, reason: 'not_started' });
    expect(evaluate({ ...base, validUntil: new Date('2026-05-31') }, order, now)).toEqual({ valid: false, reason: 'expired' });
    expect(evaluate({ ...base, usageLimit: 3, usageCount: 3 }, order, now)).toEqual({ valid: false, reason: 'usage_limit_reached' });
    expect(evaluate({ ...base, minPurchase: 60 }, order, now)).toEqual({ valid: false, reason: 'min_purchase_not_met' });
    expect(evaluate({ ...base, applicableProducts: ['p2'] }, order, now)).toEqual({ valid: false, reason: 'not_applicable' });
    expect(evaluate({ ...base, applicableCategories: ['c1'], applicableProducts: ['p1'] }, order, now).valid).toBe(true);
  });
});

describe('passwords', () => {
  it('stores scrypt with its parameters and a random salt; verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(new RegExp(`^scrypt\\$${SCRYPT.N}\\$${SCRYPT.r}\\$${SCRYPT.p}\\$`));
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('x', 'bcrypt$whatever')).toBe(false);
  });
});
