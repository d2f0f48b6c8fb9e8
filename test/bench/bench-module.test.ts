import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

describe('bench module (BENCH_MODE=1)', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ BENCH_MODE: '1' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('publishes through the room pipeline to joined members, with room and seq', async () => {
    const member = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'bench-member' }) });
    const publisher = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'bench-publisher' }) });
    const joined = await member.request('bench:join', { room: 'bench:t1' });
    expect(joined).toMatchObject({ data: { room: 'bench:t1' } });

    const first = await publisher.request('bench:publish', { room: 'bench:t1', data: { bt: 1, p: 'x' } });
    const second = await publisher.request('bench:publish', { room: 'bench:t1', data: { bt: 2 } });
    // A room's first seq is the clock in ms (seqBase in src/rooms/bus.ts), then +1 per message.
    const seq1 = (first.data as { seq: number }).seq;
    expect(seq1).toBeGreaterThan(0);
    expect(second.data).toEqual({ seq: seq1 + 1 });
    const got = await member.waitFor((f) => f.event === 'bench:msg' && f.seq === seq1 + 1);
    expect(got).toEqual({ event: 'bench:msg', data: { bt: 2 }, room: 'bench:t1', seq: seq1 + 1 });
    expect(member.frames.find((f) => f.event === 'bench:msg' && f.seq === seq1)?.data).toEqual({ bt: 1, p: 'x' });
    // The publisher never joined, so it receives nothing but its acks.
    expect(publisher.frames.some((f) => f.event === 'bench:msg')).toBe(false);
    await Promise.all([member.close(), publisher.close()]);
  });

  it('refuses rooms outside the bench: prefix', async () => {
    const client = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'bench-intruder' }) });
    const join = await client.request('bench:join', { room: 'user:alice' });
    const publish = await client.request('bench:publish', { room: 'user:alice', data: {} });
    expect(join.error?.code).toBe('validation_failed');
    expect(publish.error?.code).toBe('validation_failed');
    await client.close();
  });

  it('echoes JSON bodies on POST /api/bench/echo and refuses bodies that are not JSON', async () => {
    const ok = await fetch(`${gw.http}/api/bench/echo`, {
      method: 'POST',
      body: JSON.stringify({ a: [1, 2] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ echo: { a: [1, 2] } });
    const bad = await fetch(`${gw.http}/api/bench/echo`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('bad_request');
  });
});

describe('bench module (default: off)', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('registers neither the events nor the route', async () => {
    const client = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'bench-off' }) });
    const reply = await client.request('bench:join', { room: 'bench:t1' });
    expect(reply.error?.code).toBe('unknown_event');
    await client.close();
    const res = await fetch(`${gw.http}/api/bench/echo`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });
});
