/**
 * Flutter's `socket_io_client` (Dart) cannot run here: this replays its handshake and packet shapes over
 * a raw WebSocket. It opens `/socket.io/?EIO=4&transport=websocket` (with `transports: ['websocket']`),
 * answers pings with `3`, sends CONNECT with its `setAuth` map as the payload, events as
 * `42<ack id>["event", data]`, binary data as BINARY_EVENT with placeholders, and calls an event handler
 * with the data itself only when the event has exactly one argument (with more, the handler gets the
 * whole list): so a room event must be `42["event", data]`, nothing more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { API_KEY, api } from '../bridge/helpers.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';

describe("Flutter socket_io_client's packets against livegate", () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ SERVICE_API_KEYS: API_KEY, SIO_PING_INTERVAL_MS: '1000', SIO_PING_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('handshake, ack, a one-argument room event, binary round-trip, and 41 before the kick close', async () => {
    const user = 'flutter-user';
    const ws = new WebSocket(`${gw.ws}/socket.io/?EIO=4&transport=websocket`);
    const frames: Array<string | Buffer> = [];
    let wake: () => void = () => {};
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = isBinary ? data : data.toString();
      // The client answers every ping with a pong.
      if (frame === '2') ws.send('3');
      else frames.push(frame);
      wake();
    });
    const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)));
    const next = async (): Promise<string | Buffer> => {
      while (frames.length === 0) await new Promise<void>((r) => (wake = r));
      return frames.shift()!;
    };

    expect(await next()).toMatch(/^0\{"sid":/);
    ws.send(`40${JSON.stringify({ token: await makeToken({ sub: user }) })}`);
    const connect = (await next()) as string;
    expect(connect).toMatch(/^40\{"sid":"[^"]+"\}$/);

    ws.send('420["session:info",{}]');
    const ack = (await next()) as string;
    expect(ack.startsWith('430[')).toBe(true);
    expect((JSON.parse(ack.slice(3)) as Array<{ userId: string }>)[0]!.userId).toBe(user);

    await api(gw.http, 'POST', '/api/server/rooms/team:flutter/join', { userIds: [user] });
    await api(gw.http, 'POST', '/api/server/publish/room', { room: 'team:flutter', event: 'team:update', data: { v: 1 } });
    const event = (await next()) as string;
    expect(JSON.parse(event.slice(2))).toEqual(['team:update', { v: 1 }]);

    ws.send('451-1["session:echo",{"file":{"_placeholder":true,"num":0}}]');
    ws.send(Buffer.from([9, 8, 7]));
    expect(await next()).toBe('461-1[{"file":{"_placeholder":true,"num":0}}]');
    expect([...((await next()) as Buffer)]).toEqual([9, 8, 7]);

    await api(gw.http, 'POST', `/api/server/users/${user}/disconnect`, {});
    expect(await next()).toBe('41');
    // The client closes on DISCONNECT; the server would close 1 s later with 4103 otherwise.
    ws.close();
    expect(await closed).toBe(1005);
  });
});
