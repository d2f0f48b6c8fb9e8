/**
 * The OpenAPI document against the live gateway: it validates as OpenAPI 3.1, it lists exactly
 * the routes the node mounted (the "listening" log line names them), and every documented
 * operation is really served (no router 404/405) and guarded as documented (401 without a token,
 * 401 with a forged one).
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { http } from '../support/http.js';

interface Operation {
  operationId: string;
  security?: Array<Record<string, unknown>>;
  parameters?: Array<{ name: string; in: string; schema: Record<string, unknown> }>;
  requestBody?: unknown;
  responses: Record<string, unknown>;
  'x-livegate-undocumented'?: boolean;
  'x-livegate-rate-limited'?: false;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

const SERVICE_KEY = 'openapi-test-service-key';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** A concrete URL for a templated path: every {param} gets a value that exists nowhere. */
const concrete = (path: string): string => path.replace(/\{[^}]+\}/g, 'no-such-id-0000');

describe('GET /openapi.json', () => {
  let gw: GatewayProcess;
  let doc: Doc;
  const operations: Array<{ method: string; path: string; op: Operation }> = [];

  beforeAll(async () => {
    // Each test below sends two or more requests per operation with one token: far past the per-user
    // HTTP rate limit (60 burst, 20/s) when the machine is fast. What they check is not rate limiting
    // (test/http/rate-limit.test.ts covers that), so the limit is raised out of the way.
    gw = await startGateway({
      MONGO_URL: inject('mongoUrl'),
      MONGO_DB: `openapi_${process.pid}`,
      SERVICE_API_KEYS: SERVICE_KEY,
      HTTP_RATE_LIMIT_PER_SEC: '100000',
      HTTP_RATE_LIMIT_BURST: '100000',
    });
    const res = await http(gw, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body as Doc;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) operations.push({ method, path, op });
    }
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('lists exactly the routes the node mounted, each described by defineRoute', async () => {
    const listening = await gw.waitForLog((l) => l.msg === 'listening');
    const mounted = (listening['routes'] as string[]).map((r) => r.replace(/:([A-Za-z0-9_]+)/g, '{$1}')).sort();
    const documented = operations.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort();
    expect(documented).toEqual(mounted);
    expect(operations.filter((o) => o.op['x-livegate-undocumented'])).toEqual([]);
    expect(new Set(operations.map((o) => o.op.operationId)).size).toBe(operations.length);
  });

  it('serves every documented operation, and answers 405 for other methods on the same path', async () => {
    for (const { method, path } of operations) {
      const res = await http(gw, method.toUpperCase(), concrete(path));
      const body = res.body as { error?: { message?: string } } | undefined;
      expect(res.status, `${method} ${path}`).not.toBe(405);
      expect(body?.error?.message ?? '', `${method} ${path}`).not.toMatch(/^no route/);
    }
    for (const [path, item] of Object.entries(doc.paths)) {
      const other = METHODS.find((m) => !(m in item));
      if (!other) continue;
      const res = await http(gw, other.toUpperCase(), concrete(path));
      expect(res.status, `${other} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toContain(Object.keys(item)[0]!.toUpperCase());
    }
  });

  it('documents 401 and 403 on every secured operation, and enforces 401 for missing and forged tokens', async () => {
    const forged = await makeToken({ sub: 'mallory', secret: 'another-secret-0123456789abcdef012345' });
    const expired = await makeToken({ sub: 'mallory', expiresIn: -60 });
    for (const { method, path, op } of operations) {
      if (!op.security || op.security.length === 0) continue;
      // Operations exempt from per-caller rate limits (the backend's server API) say so and have no 429.
      const limited = op['x-livegate-rate-limited'] !== false;
      expect(Object.keys(op.responses), op.operationId).toEqual(expect.arrayContaining(limited ? ['401', '403', '429'] : ['401', '403']));
      expect(Object.keys(op.responses).includes('429'), op.operationId).toBe(limited);
      for (const token of [undefined, forged, expired, 'not-a-jwt']) {
        const res = await http(gw, method.toUpperCase(), concrete(path), { token, body: {} });
        expect(res.status, `${op.operationId} with ${token ? 'a bad' : 'no'} token`).toBe(401);
        expect((res.body as { error: { code: string } }).error.code).toBe('unauthorized');
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    }
  });

  it('rejects a body of the wrong JSON type with 422 and unparsable JSON with 400 on every operation with a body', async () => {
    const admin = await makeToken({ sub: 'openapi-admin', role: 'admin' });
    for (const { method, path, op } of operations) {
      if (!op.requestBody) continue;
      const wrongType = await http(gw, method.toUpperCase(), concrete(path), { token: admin, raw: '[1,2,3]', headers: { 'x-api-key': SERVICE_KEY } });
      expect(wrongType.status, op.operationId).toBe(422);
      expect((wrongType.body as { error: { code: string } }).error.code).toBe('validation_failed');
      const broken = await http(gw, method.toUpperCase(), concrete(path), { token: admin, raw: '{"unterminated', headers: { 'x-api-key': SERVICE_KEY } });
      expect(broken.status, op.operationId).toBe(400);
      expect((broken.body as { error: { code: string } }).error.code).toBe('bad_request');
    }
  });

  it('offers no payment provider when DEV_PAYMENTS is off', async () => {
    const token = await makeToken({ sub: 'payer' });
    const providers = await http<{ items: unknown[]; total: number }>(gw, 'GET', '/api/payments/providers', { token });
    expect(providers.body).toMatchObject({ items: [], total: 0 });
    const checkout = await http(gw, 'POST', '/api/payments/checkout', {
      token,
      body: { provider: 'dev', packageId: 'any', idempotencyKey: 'no-provider-key' },
    });
    expect(checkout.status).toBe(404);
  });
});
