/**
 * A small native-dialect client for setting a workload up (funding wallets, starting streams and
 * a PK battle): requests with ids, answered by acks. Never used for the measured load.
 */
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';

export function hs256Token(secret: string, sub: string, claims: Record<string, unknown> = {}): string {
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + 86_400, ...claims })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

interface Reply {
  ack?: number;
  data?: unknown;
  error?: { code: string; message: string };
}

export class Rpc {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (raw: Buffer) => {
      const reply = JSON.parse(raw.toString('utf8')) as Reply;
      if (typeof reply.ack === 'number') this.waiting.get(reply.ack)?.(reply);
    });
  }

  static async connect(wsUrl: string, token: string): Promise<Rpc> {
    const socket = new WebSocket(`${wsUrl}/ws?token=${encodeURIComponent(token)}`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new Rpc(socket);
  }

  /** The ack's data; throws with the error code when the server refused. */
  request<T = Record<string, unknown>>(event: string, data: unknown, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${event}: no ack in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (reply.error) reject(new Error(`${event}: ${reply.error.code}: ${reply.error.message}`));
        else resolve(reply.data as T);
      });
      this.socket.send(JSON.stringify({ event, id, data }));
    });
  }

  close(): void {
    this.socket.close();
  }
}
