/**
 * Shared setup of the money suites: each suite has its own Redis (global keys such as pk:ends and
 * money:outbox must not be shared with other suites' gateways) and its own MongoDB database on the
 * run's FerretDB, gateways with short money intervals, funding through the admin event, and
 * MongoDB read helpers.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { COLLECTIONS } from '../../src/store/collections.js';
import { seedCatalogue } from '../../src/tools/seed.js';
import { NativeClient, type ServerFrame } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { removeDir, startRedis } from '../support/services.js';

export type RedisServer = Awaited<ReturnType<typeof startRedis>>;

export const uid = (prefix: string): string => `${prefix}-${randomBytes(5).toString('hex')}`;

export interface MoneyEnv {
  redis: RedisServer;
  mongoUrl: string;
  dbName: string;
  mongo: MongoClient;
  db: Db;
  gateways: GatewayProcess[];
  admin: NativeClient;
  close(): Promise<void>;
}

export function gatewayEnv(redisUrl: string, mongoUrl: string, dbName: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    MONGO_URL: mongoUrl,
    MONGO_DB: dbName,
    MONEY_OUTBOX_GRACE_MS: '1000',
    MONEY_OUTBOX_SWEEP_MS: '200',
    PK_POLL_MS: '100',
    WRITE_CLAIM_IDLE_MS: '1000',
    RATE_LIMIT_CONN_PER_SEC: '2000',
    RATE_LIMIT_CONN_BURST: '2000',
    RATE_LIMIT_USER_PER_SEC: '5000',
    RATE_LIMIT_USER_BURST: '5000',
    ...extra,
  };
}

/** Own Redis, a fresh database with the seeded catalogue, and `nodes` gateways. */
export async function startMoneyEnv(mongoUrl: string, nodes: number, extra: Record<string, string> = {}): Promise<MoneyEnv> {
  const redis = await startRedis();
  const dbName = `money_${randomBytes(4).toString('hex')}`;
  const mongo = new MongoClient(mongoUrl);
  await mongo.connect();
  const db = mongo.db(dbName);
  await seedCatalogue(db);
  const gateways: GatewayProcess[] = [];
  for (let i = 0; i < nodes; i++) gateways.push(await startGateway(gatewayEnv(redis.url, mongoUrl, dbName, extra)));
  for (const gw of gateways)
    await eventually(
      async () => (await fetch(`${gw.http}/readyz`)).status,
      (status) => status === 200,
    );
  const admin = await connect(gateways[0]!, uid('admin'), 'admin');
  const env: MoneyEnv = {
    redis,
    mongoUrl,
    dbName,
    mongo,
    db,
    gateways,
    admin,
    async close() {
      await admin.close();
      for (const gw of gateways) await gw.stop();
      await db.dropDatabase().catch(() => undefined);
      await mongo.close();
      // env.redis, not `redis`: a suite may have replaced the server (restart tests).
      await env.redis.stop();
      removeDir(env.redis.dir);
    },
  };
  return env;
}

export async function connect(gw: GatewayProcess, userId: string, role?: string): Promise<NativeClient> {
  return NativeClient.connect(gw.ws, { token: await makeToken({ sub: userId, ...(role ? { role } : {}) }) });
}

/** Resolves with the ack data, or throws with the error code as message. */
export async function ok<T = Record<string, unknown>>(client: NativeClient, event: string, data: unknown): Promise<T> {
  const reply = await client.request(event, data);
  if (reply.error) throw new Error(`${event} failed: ${reply.error.code}: ${reply.error.message}`);
  return reply.data as T;
}

export async function fund(admin: NativeClient, userId: string, amount: number): Promise<number> {
  const ack = await ok<{ balance: number }>(admin, 'wallet:credit', { userId, amount, reason: 'test funding', idempotencyKey: uid('fund') });
  return ack.balance;
}

/** Starts a live stream hosted by `hostId` (through the livestream module) and leaves it running. */
export async function createLivestream(env: MoneyEnv, livestreamId: string, hostId: string): Promise<void> {
  const host = await connect(env.gateways[0]!, hostId);
  await startStream(host, livestreamId);
  await host.close();
}

/** A user account document (recipients of profile gifts must exist). */
export async function createUser(db: Db, userId: string): Promise<void> {
  await db.collection<{ _id: string }>(COLLECTIONS.users).insertOne({ _id: userId, username: userId, createdAt: new Date() } as { _id: string });
}

/** Starts a livestream through the livestream module (its host is the recipient of stream gifts). */
export async function startStream(host: NativeClient, livestreamId: string): Promise<void> {
  await ok(host, 'livestream:start', { title: `stream ${livestreamId}`, livestreamId });
}

/** Joins a livestream's room `live:<livestreamId>` through the livestream module. */
export async function joinStream(client: NativeClient, livestreamId: string): Promise<void> {
  await ok(client, 'livestream:join', { livestreamId });
}

/** Polls MongoDB until `read` returns a value satisfying `done` (the write queue drains asynchronously). */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One metric's value (summing its series, optionally filtered by a label substring). */
export async function metric(gw: GatewayProcess, name: string, labelFilter = ''): Promise<number> {
  const text = await (await fetch(`${gw.http}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (labelFilter && !line.includes(labelFilter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export const errorCode = (frame: ServerFrame): string | undefined => frame.error?.code;

export async function ledgerOf(db: Db, userId: string): Promise<Array<Record<string, unknown>>> {
  return db.collection(COLLECTIONS.transactions).find({ userId }).toArray();
}

export async function walletDoc(db: Db, userId: string): Promise<Record<string, unknown> | null> {
  return db.collection<{ _id: string }>(COLLECTIONS.wallets).findOne({ _id: userId });
}
