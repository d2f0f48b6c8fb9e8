/**
 * A local identity provider for tests: signing keys, and a JWKS endpoint on node:http (port 0)
 * that serves them with the caching headers a provider sends, counts every request (per
 * `?node=` query, so each gateway's fetches can be told apart), answers If-None-Match with 304,
 * and can be taken down and brought back on the same port.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function makeSigningKey(alg = 'RS256', kid: string = randomUUID()): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface SignOptions {
  /** Header `kid`; default the key's, `null` for none. */
  kid?: string | null;
  expiresInSec?: number;
  issuedAt?: number;
}

/** A token signed with `key`: `claims` as given, plus `iat` and `exp` unless set. */
export function signWith(key: SigningKey, claims: Record<string, unknown>, opts: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const kid = opts.kid === undefined ? key.kid : opts.kid;
  const jwt = new SignJWT({ iat: opts.issuedAt ?? now, exp: now + (opts.expiresInSec ?? 600), ...claims }).setProtectedHeader({
    alg: key.alg,
    typ: 'JWT',
    ...(kid !== null ? { kid } : {}),
  });
  return jwt.sign(key.privateKey);
}

export class JwksServer {
  /** The keys published (public parts), in order. */
  keys: SigningKey[] = [];
  /** Response headers beside content-type (Cache-Control, Expires, ...). */
  headers: Record<string, string> = { 'cache-control': 'public, max-age=300' };
  /** Requests per `node` query value ('' without one). */
  readonly hits = new Map<string, number>();
  readonly notModified = new Map<string, number>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private readonly waiters: Array<{ match: (node: string, status: number) => boolean; resolve: () => void }> = [];

  constructor(readonly path = '/.well-known/jwks.json') {}

  /** The JWKS URL; `node` tags the requests of one gateway. */
  url(node?: string): string {
    return `http://127.0.0.1:${this.port}${this.path}${node ? `?node=${node}` : ''}`;
  }

  get body(): string {
    return JSON.stringify({ keys: this.keys.map((k) => k.jwk) });
  }

  get etag(): string {
    return `"${this.keys.map((k) => k.kid).join('.')}"`;
  }

  hitsOf(node = ''): number {
    return this.hits.get(node) ?? 0;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Down: nothing listens on the port (connections refused). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves at the next request from `node` answered with `status`. */
  nextRequest(node: string, status: number, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${status} answered to ${node || 'any node'} in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match: (n, st) => n === node && st === status,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private answered(node: string, status: number): void {
    for (const w of [...this.waiters]) {
      if (w.match(node, status)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://local');
    const node = url.searchParams.get('node') ?? '';
    this.hits.set(node, this.hitsOf(node) + 1);
    if (url.pathname !== this.path) {
      res.writeHead(404).end();
      this.answered(node, 404);
      return;
    }
    if (req.headers['if-none-match'] === this.etag) {
      this.notModified.set(node, (this.notModified.get(node) ?? 0) + 1);
      res.writeHead(304, { ...this.headers, etag: this.etag }).end();
      this.answered(node, 304);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', etag: this.etag, ...this.headers }).end(this.body);
    this.answered(node, 200);
  }
}
