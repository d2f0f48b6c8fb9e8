/**
 * A stand-in for the app's backend: a node http server on port 0 that verifies the proxy's
 * signature on the raw body (the recipe of docs/BRIDGE.md) and answers each event through a
 * handler the test sets. Requests with a bad signature are answered 401 and recorded as such.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, verifyWebhookSignature, type SignatureCheck } from '../../src/kernel/signature.js';

export interface BackendRequest {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
  signature: SignatureCheck;
}

export interface BackendAnswer {
  status?: number;
  body?: unknown;
  /** Raw text instead of JSON. */
  text?: string;
}

export type BackendHandler = (request: BackendRequest) => BackendAnswer | Promise<BackendAnswer>;

export class TestBackend {
  readonly requests: BackendRequest[] = [];
  handler: BackendHandler = (r) => ({ body: { ack: { echo: r.body['data'] } } });

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(secret: string): Promise<TestBackend> {
    let backend: TestBackend | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const header = req.headers[SIGNATURE_HEADER];
        const signature = verifyWebhookSignature(secret, raw, Array.isArray(header) ? header[0] : header);
        const request: BackendRequest = { headers: req.headers, raw, body: JSON.parse(raw) as Record<string, unknown>, signature };
        backend!.requests.push(request);
        const answer: Promise<BackendAnswer> = signature.ok
          ? Promise.resolve(backend!.handler(request))
          : Promise.resolve({ status: 401, body: { error: { code: 'unauthorized', message: `signature ${signature.reason}` } } });
        void answer.then((a) => {
          if (res.destroyed) return;
          const text = a.text ?? JSON.stringify(a.body ?? {});
          res.writeHead(a.status ?? 200, { 'content-type': 'application/json' }).end(text);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    backend = new TestBackend(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/livegate/events`);
    return backend;
  }

  /** Requests for one event. */
  of(event: string): BackendRequest[] {
    return this.requests.filter((r) => r.body['event'] === event);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A URL on which nothing listens: a port the OS handed out, then closed. */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/down`;
}
