/** Helpers for chat and store tests: authenticated clients, acks that must succeed, /metrics, polling. */
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { NativeClient, type ServerFrame } from './clients.js';
import { makeToken, type GatewayProcess } from './gateway.js';

export const uid = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function connectUser(gw: GatewayProcess, userId: string): Promise<NativeClient> {
  return NativeClient.connect(gw.ws, { token: await makeToken({ sub: userId }) });
}

/** The ack's data; fails the test with the error if the server refused. */
export async function call<T = Record<string, unknown>>(client: NativeClient, event: string, data: unknown = {}): Promise<T> {
  const reply = await client.request(event, data);
  if (reply.error) throw new Error(`${event} refused: ${reply.error.code}: ${reply.error.message}`);
  return reply.data as T;
}

/** The error code of a refused request (fails if it succeeded). */
export async function refused(client: NativeClient, event: string, data: unknown = {}): Promise<string> {
  const reply = await client.request(event, data);
  if (!reply.error) throw new Error(`${event} unexpectedly succeeded: ${JSON.stringify(reply.data)}`);
  return reply.error.code;
}

export const eventFrames = (client: NativeClient, event: string): ServerFrame[] => client.frames.filter((f) => f.event === event);

/** One sample of a metric from /metrics (first series whose labels include `labels`). */
export async function metric(gw: GatewayProcess, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${gw.http}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Runs `fn` over 0..count-1 with at most `width` calls in flight (a client pipelining requests). */
export async function pipelined<T>(count: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** Polls a condition until it holds (no fixed sleeps: it returns as soon as the state is reached). */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the write queue is empty, as the node's /metrics reports it. */
export function queueDrained(gw: GatewayProcess, timeoutMs = 60_000): Promise<true> {
  return waitUntil('the write queue to drain', async () => (await metric(gw, 'livegate_write_queue_length')) === 0 || undefined, timeoutMs);
}

export async function openDb(mongoUrl: string, dbName: string): Promise<{ db: Db; close: () => Promise<void> }> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  return { db: client.db(dbName), close: () => client.close() };
}

/** Environment for a gateway in a chat/store test: own database and stream, generous rate limits. */
export function chatEnv(redisUrl: string, mongoUrl: string, dbName: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    MONGO_URL: mongoUrl,
    MONGO_DB: dbName,
    WRITE_QUEUE_STREAM: `lg-test:${dbName}:writes`,
    RATE_LIMIT_CONN_PER_SEC: '100000',
    RATE_LIMIT_CONN_BURST: '100000',
    RATE_LIMIT_USER_PER_SEC: '100000',
    RATE_LIMIT_USER_BURST: '100000',
    LOG_LEVEL: 'info',
    ...extra,
  };
}
