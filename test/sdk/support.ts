/** Helpers of the client SDK suites: a socket class the test can cut off, and awaiting client events. */
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import WebSocket from 'ws';
import type { ClientEvents, LivegateClient, SocketFactory } from '../../clients/js/src/index.js';

/**
 * A `ws` socket class with a gate: while closed, new sockets go to a port nobody listens on (the
 * client sees a failed connect and backs off); `drop()` cuts the current socket without a close frame.
 */
export function gatedSockets(): { Factory: SocketFactory; open: boolean; drop(): void; opened: number } {
  const state = {
    open: true,
    opened: 0,
    current: undefined as WebSocket | undefined,
    drop(): void {
      state.current?.terminate();
    },
    Factory: undefined as unknown as SocketFactory,
  };
  class Gated extends WebSocket {
    constructor(url: string) {
      super(state.open ? url : url.replace(/^ws:\/\/[^/]+/, 'ws://127.0.0.1:1'));
      state.current = this;
      state.opened++;
    }
  }
  state.Factory = Gated as unknown as SocketFactory;
  return state;
}

/** The next `event` of the client (matching `match`), or a timeout error. */
export function next<E extends keyof ClientEvents>(
  client: LivegateClient,
  event: E,
  match: (data: ClientEvents[E]) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<ClientEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, handler);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const handler = (data: ClientEvents[E]): void => {
      if (!match(data)) return;
      clearTimeout(timer);
      client.off(event, handler);
      resolve(data);
    };
    client.on(event, handler);
  });
}

/** Resolves once `check` holds, re-checked whenever the client delivers an event of `events`. */
export function until(client: LivegateClient, events: string[], check: () => boolean, timeoutMs = 20_000): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const stop = (): void => {
      clearTimeout(timer);
      for (const e of events) client.off(e, handler);
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`condition not met within ${timeoutMs} ms (events ${events.join(', ')})`));
    }, timeoutMs);
    const handler = (): void => {
      if (!check()) return;
      stop();
      resolve();
    };
    for (const e of events) client.on(e, handler);
  });
}

/**
 * A TCP proxy in front of a gateway whose `stall()` makes the open connections silent in both
 * directions without closing them (half-open TCP as a dead NAT entry leaves it); connections opened
 * afterwards are forwarded normally.
 */
export async function stallingProxy(targetPort: number): Promise<{ url: string; opened: number; stall(): void; close(): Promise<void> }> {
  const pairs: Array<[Socket, Socket]> = [];
  const all: Socket[] = [];
  let opened = 0;
  const server: Server = createServer((client) => {
    opened++;
    const upstream = netConnect(targetPort, '127.0.0.1');
    all.push(client, upstream);
    pairs.push([client, upstream]);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    get opened() {
      return opened;
    },
    stall() {
      for (const [client, upstream] of pairs.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Read and drop whatever still arrives: nothing gets through, nothing is closed.
        client.on('data', () => undefined);
        upstream.on('data', () => undefined);
      }
    },
    async close() {
      for (const socket of all) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
