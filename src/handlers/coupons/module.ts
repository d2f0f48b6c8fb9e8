/**
 * Coupons (seed 000 "Coupon"): list the ones usable now, look one up by code, validate one
 * against an order total (discount.ts holds the rules), and create them (admin). Redemption
 * (usageCount) belongs to the order flow of the backend. MongoDB directly.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Collection } from 'mongodb';
import type { Core, ModuleFactory } from '../../core.js';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import { AppError } from '../../kernel/errors.js';
import { DateTime, Id, Nullable, isoOrNull, notFound } from '../../kernel/schemas.js';
import { isDuplicateKey } from '../../store/mongo.js';
import { evaluate, type CouponRules } from './discount.js';

export interface CouponDoc extends CouponRules {
  /** The code, upper case. */
  _id: string;
  description: string;
  createdAt: Date;
}

export const COUPONS = 'coupons';

const CodeInput = Type.String({ pattern: '^[A-Za-z0-9_-]{3,32}$', description: 'case-insensitive' });
const Money = Type.Number({ minimum: 0, maximum: 100_000_000 });
const IdList = Type.Array(Id, { maxItems: 200 });

const Coupon = Type.Object(
  {
    code: Type.String(),
    description: Type.String(),
    type: Type.Union([Type.Literal('percentage'), Type.Literal('fixed')]),
    value: Type.Number({ minimum: 0 }),
    minPurchase: Type.Number({ minimum: 0 }),
    maxDiscount: Nullable(Type.Number({ minimum: 0 })),
    usageLimit: Nullable(Type.Integer({ minimum: 0 })),
    usageCount: Type.Integer({ minimum: 0 }),
    validFrom: Nullable(DateTime),
    validUntil: Nullable(DateTime),
    isActive: Type.Boolean(),
    applicableProducts: Type.Array(Type.String()),
    applicableCategories: Type.Array(Type.String()),
  },
  { $id: 'Coupon', additionalProperties: false },
);

const CouponInput = Type.Object(
  {
    code: CodeInput,
    description: Type.Optional(Type.String({ maxLength: 500 })),
    type: Type.Union([Type.Literal('percentage'), Type.Literal('fixed')]),
    value: Type.Number({ exclusiveMinimum: 0, maximum: 100_000_000 }),
    minPurchase: Type.Optional(Money),
    maxDiscount: Type.Optional(Money),
    usageLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
    validFrom: Type.Optional(DateTime),
    validUntil: Type.Optional(DateTime),
    isActive: Type.Optional(Type.Boolean()),
    applicableProducts: Type.Optional(IdList),
    applicableCategories: Type.Optional(IdList),
  },
  { $id: 'CouponInput', additionalProperties: false },
);

const ValidateInput = Type.Object(
  { code: CodeInput, orderTotal: Money, productIds: Type.Optional(IdList), categoryIds: Type.Optional(IdList) },
  { $id: 'CouponValidationRequest', additionalProperties: false },
);

const Validation = Type.Object(
  {
    code: Type.String(),
    valid: Type.Boolean(),
    reason: Nullable(
      Type.Union(
        ['not_found', 'inactive', 'not_started', 'expired', 'usage_limit_reached', 'min_purchase_not_met', 'not_applicable'].map((r) => Type.Literal(r)),
        {
          description: 'why the coupon does not apply (null when valid)',
        },
      ),
    ),
    discount: Type.Number({ minimum: 0 }),
    finalTotal: Type.Number({ minimum: 0 }),
  },
  { $id: 'CouponValidation', additionalProperties: false },
);

type CouponView = Static<typeof Coupon>;

const view = (d: CouponDoc): CouponView => ({
  code: d._id,
  description: d.description,
  type: d.type,
  value: d.value,
  minPurchase: d.minPurchase,
  maxDiscount: d.maxDiscount,
  usageLimit: d.usageLimit,
  usageCount: d.usageCount,
  validFrom: isoOrNull(d.validFrom),
  validUntil: isoOrNull(d.validUntil),
  isActive: d.isActive,
  applicableProducts: d.applicableProducts,
  applicableCategories: d.applicableCategories,
});

export const couponsModule: ModuleFactory = (core: Core) => {
  const coupons = (): Collection<CouponDoc> => core.documents.db().collection<CouponDoc>(COUPONS);
  const tags = ['coupons'];

  return {
    name: 'coupons',
    routes: [
      defineRoute(
        {
          method: 'get',
          path: '/api/coupons',
          operationId: 'listCoupons',
          summary: 'Coupons usable now',
          tags,
          auth: 'user',
          query: Type.Object(PageQuery),
          response: Paginated(Coupon, 'CouponPage'),
        },
        async ({ query }) => {
          const w = pageWindow(query);
          const now = new Date();
          const filter = {
            isActive: true,
            $and: [{ $or: [{ validFrom: null }, { validFrom: { $lte: now } }] }, { $or: [{ validUntil: null }, { validUntil: { $gte: now } }] }],
          };
          const [items, total] = await Promise.all([
            coupons().find(filter).sort({ _id: 1 }).skip(w.skip).limit(w.limit).toArray(),
            coupons().countDocuments(filter),
          ]);
          return pageOf(items.map(view), total, w);
        },
      ),
      defineRoute(
        {
          method: 'get',
          path: '/api/coupons/:code',
          operationId: 'getCoupon',
          summary: 'A coupon by code (inactive ones: admins only)',
          tags,
          auth: 'user',
          params: Type.Object({ code: CodeInput }),
          response: Coupon,
          errors: ['not_found'],
        },
        async ({ params, principal }) => {
          const doc = await coupons().findOne({ _id: params.code.toUpperCase() });
          // Users see active coupons only; admins, who create and switch them off, see every one.
          if (!doc || (!doc.isActive && principal.role !== 'admin')) throw notFound('coupon');
          return view(doc);
        },
      ),
      defineRoute(
        {
          method: 'post',
          path: '/api/coupons/validate',
          operationId: 'validateCoupon',
          summary: 'Whether a coupon applies to an order, and the discount',
          description: 'Answers 200 with valid=false and a reason when the coupon does not apply; nothing is redeemed.',
          tags,
          auth: 'user',
          body: ValidateInput,
          response: Validation,
        },
        async ({ body }) => {
          const code = body.code.toUpperCase();
          const doc = await coupons().findOne({ _id: code });
          if (!doc) return { code, valid: false, reason: 'not_found', discount: 0, finalTotal: body.orderTotal };
          const verdict = evaluate(doc, { total: body.orderTotal, productIds: body.productIds ?? [], categoryIds: body.categoryIds ?? [] }, new Date());
          return verdict.valid
            ? { code, valid: true, reason: null, discount: verdict.discount, finalTotal: verdict.finalTotal }
            : { code, valid: false, reason: verdict.reason, discount: 0, finalTotal: body.orderTotal };
        },
      ),
      defineRoute(
        {
          method: 'post',
          path: '/api/coupons',
          operationId: 'createCoupon',
          summary: 'Create a coupon (admin)',
          tags,
          auth: 'admin',
          body: CouponInput,
          response: Coupon,
          status: 201,
          errors: ['conflict'],
          links: { GetCoupon: { operationId: 'getCoupon', parameters: { code: '$response.body#/code' } } },
        },
        async ({ body, principal }) => {
          if (body.type === 'percentage' && body.value > 100) throw new AppError('validation_failed', 'body/value: a percentage is at most 100');
          const validFrom = body.validFrom ? new Date(body.validFrom) : null;
          const validUntil = body.validUntil ? new Date(body.validUntil) : null;
          if (validFrom && validUntil && validUntil <= validFrom) throw new AppError('validation_failed', 'body/validUntil: must be after validFrom');
          const doc: CouponDoc = {
            _id: body.code.toUpperCase(),
            description: body.description ?? '',
            type: body.type,
            value: body.value,
            minPurchase: body.minPurchase ?? 0,
            maxDiscount: body.maxDiscount ?? null,
            usageLimit: body.usageLimit ?? null,
            usageCount: 0,
            validFrom,
            validUntil,
            isActive: body.isActive ?? true,
            applicableProducts: body.applicableProducts ?? [],
            applicableCategories: body.applicableCategories ?? [],
            createdAt: new Date(),
          };
          try {
            await coupons().insertOne(doc);
          } catch (err) {
            if (isDuplicateKey(err)) throw new AppError('conflict', `coupon ${doc._id} exists`);
            throw err;
          }
          core.log.info({ audit: true, actor: principal.userId, action: 'coupon.create', code: doc._id }, 'admin action');
          return view(doc);
        },
      ),
    ],
  };
};
