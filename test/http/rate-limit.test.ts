/** Per-user HTTP rate limiting on a live gateway: 429 with Retry-After, per user and per anonymous address. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { errorCode, http } from '../support/http.js';

describe('HTTP rate limits', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    // No MONGO_URL: /api/payments/providers needs no database, so every answer here is the guard's.
    gw = await startGateway({ HTTP_RATE_LIMIT_PER_SEC: '1', HTTP_RATE_LIMIT_BURST: '3' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('answers 429 with Retry-After once a user spent the burst; other users are unaffected', async () => {
    const busy = await makeToken({ sub: 'busy-user' });
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof http>> | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await http(gw, 'GET', '/api/payments/providers', { token: busy });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toContain(429);
    expect(limited && errorCode(limited)).toBe('rate_limited');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await http(gw, 'GET', '/api/payments/providers', { token: await makeToken({ sub: 'calm-user' }) })).status).toBe(200);
    const metrics = await http<string>(gw, 'GET', '/metrics');
    expect(metrics.body).toMatch(/livegate_rate_limited_total\{[^}]*scope="http"[^}]*\} [1-9]/);
  });

  it('limits anonymous endpoints per client address, and never the probes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await http(gw, 'POST', '/api/auth/refresh', { body: { refreshToken: 'x.y' } })).status);
    // Without a database the refresh itself answers 503; the fourth and later calls never reach it.
    expect(statuses.slice(0, 3)).toEqual([503, 503, 503]);
    expect(statuses.slice(3)).toContain(429);
    for (let i = 0; i < 10; i++) expect((await http(gw, 'GET', '/healthz')).status).toBe(200);
  });
});
