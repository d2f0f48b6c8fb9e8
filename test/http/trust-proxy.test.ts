import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress } from '../../src/gateway/http/client-address.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';

/** Anonymous HTTP requests are rate-limited per client address; behind a proxy that is X-Forwarded-For's last entry. */
describe('TRUST_PROXY', () => {
  let trusting: GatewayProcess;
  let direct: GatewayProcess;
  const limits = { HTTP_RATE_LIMIT_PER_SEC: '1', HTTP_RATE_LIMIT_BURST: '3' };

  beforeAll(async () => {
    [trusting, direct] = await Promise.all([startGateway({ ...limits, TRUST_PROXY: 'true' }), startGateway(limits)]);
  });
  afterAll(async () => {
    await Promise.all([trusting?.stop(), direct?.stop()]);
  });

  /** Statuses of `n` anonymous requests to a rate-limited route, sent as the proxy would forward them. */
  async function statuses(gw: GatewayProcess, forwardedFor: string, n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${gw.http}/api/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: '{"userId":"p"}',
      });
      out.push(res.status);
    }
    return out;
  }

  it('with TRUST_PROXY=true each forwarded client has its own bucket; what the client put before the proxy entry is ignored', async () => {
    expect(await statuses(trusting, '203.0.113.1', 4)).toEqual([403, 403, 403, 429]);
    expect(await statuses(trusting, '203.0.113.2', 1)).toEqual([403]);
    // A client cannot pick a fresh bucket by sending its own header: the proxy appends the real address last.
    expect(await statuses(trusting, '198.51.100.9, 203.0.113.1', 1)).toEqual([429]);
  });

  it('without it (the default) X-Forwarded-For is not believed: every request is the socket peer', async () => {
    expect(await statuses(direct, '203.0.113.1', 4)).toEqual([403, 403, 403, 429]);
    expect(await statuses(direct, '203.0.113.2', 1)).toEqual([429]);
  });

  it('falls back to the socket address on an empty or oversized header', () => {
    expect(clientAddress('10.0.0.5', undefined, true)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', ' ', true)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', 'x'.repeat(65), true)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', 'a, b ,c', true)).toBe('c');
    expect(clientAddress('10.0.0.5', 'c', false)).toBe('10.0.0.5');
  });
});
