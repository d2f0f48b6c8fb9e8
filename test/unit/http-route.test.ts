/** defineRoute's input handling, the guard's auth and rate-limit decisions, and the pagination helpers. */
import { Type } from '@sinclair/typebox';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createTokenVerifier } from '../../src/gateway/auth.js';
import { HttpGuard, RateLimitError, bearer } from '../../src/gateway/http/guard.js';
import { buildOpenApi } from '../../src/gateway/http/openapi.js';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../src/gateway/http/pagination.js';
import { defineRoute } from '../../src/gateway/http/route.js';
import type { HttpRequestInfo } from '../../src/gateway/http/types.js';
import { GatewayMetrics } from '../../src/gateway/metrics.js';
import { KeyedLimiter } from '../../src/gateway/rate-limit.js';
import { AppError } from '../../src/kernel/errors.js';

const SECRET = 'unit-secret-0123456789abcdef0123456789';

function request(over: Partial<HttpRequestInfo> = {}): HttpRequestInfo {
  return {
    method: 'POST',
    route: '/x/:id',
    path: '/x/1',
    query: new URLSearchParams(),
    params: { id: 'a1' },
    headers: {},
    remoteAddress: '127.0.0.1',
    body: Buffer.alloc(0),
    ...over,
  };
}

const route = defineRoute(
  {
    method: 'post',
    path: '/x/:id',
    operationId: 'postX',
    summary: 'test route',
    tags: ['test'],
    auth: 'user',
    params: Type.Object({ id: Type.String({ pattern: '^[a-z0-9]+$' }) }),
    query: Type.Object({ ...PageQuery, flag: Type.Optional(Type.Boolean()) }),
    body: Type.Object({ amount: Type.Integer({ minimum: 1 }), note: Type.Optional(Type.String({ maxLength: 5 })) }, { additionalProperties: false }),
    response: Type.Object({ id: Type.String(), amount: Type.Integer(), page: Type.Integer(), flag: Type.Boolean() }),
    status: 201,
  },
  ({ params, body, query }) => ({ id: params.id, amount: body.amount, page: query.page ?? 0, flag: query.flag ?? false }),
);

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('defineRoute', () => {
  it('converts query strings to the schema types, fills defaults and answers with the declared status', async () => {
    const result = await route.handler(request({ query: new URLSearchParams('flag=true'), body: Buffer.from('{"amount":3}') }));
    expect(result).toEqual({ status: 201, body: { id: 'a1', amount: 3, page: 1, flag: true } });
  });

  it('answers 422 naming the field for schema violations in params, query and body', async () => {
    expect((await failure(Promise.resolve(route.handler(request({ params: { id: 'A B' }, body: Buffer.from('{"amount":3}') }))))).message).toMatch(
      /^params\/id:/,
    );
    expect(
      (await failure(Promise.resolve(route.handler(request({ query: new URLSearchParams('limit=1000'), body: Buffer.from('{"amount":3}') }))))).message,
    ).toMatch(/^query\/limit:/);
    const extra = await failure(Promise.resolve(route.handler(request({ body: Buffer.from('{"amount":3,"admin":true}') }))));
    expect(extra.code).toBe('validation_failed');
    expect(extra.status).toBe(422);
    expect((await failure(Promise.resolve(route.handler(request({ body: Buffer.from('{"amount":0}') }))))).message).toMatch(/^body\/amount:/);
    expect((await failure(Promise.resolve(route.handler(request())))).message).toMatch(/body is required/);
  });

  it('lets an optional body be left out (read as {} with defaults) and documents it as not required', async () => {
    const optional = defineRoute(
      {
        method: 'post',
        path: '/y',
        operationId: 'postY',
        summary: 'optional body',
        tags: ['test'],
        auth: 'user',
        body: Type.Object({ size: Type.Optional(Type.Integer({ minimum: 1, default: 7 })) }, { additionalProperties: false }),
        bodyOptional: true,
        response: Type.Object({ size: Type.Integer() }),
      },
      ({ body }) => ({ size: body.size ?? 0 }),
    );
    expect(await optional.handler(request({ route: '/y', path: '/y', params: {} }))).toEqual({ status: 200, body: { size: 7 } });
    expect(await optional.handler(request({ route: '/y', path: '/y', params: {}, body: Buffer.from('{"size":2}') }))).toEqual({
      status: 200,
      body: { size: 2 },
    });
    expect((await failure(Promise.resolve(optional.handler(request({ route: '/y', path: '/y', params: {}, body: Buffer.from('{"size":0}') }))))).code).toBe(
      'validation_failed',
    );
    expect((await failure(Promise.resolve(optional.handler(request({ route: '/y', path: '/y', params: {}, body: Buffer.from('null') }))))).code).toBe(
      'validation_failed',
    );
    expect((await failure(Promise.resolve(route.handler(request({ body: Buffer.from('null') }))))).code).toBe('validation_failed');
    const doc = buildOpenApi([optional, route], { title: 't', version: '1' }) as {
      paths: Record<string, Record<string, { requestBody: { required: boolean } }>>;
    };
    expect(doc.paths['/y']!['post']!.requestBody.required).toBe(false);
    expect(doc.paths['/x/{id}']!['post']!.requestBody.required).toBe(true);
  });

  it('converts query strings strictly (no "true" as a number) and counts string lengths in code points', async () => {
    expect(
      (await failure(Promise.resolve(route.handler(request({ query: new URLSearchParams('page=true'), body: Buffer.from('{"amount":3}') }))))).message,
    ).toMatch(/^query\/page:/);
    expect(
      (await failure(Promise.resolve(route.handler(request({ query: new URLSearchParams('flag=1'), body: Buffer.from('{"amount":3}') }))))).message,
    ).toMatch(/^query\/flag:/);
    // Five astral characters are 10 UTF-16 units but 5 code points: within maxLength 5.
    const astral = '\u{1F600}'.repeat(5);
    const ok = await route.handler(request({ body: Buffer.from(JSON.stringify({ amount: 1, note: astral })) }));
    expect(ok.status).toBe(201);
    expect((await failure(Promise.resolve(route.handler(request({ body: Buffer.from(JSON.stringify({ amount: 1, note: astral + 'x' })) }))))).code).toBe(
      'validation_failed',
    );
  });

  it('answers 400 for unparsable JSON and for a non-JSON content type', async () => {
    expect((await failure(Promise.resolve(route.handler(request({ body: Buffer.from('{nope') }))))).code).toBe('bad_request');
    const form = await failure(Promise.resolve(route.handler(request({ headers: { 'content-type': 'text/plain' }, body: Buffer.from('{"amount":3}') }))));
    expect(form.status).toBe(400);
  });

  it('refuses a params schema that does not match the path', () => {
    expect(() =>
      defineRoute({ method: 'get', path: '/y/:id', operationId: 'getY', summary: 's', tags: [], auth: 'none', response: Type.Null() }, () => null),
    ).toThrow(/path params/);
  });
});

describe('HttpGuard', () => {
  const sign = (claims: Record<string, unknown>, sub = 'u1') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));

  async function guard(burst = 100) {
    const verifier = await createTokenVerifier(loadConfig({ JWT_SECRET: SECRET }).jwt);
    return new HttpGuard({ verifier, serviceApiKeys: ['svc-key'], limiter: new KeyedLimiter(1, burst), metrics: new GatewayMetrics('unit') });
  }

  it('maps missing/forged tokens to 401, wrong roles to 403 and accepts the right ones', async () => {
    const g = await guard();
    expect((await failure(g.admit('user', {}, 'a', true))).status).toBe(401);
    expect((await failure(g.admit('user', { authorization: 'Bearer nope' }, 'a', true))).status).toBe(401);
    expect((await failure(g.admit('admin', { authorization: `Bearer ${await sign({})}` }, 'a', true))).status).toBe(403);
    expect((await failure(g.admit('user', { authorization: `Bearer ${await sign({ role: 'service' })}` }, 'a', true))).status).toBe(403);
    expect(await g.admit('admin', { authorization: `Bearer ${await sign({ role: 'admin' }, 'boss')}` }, 'a', true)).toMatchObject({
      userId: 'boss',
      role: 'admin',
    });
    expect(await g.admit('service', { 'x-api-key': 'svc-key' }, 'a', true)).toMatchObject({ role: 'service' });
    expect((await failure(g.admit('service', { 'x-api-key': 'svc-kez' }, 'a', true))).status).toBe(401);
    expect(await g.admit('none', {}, 'a', true)).toBeUndefined();
  });

  it('rate limits per user across addresses, and anonymous callers per address', async () => {
    const g = await guard(2);
    const token = `Bearer ${await sign({}, 'busy')}`;
    await g.admit('user', { authorization: token }, 'a', true);
    await g.admit('user', { authorization: token }, 'b', true);
    const limited = await failure(g.admit('user', { authorization: token }, 'c', true));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.status).toBe(429);
    expect(await g.admit('user', { authorization: `Bearer ${await sign({}, 'calm')}` }, 'a', true)).toMatchObject({ userId: 'calm' });
    await g.admit('none', {}, '10.0.0.1', true);
    await g.admit('none', {}, '10.0.0.1', true);
    expect((await failure(g.admit('none', {}, '10.0.0.1', true))).code).toBe('rate_limited');
    expect(await g.admit('none', {}, '10.0.0.1', false)).toBeUndefined();
  });

  it('reads only the Bearer scheme', () => {
    expect(bearer('Bearer abc')).toBe('abc');
    expect(bearer('bearer abc')).toBe('abc');
    expect(bearer('Basic abc')).toBeUndefined();
    expect(bearer(undefined)).toBeUndefined();
  });
});

describe('pagination', () => {
  it('computes the window and hasMore', () => {
    const w = pageWindow({ page: 3, limit: 10 });
    expect(w).toEqual({ page: 3, limit: 10, skip: 20 });
    expect(pageOf([1, 2, 3], 23, w)).toEqual({ items: [1, 2, 3], page: 3, limit: 10, total: 23, hasMore: false });
    expect(pageOf([1], 40, w).hasMore).toBe(true);
    expect(pageWindow({})).toEqual({ page: 1, limit: 20, skip: 0 });
  });

  it('hoists $id schemas into named components', () => {
    const Item = Type.Object({ n: Type.Integer() }, { $id: 'Item' });
    const list = defineRoute(
      {
        method: 'get',
        path: '/items',
        operationId: 'listItems',
        summary: 's',
        tags: ['t'],
        auth: 'user',
        query: Type.Object(PageQuery),
        response: Paginated(Item, 'ItemPage'),
      },
      () => ({ items: [], page: 1, limit: 20, total: 0, hasMore: false }),
    );
    const doc = buildOpenApi([list], { title: 't', version: '1' }) as {
      components: { schemas: Record<string, unknown> };
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(doc.components.schemas).sort()).toEqual(['Error', 'Item', 'ItemPage']);
    expect(JSON.stringify(doc.paths['/items']!['get']!.responses['200'])).toContain('#/components/schemas/ItemPage');
    expect(JSON.stringify(doc.components.schemas['ItemPage'])).toContain('#/components/schemas/Item"');
  });
});
