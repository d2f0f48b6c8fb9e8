/** A webhook receiver for tests: records every request (raw body and headers); can go down and come back on the same port. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';

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

  async up(): Promise<void> {
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
    server.keepAliveTimeout = 1000;
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  /** Stops listening and drops open keep-alive connections: the receiver is down. */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
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
