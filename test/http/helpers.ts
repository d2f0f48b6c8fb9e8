/** Shared setup for the domain HTTP suites: one gateway + FerretDB database per file, users by role. */
import { MongoClient, type Db } from 'mongodb';
import { inject } from 'vitest';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { errorCode, http, type HttpOptions, type HttpReply } from '../support/http.js';

export const SERVICE_KEY = 'domain-tests-service-key';

export interface Actor {
  id: string;
  token: string;
}

export interface DomainEnv {
  gw: GatewayProcess;
  db: Db;
  mongo: MongoClient;
  tag: string;
  user(name: string, role?: 'user' | 'admin'): Promise<Actor>;
  call<T = unknown>(method: string, path: string, opts?: HttpOptions): Promise<HttpReply<T>>;
  stop(): Promise<void>;
}

export async function domainEnv(name: string, env: Record<string, string> = {}): Promise<DomainEnv> {
  const dbName = `${name}_${process.pid}`;
  // The per-user HTTP rate limit (60 burst, 20/s) is raised: a test calling quickly with one token would
  // otherwise get a 429 on a fast machine only. test/http/rate-limit.test.ts covers the limit itself.
  const gw = await startGateway({
    MONGO_URL: inject('mongoUrl'),
    MONGO_DB: dbName,
    SERVICE_API_KEYS: SERVICE_KEY,
    HTTP_RATE_LIMIT_PER_SEC: '1000',
    HTTP_RATE_LIMIT_BURST: '1000',
    ...env,
  });
  const mongo = await new MongoClient(inject('mongoUrl')).connect();
  const tag = Math.random().toString(36).slice(2, 8);
  return {
    gw,
    mongo,
    db: mongo.db(dbName),
    tag,
    async user(who, role = 'user') {
      const id = `${who}-${tag}`;
      return { id, token: await makeToken({ sub: id, ...(role === 'admin' ? { role: 'admin' } : {}) }) };
    },
    call: (method, path, opts) => http(gw, method, path, opts),
    async stop() {
      await gw.stop();
      await mongo.close();
    },
  };
}

/** [status, error code] of a reply, for compact assertions. */
export const outcome = (reply: HttpReply): [number, string | undefined] => [reply.status, errorCode(reply)];

export const FORGED = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJlLWlzLWZvcmdlZA';

/** One page of a paginated list (src/gateway/http/pagination.ts). */
export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
  hasMore: boolean;
}
