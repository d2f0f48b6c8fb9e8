/** Helpers of the client SDK suites: a socket class the test can cut off, and awaiting client events. */
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
