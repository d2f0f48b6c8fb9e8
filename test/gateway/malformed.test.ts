import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { msgpack } from '../../src/gateway/codecs/native.js';
import { NativeClient, type Closed } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

/** Every kind of bad input gets a typed error or a documented close, and nobody else notices. */
describe('malformed input', () => {
  let gw: GatewayProcess;
  let bystander: NativeClient;

  beforeAll(async () => {
    gw = await startGateway({ WS_MAX_PAYLOAD: '4096' });
    bystander = await NativeClient.connect(gw.ws, { token: await makeToken({ sub: 'bystander' }) });
  });
  afterAll(async () => {
    await bystander.close();
    await gw.stop();
  });

  async function native(encoding: 'json' | 'msgpack' = 'json'): Promise<NativeClient> {
    return NativeClient.connect(gw.ws, { token: await makeToken(), encoding });
  }

  async function bystanderStillServed(): Promise<void> {
    const reply = await bystander.request('session:info');
    expect(reply.data).toMatchObject({ userId: 'bystander' });
    expect(gw.process.exitCode).toBeNull();
  }

  it('invalid JSON -> bad_request, connection stays usable', async () => {
    const c = await native();
    c.sendRaw('{"event": "session:info", "id": 1');
    const err = await c.waitFor((f) => f.error !== undefined);
    expect(err.error?.code).toBe('bad_request');
    expect((await c.request('session:info')).data).toBeDefined();
    await c.close();
    await bystanderStillServed();
  });

  it('invalid msgpack -> bad_request', async () => {
    const c = await native('msgpack');
    c.sendRaw(new Uint8Array([0xc1, 0xff, 0x00]));
    const err = await c.waitFor((f) => f.error !== undefined);
    expect(err.error?.code).toBe('bad_request');
    await c.close();
    await bystanderStillServed();
  });

  it('a frame that is not an envelope -> bad_request', async () => {
    const c = await native();
    for (const raw of ['[1,2,3]', '"hello"', 'null', '{"event": 42, "id": 3}', '{"event": "x y", "id": 4}', '{"event": "session:info", "id": {"a": 1}}'])
      c.sendRaw(raw);
    await c.waitFor(() => c.frames.filter((f) => f.error?.code === 'bad_request').length === 6);
    // An envelope with a usable id gets the error as that id's ack.
    expect(c.frames.find((f) => f.ack === 3)?.error?.code).toBe('bad_request');
    await c.close();
  });

  it('unknown event -> unknown_event on the request id', async () => {
    const c = await native();
    const reply = await c.request('wallet:steal', { from: 'someone' });
    expect(reply.error).toEqual({ code: 'unknown_event', message: 'unknown event "wallet:steal"' });
    await c.close();
  });

  it('wrong field types -> validation_failed naming the field', async () => {
    const c = await native('msgpack');
    const wrong = await c.request('session:ping', { clientAt: 'yesterday' });
    expect(wrong.error?.code).toBe('validation_failed');
    expect(wrong.error?.message).toContain('/clientAt');
    const notObject = await c.request('session:info', 'a string');
    expect(notObject.error?.code).toBe('validation_failed');
    const right = await c.request('session:ping', { clientAt: '2026-12-02T10:00:00.000Z' });
    expect(right.data).toMatchObject({ clientAt: '2026-12-02T10:00:00.000Z', serverAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
    await c.close();
  });

  it('an oversized frame closes only that socket with 1009', async () => {
    const c = await native();
    c.sendRaw(JSON.stringify({ event: 'session:info', id: 1, data: { pad: 'x'.repeat(8000) } }));
    const closed: Closed = await c.closed;
    expect(closed).toEqual({ code: 1009, reason: 'frame exceeds 4096 bytes' });
    expect(c.frames.at(-1)?.error?.code).toBe('payload_too_large');
    await bystanderStillServed();
  });

  it('msgpack with a huge declared length is refused, not allocated', async () => {
    const c = await native('msgpack');
    // str32 header claiming 4 GiB followed by 3 bytes.
    c.sendRaw(new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61, 0x62, 0x63]));
    expect((await c.waitFor((f) => f.error !== undefined)).error?.code).toBe('bad_request');
    c.sendRaw(msgpack.pack({ event: 'session:info', id: 9 }));
    expect((await c.waitFor((f) => f.ack === 9)).data).toBeDefined();
    await c.close();
  });

  describe('garbage Engine.IO packets', () => {
    async function rawSio(): Promise<{ ws: WebSocket; first: Promise<string>; closed: Promise<Closed> }> {
      const ws = new WebSocket(`${gw.ws}/socket.io/?EIO=4&transport=websocket`);
      const first = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
      const closed = new Promise<Closed>((resolve) => ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      return { ws, first, closed };
    }

    for (const [name, frame, reason] of [
      ['unknown packet type', 'x', /unknown Engine.IO packet type/],
      ['invalid JSON payload', '42["session:info",{', /not valid JSON/],
      ['EVENT without an array', '42{"a":1}', /non-empty array/],
      ['binary attachment', '451-["x",{"_placeholder":true,"num":0}]', /binary attachments/],
      ['unknown Socket.IO packet type', '49', /unknown Socket.IO packet type/],
    ] as const) {
      it(`${name} -> close 4102 with the reason`, async () => {
        const { ws, first, closed } = await rawSio();
        expect(await first).toMatch(/^0\{"sid":/);
        ws.send(frame);
        const c = await closed;
        expect(c.code).toBe(4102);
        expect(c.reason).toMatch(reason);
        await bystanderStillServed();
      });
    }

    it('an EVENT before CONNECT is answered with unauthorized', async () => {
      const { ws, first } = await rawSio();
      await first;
      const reply = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
      ws.send('425["session:info",{}]');
      expect(await reply).toBe('435[{"error":{"code":"unauthorized","message":"send CONNECT with a token first"}}]');
      ws.close();
    });

    it('a CONNECT to another namespace is refused with CONNECT_ERROR', async () => {
      const { ws, first } = await rawSio();
      await first;
      const reply = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
      ws.send('40/admin,{"token":"x"}');
      expect(await reply).toBe('44/admin,{"message":"Invalid namespace"}');
      ws.close();
    });

    it('a polling handshake is refused (websocket transport only)', async () => {
      const res = await fetch(`${gw.http}/socket.io/?EIO=4&transport=polling`);
      expect(res.status).toBe(400);
    });
  });
});
