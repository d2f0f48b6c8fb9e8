/**
 * Our own conformance suite, written from the Engine.IO v4 and Socket.IO v5 protocol documents
 * (socketio/engine.io-protocol README at f21de7b, socketio/socket.io-protocol) and the areas their
 * test-suite/ covers (engine.io-protocol test-suite/test-suite.js: handshake, message, heartbeat,
 * close, upgrade), over raw WebSocket frames. Our tests, not copies: Engine.IO's suite runs against an
 * echo server of bare Engine.IO messages (`4hello`); livegate's messages are Socket.IO packets, so
 * its "message" cases are checked with Socket.IO packets and livegate's events (session:echo).
 *
 * Out of scope (livegate serves the websocket transport only; a polling handshake is answered with
 * 400 "Transport unknown", checked below):
 * - HTTP long-polling handshake, payload encoding (`\x1e`, `b` base64), ping/pong and ping timeout
 *   over polling, duplicate GET/POST, forced close over polling: the polling transport is not served.
 * - The upgrade from polling to WebSocket (`2probe` / `3probe` / `noop` / `5`) and the sid reuse checks
 *   after it: there is no polling session to upgrade. A WebSocket that names a `sid` is refused with
 *   400 "Session ID unknown" (checked below), and an upgrade packet `5` on a session is a protocol error.
 * Engine.IO message cases in livegate's terms: a message that is not a Socket.IO packet (`4hello`),
 *   a packet of no known type (`abc`) and a binary frame outside a binary packet close the session
 *   (4102), as the reference Socket.IO server does on a parse error.
 * - Custom namespaces: livegate serves `/` only, so the cases that connect to `/custom` are answered with
 *   CONNECT_ERROR "Invalid namespace" (the unknown-namespace case) instead.
 * Where livegate differs on purpose: a client DISCONNECT of `/` leaves the namespace and keeps the
 * WebSocket open for a new CONNECT (closed 10 s later if none comes), rather than closing at once; a
 * client ping `2` is answered `3` (an Engine.IO v4 server may close on it: "invalid heartbeat direction").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

const PING_INTERVAL = 1000;
const PING_TIMEOUT = 1000;

/** A raw Engine.IO WebSocket: frames received in order (text as strings, binary as Buffers). */
class Raw {
  readonly frames: Array<string | Buffer> = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.frames.push(isBinary ? data : data.toString());
      this.waiters.splice(0).forEach((wake) => wake());
    });
    this.closed = new Promise((resolve) => ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => {});
  }

  static async open(url: string): Promise<Raw> {
    const raw = new Raw(new WebSocket(url));
    await new Promise((resolve, reject) => {
      raw.ws.once('open', resolve);
      raw.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return raw;
  }

  /** The next frame matching `match` (pings are skipped unless asked for), consumed. */
  async next(match: (f: string | Buffer) => boolean = (f) => f !== '2'): Promise<string | Buffer> {
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
  }

  send(frame: string | Uint8Array): void {
    this.ws.send(frame);
  }
}

describe('Engine.IO v4 / Socket.IO v5 conformance (websocket transport)', () => {
  let gw: GatewayProcess;
  const raws: Raw[] = [];
  const url = (query = 'EIO=4&transport=websocket'): string => `${gw.ws}/socket.io/?${query}`;
  const open = async (): Promise<Raw> => {
    const raw = await Raw.open(url());
    raws.push(raw);
    return raw;
  };
  /** Open + CONNECT to `/` with a token; returns after the CONNECT reply. */
  const connected = async (): Promise<Raw> => {
    const raw = await open();
    await raw.next();
    raw.send(`40${JSON.stringify({ token: await makeToken() })}`);
    expect(await raw.next()).toMatch(/^40\{"sid":/);
    return raw;
  };

  beforeAll(async () => {
    gw = await startGateway({ SIO_PING_INTERVAL_MS: String(PING_INTERVAL), SIO_PING_TIMEOUT_MS: String(PING_TIMEOUT) });
  });
  afterAll(async () => {
    for (const r of raws) r.ws.terminate();
    await gw.stop();
  });

  describe('Engine.IO: handshake', () => {
    it('the open packet is the first frame: sid, no upgrades, the ping settings and maxPayload', async () => {
      const raw = await open();
      const first = (await raw.next()) as string;
      expect(first[0]).toBe('0');
      const open0 = JSON.parse(first.slice(1)) as Record<string, unknown>;
      expect(Object.keys(open0).sort()).toEqual(['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
      expect(open0).toMatchObject({ upgrades: [], pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, maxPayload: 1_000_000 });
      expect(typeof open0['sid']).toBe('string');
    });

    for (const [name, query] of [
      ['no EIO', 'transport=websocket'],
      ['EIO not a number', 'EIO=abc&transport=websocket'],
      ['EIO 3', 'EIO=3&transport=websocket'],
      ['no transport', 'EIO=4'],
      ['an unknown transport', 'EIO=4&transport=abc'],
    ] as const) {
      it(`refuses the WebSocket upgrade with ${name}`, async () => {
        await expect(Raw.open(url(query))).rejects.toThrow('HTTP 400');
      });
    }

    it('answers a polling handshake with 400 (out of scope: websocket only)', async () => {
      const res = await fetch(`${gw.http}/socket.io/?EIO=4&transport=polling`);
      expect(res.status).toBe(400);
    });
  });

  describe('Engine.IO: heartbeat and close', () => {
    it('the server pings; pongs keep the session open past several intervals', async () => {
      const raw = await open();
      await raw.next();
      for (let i = 0; i < 3; i++) {
        expect(await raw.next((f) => f === '2')).toBe('2');
        raw.send('3');
      }
      expect(raw.ws.readyState).toBe(WebSocket.OPEN);
    });

    it('closes a session that does not answer pings, before any CONNECT', async () => {
      const raw = await open();
      const started = Date.now();
      const closed = await raw.closed;
      expect(closed.code).toBe(4009);
      // Well before the 10 s CONNECT timeout.
      expect(Date.now() - started).toBeLessThan(PING_INTERVAL + PING_TIMEOUT + 2500);
    });

    it('a close packet (1) closes the session', async () => {
      const raw = await open();
      await raw.next();
      raw.send('1');
      expect((await raw.closed).code).toBe(1000);
    });

    it('answers a client ping with a pong', async () => {
      const raw = await open();
      await raw.next();
      raw.send('2');
      expect(await raw.next((f) => f === '3')).toBe('3');
    });
  });

  describe('Engine.IO: websocket transport (engine.io-protocol test-suite areas)', () => {
    it('the open packet arrives alone: nothing else until the client speaks, pings aside', async () => {
      const raw = await open();
      expect((await raw.next()) as string).toMatch(/^0\{/);
      // One ping interval later, the only frames are pings.
      await raw.next((f) => f === '2');
      expect(raw.frames.filter((f) => f !== '2')).toEqual([]);
    });

    it('refuses a WebSocket that names a sid (an upgrade of a polling session livegate never opened)', async () => {
      await expect(Raw.open(url('EIO=4&transport=websocket&sid=abc123'))).rejects.toThrow('HTTP 400');
      const body = await new Promise<string>((resolve) => {
        const ws = new WebSocket(url('EIO=4&transport=websocket&sid=abc123'));
        ws.on('error', () => {});
        ws.on('unexpected-response', (_req, res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(text));
        });
      });
      expect(JSON.parse(body)).toEqual({ code: 1, message: 'Session ID unknown' });
    });

    for (const [name, frame] of [
      ['a message that is not a Socket.IO packet', '4hello'],
      ['a packet of no Engine.IO type', 'abc'],
      ['an upgrade packet outside an upgrade', '5'],
    ] as const) {
      it(`closes the session on ${name}`, async () => {
        const raw = await open();
        await raw.next();
        raw.send(frame);
        expect((await raw.closed).code).toBe(4102);
      });
    }

    it('closes the session on a binary frame that belongs to no binary packet', async () => {
      const raw = await connected();
      raw.send(Uint8Array.from([1, 2, 3, 4]));
      expect((await raw.closed).code).toBe(4102);
    });

    it('each packet is its own WebSocket frame (no payload concatenation), also when several leave at once', async () => {
      const raw = await connected();
      for (let i = 0; i < 5; i++) raw.send(`42${i}["session:echo",${i}]`);
      const acks: Array<string | Buffer> = [];
      for (let i = 0; i < 5; i++) acks.push(await raw.next());
      expect(acks).toEqual([0, 1, 2, 3, 4].map((i) => `43${i}[${i}]`));
    });

    it('pings come every pingInterval, often enough for a client that waits pingInterval + pingTimeout', async () => {
      const raw = await open();
      await raw.next();
      await raw.next((f) => f === '2');
      raw.send('3');
      const first = Date.now();
      await raw.next((f) => f === '2');
      const gap = Date.now() - first;
      raw.send('3');
      // Not more often than the interval announced, and within what the client tolerates.
      expect(gap).toBeGreaterThanOrEqual(PING_INTERVAL / 2);
      expect(gap).toBeLessThan(PING_INTERVAL + PING_TIMEOUT);
    });

    it('a connected session that stops answering pings is closed (4009, no DISCONNECT: the client reconnects)', async () => {
      const raw = await connected();
      const closed = await raw.closed;
      expect(closed.code).toBe(4009);
      expect(raw.frames.filter((f) => f !== '2')).toEqual([]);
    });
  });

  describe('Socket.IO: connect', () => {
    it('CONNECT to / with an auth payload is answered with 40{sid}', async () => {
      const raw = await open();
      await raw.next();
      raw.send(`40${JSON.stringify({ token: await makeToken() })}`);
      const reply = (await raw.next()) as string;
      expect(reply.startsWith('40')).toBe(true);
      const data = JSON.parse(reply.slice(2)) as Record<string, unknown>;
      expect(Object.keys(data)).toEqual(['sid']);
      expect(typeof data['sid']).toBe('string');
    });

    it('CONNECT without a valid token is answered with CONNECT_ERROR', async () => {
      const raw = await open();
      await raw.next();
      raw.send('40');
      expect(await raw.next()).toBe('44{"message":"no token given","data":{"code":"unauthorized","reason":"missing"}}');
    });

    it('CONNECT to an unknown namespace is answered with CONNECT_ERROR Invalid namespace', async () => {
      const raw = await open();
      await raw.next();
      raw.send('40/random,');
      expect(await raw.next()).toBe('44/random,{"message":"Invalid namespace"}');
    });

    it('an invalid handshake packet closes the connection', async () => {
      const raw = await open();
      await raw.next();
      raw.send('4abc');
      expect((await raw.closed).code).toBe(4102);
    });
  });

  describe('Socket.IO: messages', () => {
    it('an EVENT with an ack id is answered with an ACK of that id', async () => {
      const raw = await connected();
      raw.send('4213["session:echo",{"n":[1,"2",{"3":[true]}]}]');
      expect(await raw.next()).toBe('4313[{"n":[1,"2",{"3":[true]}]}]');
    });

    it('a BINARY_EVENT with two attachments is answered with a BINARY_ACK carrying them back', async () => {
      const raw = await connected();
      raw.send('452-7["session:echo",[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]]');
      raw.send(Uint8Array.from([1, 2, 3]));
      raw.send(Uint8Array.from([4, 5, 6]));
      expect(await raw.next()).toBe('462-7[[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]]');
      expect([...((await raw.next()) as Buffer)]).toEqual([1, 2, 3]);
      expect([...((await raw.next()) as Buffer)]).toEqual([4, 5, 6]);
    });

    it('a BINARY_EVENT declaring more attachments than allowed is refused on its header, and its attachments dropped', async () => {
      const raw = await connected();
      raw.send('4511-8["session:echo",' + JSON.stringify(Array.from({ length: 11 }, (_, num) => ({ _placeholder: true, num }))) + ']');
      expect(await raw.next()).toMatch(/^438\[\{"error":\{"code":"payload_too_large"/);
      for (let i = 0; i < 11; i++) raw.send(Uint8Array.from([i]));
      raw.send('429["session:echo","still here"]');
      expect(await raw.next()).toBe('439["still here"]');
    });

    it('packets for a namespace the client is not connected to run nothing', async () => {
      const raw = await connected();
      raw.send('42/admin,5["session:echo","no"]');
      raw.send('426["session:echo","yes"]');
      expect(await raw.next()).toBe('436["yes"]');
      expect(raw.frames.filter((f) => f !== '2')).toEqual([]);
    });
  });

  describe('Socket.IO: disconnect', () => {
    it('a client DISCONNECT leaves the namespace only: the socket stays, a new CONNECT works', async () => {
      const raw = await connected();
      raw.send('41');
      raw.send('421["session:echo",1]');
      expect(await raw.next()).toMatch(/^431\[\{"error":\{"code":"unauthorized"/);
      raw.send(`40${JSON.stringify({ token: await makeToken() })}`);
      expect(await raw.next()).toMatch(/^40\{"sid":/);
      raw.send('422["session:echo",2]');
      expect(await raw.next()).toBe('432[2]');
    });
  });
});
