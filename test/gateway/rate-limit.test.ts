import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

describe('token-bucket rate limits', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    // Refill so slow that no token comes back during the test: the bucket size alone decides.
    gw = await startGateway({ RATE_LIMIT_CONN_PER_SEC: '1', RATE_LIMIT_CONN_BURST: '5', RATE_LIMIT_USER_PER_SEC: '1', RATE_LIMIT_USER_BURST: '8' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  async function burst(client: NativeClient, n: number): Promise<{ ok: number; limited: number; message: string | undefined }> {
    const replies = await Promise.all(Array.from({ length: n }, () => client.request('session:info')));
    const limited = replies.filter((r) => r.error?.code === 'rate_limited');
    return { ok: replies.filter((r) => r.data !== undefined && !r.error).length, limited: limited.length, message: limited[0]?.error?.message };
  }

  it('answers rate_limited past the per-connection bucket, with a retry hint', async () => {
    const client = await NativeClient.connect(gw.ws, { token: await makeToken() });
    const result = await burst(client, 8);
    expect(result.ok).toBe(5);
    expect(result.limited).toBe(3);
    expect(result.message).toMatch(/retry in \d+ ms/);
    await client.close();
  });

  it('shares one bucket per user across that user’s connections', async () => {
    const token = await makeToken({ sub: 'busy-user' });
    const a = await NativeClient.connect(gw.ws, { token });
    const b = await NativeClient.connect(gw.ws, { token });
    const first = await burst(a, 5);
    const second = await burst(b, 5);
    expect(first.ok).toBe(5);
    // The user bucket holds 8: three more pass on the second connection, then the user is limited.
    expect(second.ok).toBe(3);
    expect(second.limited).toBe(2);
    const other = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'calm-user' }) });
    expect((await other.request('session:info')).error).toBeUndefined();
    const metrics = await (await fetch(`${gw.http}/metrics`)).text();
    expect(metrics).toMatch(/livegate_rate_limited_total\{scope="user",node="[^"]+"\} 2/);
    await Promise.all([a.close(), b.close(), other.close()]);
  });
});
