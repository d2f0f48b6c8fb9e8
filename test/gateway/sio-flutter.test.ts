/**
 * Flutter's `socket_io_client` against livegate, replayed from its source. Dart cannot be installed
 * on this machine, so this test speaks the packets that client's source writes, over a raw WebSocket,
 * and checks every frame livegate sends against the rules its decoder applies. Read (not copied):
 *
 * - rikulo/socket.io-client-dart 3.1.6 (pubspec.yaml; commit ddc95d9b8f7f6188908fed289c111339a79f143e):
 *   lib/src/socket.dart (emitWithAck, sendConnectPacket, onpacket, onevent/emitEvent, ack, onack,
 *   onconnect, ondisconnect), lib/src/manager.dart (path `/socket.io`, reconnect, ondata -> "parse error"),
 *   lib/src/engine/socket.dart (query EIO=4 & transport, onHandshake, resetPingTimeout, ping -> pong),
 *   lib/src/engine/transport/websocket_transport.dart and transport.dart (URI, one frame per packet).
 * - rikulo/socket_io_common 3.1.1 (commit f30216e9e8cb412a839dbc2cab7d4ebfd5651d6d): lib/src/parser/parser.dart
 *   (Encoder, Decoder.decodeString, isPayloadValid), lib/src/parser/binary.dart (placeholders),
 *   lib/src/engine/parser/*.dart (Engine.IO packets).
 *
 * What that source does, in our words, and what this test replays:
 * - Opens `ws://host/socket.io/?EIO=4&transport=websocket` (the path gets a trailing slash; with
 *   `transports: ['websocket']`). The open packet's JSON gives sid, upgrades (a list), pingInterval,
 *   pingTimeout, maxPayload; the client gives up when no packet at all arrives for pingInterval +
 *   pingTimeout, and answers each ping `2` with a pong `3`.
 * - CONNECT is `40` + the `auth` map as JSON (`40` alone without auth). The reply must carry `sid`
 *   (else it reports a v2 server); `pid` in it turns on recovery bookkeeping. While it has a pid, the
 *   last argument of every event that is a string is kept as the offset, and a reconnect sends
 *   `40{"pid":…,"offset":…,<auth keys>}`; `recovered` is true when the reply repeats the pid.
 * - emitWithAck numbers acks from 0 (`420[...]`, `421[...]`); a List as data is spread into
 *   several arguments (`42["e",1,2]`), a Uint8List is one binary argument sent as BINARY_EVENT
 *   `451-<id>[...{"_placeholder":true,"num":0}]` followed by one binary frame per attachment.
 * - An event handler gets the data itself when the event has one argument, and a List of the
 *   arguments when it has more (so a `{room, seq}` or an offset argument turns data into a List).
 *   An ack callback gets the value when the ACK has one argument, the List when it has more.
 * - Its decoder throws (the manager then closes with "parse error" and reconnects) on: an unknown
 *   packet type, an EVENT whose first element is not a string/number or is a reserved name (connect,
 *   connect_error, disconnect, disconnecting, newListener, removeListener), an ACK that is not a list,
 *   a DISCONNECT with a payload, a CONNECT that is not an object, a binary frame when no attachment is
 *   expected, or a text frame while attachments are expected. A binary packet announcing 0
 *   attachments leaves its decoder waiting, so it must never be sent. `dartAccepts` checks all of it.
 * - DISCONNECT `41`: it destroys the socket, closes the engine and does not reconnect ("io server
 *   disconnect"). CONNECT_ERROR: the same, no reconnect, `connect_error` with the packet's data.
 *   It ignores an Engine.IO close packet `1` (livegate sends none).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { API_KEY, api } from '../bridge/helpers.js';
import { TestBackend } from '../proxy/backend.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

const SECRET = 'flutter-proxy-secret-0123456789';
const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

/** A packet the Dart decoder produced: its type, namespace, ack id and data (attachments filled in). */
interface DartPacket {
  type: number;
  id: number | undefined;
  data: unknown;
}

/**
 * The Dart client's view of one connection: Engine.IO (pong on ping), the Socket.IO decoder rules
 * (every frame is checked; a violation fails the test as it would close the Dart client), binary
 * reconstruction, and the recovery bookkeeping (pid, last string argument as offset).
 */
class DartReplay {
  readonly packets: DartPacket[] = [];
  readonly violations: string[] = [];
  pid: string | undefined;
  lastOffset: string | undefined;
  private pending: { packet: DartPacket; expected: number; buffers: Buffer[] } | undefined;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<number>;
  private nextAckId = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw: Buffer, isBinary: boolean) => {
      this.receive(isBinary ? raw : raw.toString());
      this.waiters.splice(0).forEach((wake) => wake());
    });
    this.closed = new Promise((resolve) => ws.on('close', (code: number) => resolve(code)));
  }

  static async open(gw: GatewayProcess): Promise<DartReplay> {
    const replay = new DartReplay(new WebSocket(`${gw.ws}/socket.io/?EIO=4&transport=websocket`));
    const open = (await replay.next((p) => p.type === -1)).data as Record<string, unknown>;
    expect(Array.isArray(open['upgrades'])).toBe(true);
    for (const key of ['pingInterval', 'pingTimeout', 'maxPayload']) expect(Number.isInteger(open[key]), key).toBe(true);
    return replay;
  }

  /** One frame, decoded the way socket_io_common does it (open packet reported as type -1). */
  private receive(frame: string | Buffer): void {
    if (typeof frame !== 'string') {
      if (!this.pending) return void this.violations.push('binary frame while no attachment is expected');
      this.pending.buffers.push(frame);
      if (this.pending.buffers.length === this.pending.expected) {
        const { packet, buffers } = this.pending;
        this.pending = undefined;
        this.deliver({ ...packet, data: fill(packet.data, buffers) });
      }
      return;
    }
    if (this.pending) return void this.violations.push(`text frame while attachments are expected: ${frame.slice(0, 40)}`);
    const engineType = frame[0];
    if (engineType === '0') return this.deliver({ type: -1, id: undefined, data: JSON.parse(frame.slice(1)) });
    if (engineType === '2') return void this.ws.send('3');
    if (engineType === '3' || engineType === '6' || engineType === '1') return;
    if (engineType !== '4') return void this.violations.push(`unknown Engine.IO packet ${frame.slice(0, 10)}`);
    const m = /^(\d)(?:(\d+)-)?(?:(\/[^,]*),)?(\d+)?(.*)$/s.exec(frame.slice(1));
    if (!m) return void this.violations.push(`undecodable ${frame.slice(0, 40)}`);
    const type = Number(m[1]);
    const attachments = m[2] === undefined ? undefined : Number(m[2]);
    const data: unknown = m[5] ? JSON.parse(m[5]) : undefined;
    const problem = dartRejects(type, attachments, data);
    if (problem) return void this.violations.push(`${problem}: ${frame.slice(0, 60)}`);
    const packet = { type, id: m[4] === undefined ? undefined : Number(m[4]), data };
    if (type === 5 || type === 6) this.pending = { packet, expected: attachments!, buffers: [] };
    else this.deliver(packet);
  }

  private deliver(packet: DartPacket): void {
    if (packet.type === 0) this.pid = (packet.data as { pid?: string }).pid;
    if ((packet.type === 2 || packet.type === 5) && this.pid !== undefined) {
      const args = packet.data as unknown[];
      const last = args[args.length - 1];
      if (typeof last === 'string') this.lastOffset = last;
    }
    this.packets.push(packet);
  }

  /** The next decoded packet matching `match`, consumed. */
  async next(match: (p: DartPacket) => boolean): Promise<DartPacket> {
    for (;;) {
      const i = this.packets.findIndex(match);
      if (i >= 0) return this.packets.splice(i, 1)[0]!;
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
  }

  /** `socket.connect()` with `setAuth(auth)`: with a pid from before, pid and offset come first. */
  connect(auth: Record<string, unknown>): void {
    const data = this.pid !== undefined ? { pid: this.pid, offset: this.lastOffset ?? null, ...auth } : auth;
    this.ws.send(`40${JSON.stringify(data)}`);
  }

  /** `emitWithAck(event, data, ack:)`: a List is spread, a Uint8List is one binary argument. Returns what the ack callback gets. */
  async emitWithAck(event: string, data: unknown): Promise<unknown> {
    const id = this.nextAckId++;
    const args = Array.isArray(data) ? [event, ...(data as unknown[])] : [event, data];
    const buffers: Buffer[] = [];
    const json = JSON.stringify(args.map((a) => placeholders(a, buffers)));
    this.ws.send(buffers.length > 0 ? `45${buffers.length}-${id}${json}` : `42${id}${json}`);
    for (const b of buffers) this.ws.send(b);
    const ack = await this.next((p) => (p.type === 3 || p.type === 6) && p.id === id);
    const ackArgs = ack.data as unknown[];
    return ackArgs.length > 1 ? ackArgs : ackArgs[0];
  }

  /** What the app's `socket.on(event, handler)` receives for the next event of that name. */
  async on(event: string): Promise<unknown> {
    const packet = await this.next((p) => (p.type === 2 || p.type === 5) && (p.data as unknown[])[0] === event);
    const args = packet.data as unknown[];
    return args.length > 2 ? args.slice(1) : args[1];
  }
}

/** The first reason socket_io_common's decoder would refuse this packet, if any. */
function dartRejects(type: number, attachments: number | undefined, data: unknown): string | undefined {
  if (type > 6) return 'unknown Socket.IO packet type';
  if ((type === 5 || type === 6) && !(attachments! > 0)) return 'binary packet without attachments';
  const isObject = data === undefined || data === null || typeof data === 'object';
  const checks: Record<number, () => boolean> = {
    0: () => isObject,
    1: () => data === undefined,
    2: () => Array.isArray(data) && data.length > 0 && (typeof data[0] === 'number' || (typeof data[0] === 'string' && !RESERVED.has(data[0]))),
    3: () => Array.isArray(data),
    4: () => typeof data === 'string' || isObject,
  };
  checks[5] = checks[2]!;
  checks[6] = checks[3]!;
  return checks[type]!() ? undefined : 'invalid payload';
}

function placeholders(value: unknown, out: Buffer[]): unknown {
  if (value instanceof Uint8Array) {
    out.push(Buffer.from(value));
    return { _placeholder: true, num: out.length - 1 };
  }
  if (Array.isArray(value)) return value.map((v) => placeholders(v, out));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, placeholders(v, out)]));
  return value;
}

function fill(value: unknown, buffers: Buffer[]): unknown {
  if (Array.isArray(value)) return value.map((v) => fill(v, buffers));
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record['_placeholder'] === true) return buffers[record['num'] as number];
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fill(v, buffers)]));
  }
  return value;
}

describe('Flutter socket_io_client (replayed from its Dart source) against livegate', () => {
  let gw: GatewayProcess;
  let backend: TestBackend;
  const replays: DartReplay[] = [];
  const open = async (): Promise<DartReplay> => {
    const r = await DartReplay.open(gw);
    replays.push(r);
    return r;
  };
  beforeAll(async () => {
    backend = await TestBackend.start(SECRET);
    gw = await startGateway({
      SERVICE_API_KEYS: API_KEY,
      SIO_PING_INTERVAL_MS: '1000',
      SIO_PING_TIMEOUT_MS: '1000',
      PROXY_URL: backend.url,
      PROXY_SECRET: SECRET,
      PROXY_EVENTS: 'app:*',
    });
  });
  afterAll(async () => {
    for (const r of replays) {
      r.ws.terminate();
      // Every frame livegate sent was one the Dart decoder accepts.
      expect(r.violations).toEqual([]);
    }
    await gw.stop();
    await backend.stop();
  });

  it('CONNECT with auth, acks from id 0, a one-argument room event, binary both ways, 41 and no reconnect', async () => {
    const user = 'flutter-user';
    const r = await open();
    r.connect({ token: await makeToken({ sub: user }) });
    const connected = await r.next((p) => p.type === 0);
    expect(Object.keys(connected.data as object)).toEqual(['sid']);
    expect(r.pid).toBeUndefined();

    expect(await r.emitWithAck('session:info', {})).toMatchObject({ userId: user });
    expect(await r.emitWithAck('session:echo', { n: 1 })).toEqual({ n: 1 });

    // A room event reaches a Dart handler as its data, not as a List.
    await api(gw.http, 'POST', '/api/server/rooms/team:flutter/join', { userIds: [user] });
    await api(gw.http, 'POST', '/api/server/publish/room', { room: 'team:flutter', event: 'team:update', data: { v: 1 } });
    expect(await r.on('team:update')).toEqual({ v: 1 });

    // A Uint8List goes out as BINARY_EVENT; livegate answers a BINARY_ACK that the decoder rebuilds into bytes.
    const echoed = (await r.emitWithAck('session:echo', { file: Uint8Array.from([9, 8, 7]) })) as { file: Buffer };
    expect([...echoed.file]).toEqual([9, 8, 7]);

    // A kick: 41, then the Dart client destroys the socket and closes the WebSocket itself (no code).
    await api(gw.http, 'POST', `/api/server/users/${user}/disconnect`, {});
    await r.next((p) => p.type === 1);
    r.ws.close();
    expect(await r.closed).toBe(1005);
  });

  it('a List as data is spread into arguments: the event proxy forwards them all, and several ack arguments reach the callback as a List', async () => {
    backend.handler = (req) => ({ body: { ackArgs: ['saved', (req.body['args'] as unknown[]).length] } });
    const r = await open();
    r.connect({ token: await makeToken({ sub: 'flutter-proxy' }) });
    await r.next((p) => p.type === 0);
    expect(await r.emitWithAck('app:save', ['draft', { title: 't' }])).toEqual(['saved', 2]);
    expect(backend.of('app:save')[0]!.body).toMatchObject({ data: 'draft', args: ['draft', { title: 't' }], dialect: 'sio' });
    // One binary argument (a Uint8List is not spread): base64 in the proxy body.
    expect(await r.emitWithAck('app:save', Uint8Array.from([1, 2]))).toEqual(['saved', 1]);
    expect(backend.of('app:save')[1]!.body).toMatchObject({ args: [{ _placeholder: true, num: 0 }], attachments: ['AQI='] });
  });

  it('recovery: pid in the CONNECT reply, the offset kept from the last string argument, a reconnect with {pid, offset, ...auth} gets the same sid and the missed event', async () => {
    const user = 'flutter-recovering';
    const room = 'team:flutter-rec';
    const auth = { token: await makeToken({ sub: user }), connectionStateRecovery: true };
    const first = await open();
    first.connect(auth);
    const reply = (await first.next((p) => p.type === 0)).data as { sid: string; pid: string };
    expect(reply.pid).toEqual(expect.any(String));
    await api(gw.http, 'POST', `/api/server/rooms/${room}/join`, { userIds: [user] });
    await api(gw.http, 'POST', '/api/server/publish/room', { room, event: 'team:update', data: { v: 1 } });
    // With an offset the event has two arguments: the Dart handler gets [data, offset], as with Socket.IO's own server.
    const got = (await first.on('team:update')) as unknown[];
    expect(got).toEqual([{ v: 1 }, first.lastOffset]);
    expect(first.lastOffset).toEqual(expect.any(String));

    // The transport drops (not a 41): the manager reconnects on a new Engine.IO session.
    first.ws.terminate();
    await first.closed;
    await api(gw.http, 'POST', '/api/server/publish/room', { room, event: 'team:update', data: { v: 2 } });
    const second = await open();
    second.pid = first.pid;
    second.lastOffset = first.lastOffset;
    second.connect(auth);
    const again = (await second.next((p) => p.type === 0)).data as { sid: string; pid: string };
    // recovered = (pid == previous pid); socket.id is the same as before.
    expect(again).toEqual({ sid: reply.sid, pid: reply.pid });
    expect(((await second.on('team:update')) as unknown[])[0]).toEqual({ v: 2 });
  });

  it('CONNECT_ERROR is an object with message and data (the Dart client reports connect_error and does not retry)', async () => {
    const r = await open();
    r.connect({ token: 'not-a-jwt' });
    const refused = await r.next((p) => p.type === 4);
    expect(refused.data).toMatchObject({ message: expect.any(String), data: { code: 'unauthorized' } });
  });
});
