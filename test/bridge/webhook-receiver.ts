/**
 * A webhook receiver for tests: records every request (raw body and headers); can go down and come
 * back on the same port. While down it keeps the port bound and resets every connection, so no
 * other process on the machine can take the port in the meantime (a closed port was once reused
 * by another test's listener within the 30 s outage).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** Deliveries the receiver accepted (2xx); refused attempts are not recorded. */
export interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
  receivedAt: number;
}

export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  private server: Server | undefined;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  port = 0;
  /** Status for each request, by arrival (then 204): failure injection. */
  statuses: number[] = [];

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  private available = false;

  /** Starts listening (port 0 the first time), or accepts connections again after down(). */
  async up(): Promise<void> {
    this.available = true;
    if (this.server) return;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.statuses.shift() ?? 204;
        res.writeHead(status).end();
        if (status >= 300) return;
        this.deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() });
        for (const w of [...this.waiters]) {
          if (this.deliveries.length >= w.count) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      });
    });
    // Down: the TCP connection is reset at once, as a client sees a receiver that is not there.
    server.on('connection', (socket) => {
      if (!this.available) socket.resetAndDestroy();
    });
    server.keepAliveTimeout = 1000;
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  /** The receiver is down: open keep-alive connections are dropped, new ones reset; the port stays bound. */
  async down(): Promise<void> {
    this.available = false;
    this.server?.closeAllConnections();
  }

  /** Stops listening for good. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.available = false;
    const closed = once(server, 'close');
    server.close();
    server.closeAllConnections();
    await closed;
  }

  waitForCount(count: number, timeoutMs: number): Promise<void> {
    if (this.deliveries.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver got ${this.deliveries.length} of ${count} deliveries in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}
