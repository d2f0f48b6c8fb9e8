/**
 * One pagination shape for every list endpoint: `?page=1&limit=20` in, and
 * `{items, page, limit, total, hasMore}` out. Routes spread `PageQuery` into their query schema
 * and wrap their item schema with `Paginated(item, 'NamePage')`.
 */
import { Type, type TObject, type TSchema, type TArray, type TInteger, type TBoolean } from '@sinclair/typebox';

export const MAX_PAGE_LIMIT = 100;
export const DEFAULT_PAGE_LIMIT = 20;

export const PageQuery = {
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 1, description: '1-based page number' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT, description: 'items per page' })),
};

export type PageSchema<T extends TSchema> = TObject<{ items: TArray<T>; page: TInteger; limit: TInteger; total: TInteger; hasMore: TBoolean }>;

export function Paginated<T extends TSchema>(item: T, id: string): PageSchema<T> {
  return Type.Object(
    {
      items: Type.Array(item),
      page: Type.Integer({ minimum: 1 }),
      limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT }),
      total: Type.Integer({ minimum: 0, description: 'number of items over all pages' }),
      hasMore: Type.Boolean({ description: 'true when a later page has items' }),
    },
    { $id: id, additionalProperties: false },
  );
}

export interface PageWindow {
  page: number;
  limit: number;
  skip: number;
}

export function pageWindow(query: { page?: number | undefined; limit?: number | undefined }): PageWindow {
  const page = query.page ?? 1;
  const limit = Math.min(query.limit ?? DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT);
  return { page, limit, skip: (page - 1) * limit };
}

export function pageOf<T>(items: T[], total: number, window: PageWindow): { items: T[]; page: number; limit: number; total: number; hasMore: boolean } {
  return { items, page: window.page, limit: window.limit, total, hasMore: window.skip + items.length < total };
}
