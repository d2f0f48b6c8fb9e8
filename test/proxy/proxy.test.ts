import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric } from '../bridge/helpers.js';
import { NativeClient, sioConnect, sioConnected } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { TestBackend, deadUrl, type BackendAnswer } from './backend.js';

const SECRET = 'proxy-test-secret-0123456789';

function proxyEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PROXY_URL: url, PROXY_SECRET: SECRET, PROXY_EVENTS: 'app:*,custom_event', ...extra };
}

async function sioClient(gw: GatewayProcess, userId: string): Promise<Socket> {
  const socket = sioConnect(gw.http, { token: await makeToken({ sub: userId }) });
  await sioConnected(socket);
  return socket;
}

const sioAck = (socket: Socket, event: string, data: unknown): Promise<unknown> => socket.timeout(10_000).emitWithAck(event, data);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('event proxy: round trip, errors, room operations', () => {
  let backend: TestBackend;
  let gw: GatewayProcess;
  beforeAll(async () => {
    backend = await TestBackend.start(SECRET);
    gw = await startGateway(proxyEnv(backend.url));
  });
  afterAll(async () => {
    await gw.stop();
    await backend.stop();
  });

  it('forwards an event outside the catalogue, signed, and acks with the reply (native and Socket.IO)', async () => {
    backend.handler = (r) => ({ body: { ack: { echo: r.body['data'], user: r.body['userId'] } } });
    const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'px-alice' }) });
    const ready = await native.waitForEvent('session:ready');
    const reply = await native.request('custom_event', { n: 1, text: 'héllo' });
    expect(reply).toMatchObject({ data: { echo: { n: 1, text: 'héllo' }, user: 'px-alice' } });

    const [sent] = backend.of('custom_event');
    expect(sent!.signature).toMatchObject({ ok: true });
    expect(sent!.headers['x-livegate-event']).toBe('custom_event');
    expect(sent!.headers['x-livegate-delivery']).toBe(sent!.body['id']);
    expect(sent!.body).toMatchObject({
      event: 'custom_event',
      data: { n: 1, text: 'héllo' },
      userId: 'px-alice',
      role: 'user',
      connectionId: (ready.data as { connectionId: string }).connectionId,
      nodeId: gw.nodeId,
      dialect: 'json',
    });

    const socket = await sioClient(gw, 'px-bob');
    expect(await sioAck(socket, 'app:score', { points: 3 })).toEqual({ echo: { points: 3 }, user: 'px-bob' });
    expect(backend.of('app:score')[0]!.body).toMatchObject({ userId: 'px-bob', dialect: 'sio', connectionId: socket.id });
    // A bare value reaches the backend as it was sent.
    expect(await sioAck(socket, 'app:ping', 'just-a-string')).toEqual({ echo: 'just-a-string', user: 'px-bob' });

    // Not in PROXY_EVENTS: still unknown; a livegate event is never proxied.
    expect(await native.request('other_event', {})).toMatchObject({ error: { code: 'unknown_event' } });
    const before = backend.requests.length;
    expect((await native.request('presence:set', { status: 'away' })).data).toEqual({ status: 'away' });
    expect(backend.requests.length).toBe(before);
    expect(await metric(gw.http, 'livegate_proxy_events_total', { rule: 'app:*', outcome: 'acked' })).toBe(2);
    expect(await metric(gw.http, 'livegate_frames_in_total', { event: 'proxied' })).toBe(3);
    await native.close();
    socket.close();
  });

  it('answers a typed error the backend names, and backend_error for one outside the contract', async () => {
    const answers: Record<string, BackendAnswer> = {
      'app:taken': { status: 409, body: { error: { code: 'conflict', message: 'name taken' } } },
      'app:denied': { body: { error: { code: 'forbidden' } } },
      'app:weird_code': { body: { error: { code: 'not_a_livegate_code', message: 'x' } } },
      'app:not_json': { text: '<html>oops</html>' },
      'app:bad_shape': { body: { ack: 1, joins: ['typo'] } },
      'app:sys_room': { body: { join: ['sys:bridge:control'] } },
      'app:4xx_bare': { status: 404, body: { ack: 'nope' } },
    };
    backend.handler = (r) => answers[r.body['event'] as string] ?? { status: 500 };
    const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'px-carol' }) });
    expect(await native.request('app:taken')).toMatchObject({ error: { code: 'conflict', message: 'name taken' } });
    expect(await native.request('app:denied')).toMatchObject({ error: { code: 'forbidden', message: 'forbidden' } });
    for (const event of ['app:weird_code', 'app:not_json', 'app:bad_shape', 'app:sys_room', 'app:4xx_bare']) {
      const reply = await native.request(event);
      expect(reply.error?.code, event).toBe('backend_error');
    }
    const socket = await sioClient(gw, 'px-carol');
    expect(await sioAck(socket, 'app:taken', {})).toEqual({ error: { code: 'conflict', message: 'name taken' } });
    // None of these count against the backend: the breaker stays closed.
    expect(await metric(gw.http, 'livegate_proxy_breaker_state')).toBe(0);
    await native.close();
    socket.close();
  });

  it('forwards every Socket.IO argument (binaries as base64 attachments) and acks with several arguments, binary included', async () => {
    backend.handler = (r) =>
      r.body['event'] === 'app:two_acks'
        ? { body: { ack: 1, ackArgs: [1, 2] } }
        : r.body['event'] === 'app:bad_placeholder'
          ? { body: { ack: { _placeholder: true, num: 3 }, attachments: ['AA=='] } }
          : { body: { ackArgs: ['ok', r.body['attachments'] ?? null, { _placeholder: true, num: 0 }], attachments: ['CQg='] } };
    const socket = await sioClient(gw, 'px-multi');
    const acked = await new Promise<unknown[]>((resolve, reject) =>
      socket
        .timeout(10_000)
        .emit('app:upload', 'a', 2, Buffer.from([1, 2, 3]), { file: Buffer.from([4]) }, (err: Error | null, ...args: unknown[]) =>
          err ? reject(err) : resolve(args),
        ),
    );
    const placeholders = ['a', 2, { _placeholder: true, num: 0 }, { file: { _placeholder: true, num: 1 } }];
    const sent = backend.of('app:upload')[0]!.body;
    expect(sent).toMatchObject({ event: 'app:upload', data: 'a', args: placeholders, attachments: ['AQID', 'BA=='] });
    // Three ack arguments; the third is binary (a Buffer in Node's socket.io-client).
    expect(acked, JSON.stringify(acked)).toHaveLength(3);
    expect(acked.slice(0, 2)).toEqual(['ok', ['AQID', 'BA==']]);
    expect([...(acked[2] as Buffer)]).toEqual([9, 8]);

    // A one-argument event without binaries: `args` is [data], no attachments field.
    await sioAck(socket, 'app:upload', { n: 1 });
    expect(backend.of('app:upload')[1]!.body).toMatchObject({ data: { n: 1 }, args: [{ n: 1 }] });
    expect(backend.of('app:upload')[1]!.body).not.toHaveProperty('attachments');

    // On /ws the same reply is an array, the attachment its base64 text.
    const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'px-multi' }) });
    expect((await native.request('app:upload', { n: 2 })).data).toEqual(['ok', null, 'CQg=']);
    expect(backend.of('app:upload')[2]!.body).toMatchObject({ data: { n: 2 }, args: [{ n: 2 }] });
    // Outside the contract: ack and ackArgs together, a placeholder naming no attachment.
    expect((await native.request('app:two_acks')).error?.code).toBe('backend_error');
    expect(await sioAck(socket, 'app:bad_placeholder', {})).toMatchObject({ error: { code: 'backend_error' } });
    await native.close();
    socket.close();
  });

  it('applies the room joins, leaves and publishes of the reply to the sending connection before the ack', async () => {
    backend.handler = (r) => {
      const { team } = r.body['data'] as { team: string };
      if (r.body['event'] === 'app:team_join') {
        return {
          body: {
            join: [`team:${team}`],
            publish: [{ room: `team:${team}`, event: 'team:joined', data: { userId: r.body['userId'] } }],
            ack: { team, joined: true },
          },
        };
      }
      return { body: { leave: [`team:${team}`], ack: { team, joined: false } } };
    };
    const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'px-erin' }) });
    const socket = await sioClient(gw, 'px-frank');
    const sioEvents: Array<{ data: unknown; meta: unknown }> = [];
    socket.on('team:joined', (data: unknown, meta: unknown) => sioEvents.push({ data, meta }));

    expect((await native.request('app:team_join', { team: 't1' })).data).toEqual({ team: 't1', joined: true });
    const first = await native.waitFor((f) => f.event === 'team:joined');
    expect(first).toMatchObject({ room: 'team:t1', data: { userId: 'px-erin' } });

    // The Socket.IO client joins through the backend too, and then hears the native client's publish.
    expect(await sioAck(socket, 'app:team_join', { team: 't1' })).toEqual({ team: 't1', joined: true });
    await native.waitFor((f) => f.event === 'team:joined' && (f.data as { userId: string }).userId === 'px-frank');
    // Socket.IO events carry exactly the app's arguments (no room/seq argument without recovery).
    expect(sioEvents[0]).toEqual({ data: { userId: 'px-frank' }, meta: undefined });

    // After leaving (told by the backend), the native client hears nothing more of the room.
    expect((await native.request('app:team_leave', { team: 't1' })).data).toEqual({ team: 't1', joined: false });
    const again = deferred();
    socket.once('team:joined', () => again.resolve());
    expect(await sioAck(socket, 'app:team_join', { team: 't1' })).toEqual({ team: 't1', joined: true });
    await again.promise;
    expect(native.frames.filter((f) => f.event === 'team:joined').length).toBe(2);
    expect(await metric(gw.http, 'livegate_proxy_actions_total', { kind: 'join' })).toBe(3);
    expect(await metric(gw.http, 'livegate_proxy_actions_total', { kind: 'leave' })).toBe(1);
    await native.close();
    socket.close();
  });
});

describe('event proxy: overload, signature, breaker, backend down', () => {
  it('answers overloaded beyond PROXY_CONCURRENCY at once, without a request', async () => {
    const backend = await TestBackend.start(SECRET);
    const gw = await startGateway(proxyEnv(backend.url, { PROXY_CONCURRENCY: '2' }));
    try {
      const release = deferred();
      const arrived = [deferred(), deferred()];
      backend.handler = async (r) => {
        arrived[backend.requests.length - 1]?.resolve();
        await release.promise;
        return { body: { ack: r.body['data'] } };
      };
      const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'px-gina' }) });
      const held = [native.request('app:hold', 1), native.request('app:hold', 2)];
      await Promise.all(arrived.map((d) => d.promise));
      expect(await native.request('app:hold', 3)).toMatchObject({ error: { code: 'overloaded' } });
      expect(backend.requests.length).toBe(2);
      release.resolve();
      expect((await Promise.all(held)).map((f) => f.data)).toEqual([1, 2]);
      expect((await native.request('app:hold', 4)).data).toBe(4);
      expect(await metric(gw.http, 'livegate_proxy_events_total', { outcome: 'overloaded' })).toBe(1);
      await native.close();
    } finally {
      await gw.stop();
      await backend.stop();
    }
  });

  it('answers backend_timeout when the backend is slower than PROXY_TIMEOUT_MS, and recovers', async () => {
    const backend = await TestBackend.start(SECRET);
    const gw = await startGateway(proxyEnv(backend.url, { PROXY_TIMEOUT_MS: '1000' }));
    try {
      const release = deferred();
      backend.handler = async () => {
        await release.promise;
        return { body: { ack: 'late' } };
      };
      const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'px-dave' }) });
      const started = Date.now();
      const reply = await native.request('app:slow', {});
      expect(reply.error?.code).toBe('backend_timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(Date.now() - started).toBeLessThan(5000);
      release.resolve();
      backend.handler = () => ({ body: { ack: 'ok' } });
      expect((await native.request('app:after')).data).toBe('ok');
      expect(await metric(gw.http, 'livegate_proxy_events_total', { outcome: 'timeout' })).toBe(1);
      await native.close();
    } finally {
      await gw.stop();
      await backend.stop();
    }
  });

  it('signs with PROXY_SECRET: a backend holding another secret refuses every request', async () => {
    const backend = await TestBackend.start(SECRET);
    const gw = await startGateway(proxyEnv(backend.url, { PROXY_SECRET: 'a-different-secret-0123456789' }));
    try {
      const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'px-hank' }) });
      expect(await native.request('custom_event', {})).toMatchObject({ error: { code: 'unauthorized' } });
      expect(backend.requests[0]!.signature).toEqual({ ok: false, reason: 'mismatch' });
      await native.close();
    } finally {
      await gw.stop();
      await backend.stop();
    }
  });

  it('opens the breaker after PROXY_BREAKER_FAILURES failures, probes once half-open, and closes on success', async () => {
    const backend = await TestBackend.start(SECRET);
    const gw = await startGateway(proxyEnv(backend.url, { PROXY_BREAKER_FAILURES: '3', PROXY_BREAKER_OPEN_MS: '2000' }));
    try {
      const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'px-ivy' }) });
      backend.handler = () => ({ status: 503, body: {} });
      for (let i = 0; i < 3; i++) expect((await native.request('app:x', i)).error?.code).toBe('backend_unavailable');
      expect(backend.requests.length).toBe(3);
      expect(await metric(gw.http, 'livegate_proxy_breaker_state')).toBe(2);

      // Open: refused without a request, and told for how long.
      const refused = await native.request('app:x', 'open');
      expect(refused.error?.code).toBe('backend_unavailable');
      expect(backend.requests.length).toBe(3);
      const waitMs = (): number => Number(/for (\d+) ms/.exec(refused.error!.message)![1]);
      expect(waitMs()).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, waitMs() + 50));

      // Half-open: one probe; it fails, so the breaker opens again.
      expect((await native.request('app:x', 'probe-1')).error?.code).toBe('backend_unavailable');
      expect(backend.requests.length).toBe(4);
      const refusedAgain = await native.request('app:x', 'open-again');
      expect(refusedAgain.error?.message).toMatch(/not tried again/);
      expect(backend.requests.length).toBe(4);
      await new Promise((r) => setTimeout(r, Number(/for (\d+) ms/.exec(refusedAgain.error!.message)![1]) + 50));

      // The backend is back: the probe succeeds and closes the breaker; requests flow again.
      backend.handler = (r) => ({ body: { ack: r.body['data'] } });
      expect((await native.request('app:x', 'probe-2')).data).toBe('probe-2');
      expect(await metric(gw.http, 'livegate_proxy_breaker_state')).toBe(0);
      expect((await native.request('app:x', 'after')).data).toBe('after');
      expect(await metric(gw.http, 'livegate_proxy_breaker_transitions_total', { to: 'open' })).toBe(2);
      expect(await metric(gw.http, 'livegate_proxy_breaker_transitions_total', { to: 'half_open' })).toBe(2);
      expect(await metric(gw.http, 'livegate_proxy_breaker_transitions_total', { to: 'closed' })).toBe(1);
      expect(await metric(gw.http, 'livegate_proxy_events_total', { outcome: 'circuit_open' })).toBe(2);
      await native.close();
    } finally {
      await gw.stop();
      await backend.stop();
    }
  });

  it('answers backend_unavailable when nothing listens at PROXY_URL (both dialects)', async () => {
    const gw = await startGateway(proxyEnv(await deadUrl()));
    try {
      const native = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'px-jack' }) });
      expect(await native.request('custom_event', {})).toMatchObject({ error: { code: 'backend_unavailable' } });
      const socket = await sioClient(gw, 'px-jack');
      expect(await sioAck(socket, 'app:anything', {})).toMatchObject({ error: { code: 'backend_unavailable' } });
      expect(await metric(gw.http, 'livegate_proxy_events_total', { outcome: 'unreachable' })).toBe(2);
      await native.close();
      socket.close();
    } finally {
      await gw.stop();
    }
  });
});
