/**
 * The composition root: builds one gateway node from a Config, wires the engines (bus, store)
 * and the domain modules together. main.ts adds process concerns (signals, exit codes).
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Core, DomainModule, LocalSockets } from './core.js';
import { asyncApiRoute, type AsyncApiInfo } from './gateway/asyncapi.js';
import { RemoteKeySets } from './gateway/auth/jwks.js';
import { AuthMetrics } from './gateway/auth/metrics.js';
import { RevocationList, isOlderToken } from './gateway/auth/revocations.js';
import { createTokenVerifier } from './gateway/auth.js';
import { Dispatcher } from './gateway/dispatcher.js';
import { GATEWAY_EVENTS } from './gateway/events.js';
import type { EmittedEvents } from './gateway/handler.js';
import { operationalRoutes } from './gateway/health.js';
import { openApiRoute, type OpenApiInfo } from './gateway/http/openapi.js';
import { GatewayMetrics } from './gateway/metrics.js';
import { PressureMonitor } from './gateway/pressure.js';
import { registerReadinessGauge } from './gateway/readiness-metrics.js';
import { Gateway } from './gateway/server.js';
import { MemorySioSessions } from './gateway/sio/sessions-memory.js';
import { RedisSioSessions } from './gateway/sio/sessions-redis.js';
import type { Uws } from './gateway/uws.js';
import { createWebhooks } from './handlers/bridge/webhooks/service.js';
import { Readiness } from './kernel/readiness.js';
import { createModules } from './modules.js';
import { RoomAccess } from './rooms/access.js';
import { createBus } from './rooms/create-bus.js';
import { RoomHub } from './rooms/hub.js';
import { LocalLiveness, RedisLiveness } from './rooms/liveness.js';
import { RoomMetrics } from './rooms/metrics.js';
import { MemoryRoomStateStore } from './rooms/room-state-memory.js';
import { RedisRoomStateStore } from './rooms/room-state-redis.js';
import { RoomState } from './rooms/room-state.js';
import { Documents } from './store/documents.js';
import { Mongo } from './store/mongo.js';
import { createStore } from './store/store.js';

const OPENAPI_INFO: OpenApiInfo = {
  title: 'livegate HTTP API',
  version: '0.1.0',
  description: 'CRUD endpoints of the real-time domains, served on the same port as the sockets. Conventions (auth, errors, pagination): docs/HTTP.md.',
};

const ASYNCAPI_INFO: AsyncApiInfo = {
  title: 'livegate socket events',
  version: '0.1.0',
  description: 'Every event of the native /ws dialect: requests with their acks, and what the server sends. Envelopes and resume: docs/PROTOCOL.md.',
};

/** The gateway's own server-to-client events and every module's; an event declared twice fails the start. */
function emittedEvents(modules: DomainModule[]): EmittedEvents {
  const emitted: Record<string, EmittedEvents[string]> = { ...GATEWAY_EVENTS };
  for (const module of modules) {
    for (const [event, def] of Object.entries(module.emits ?? {})) {
      if (emitted[event]) throw new Error(`server event "${event}" is declared twice`);
      emitted[event] = def;
    }
  }
  return emitted;
}

export interface Node {
  port: number;
  core: Core;
  /** Stops accepting, tells clients to reconnect elsewhere, stops modules, closes dependencies. */
  shutdown(): Promise<void>;
}

/**
 * `onFatal`: called (once the node logged why) when the node must not keep running, e.g. a
 * required unique index the MongoDB server cannot build; main.ts shuts down with exit code 1.
 */
export async function startNode(config: Config, uws: Uws, log: Logger, onFatal: (err: Error) => void = () => undefined): Promise<Node> {
  const metrics = new GatewayMetrics(config.nodeId);
  const readiness = new Readiness();
  registerReadinessGauge(metrics.registry, readiness);

  const redis =
    config.redisUrls.length > 0 ? new Redis(config.redisUrls[0]!, { maxRetriesPerRequest: 2, connectionName: `livegate:${config.nodeId}:data` }) : undefined;
  if (redis) {
    redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
    readiness.register('redis', async () => (await redis.ping()) === 'PONG');
  }
  const mongo = config.mongoUrl ? new Mongo(config.mongoUrl, config.mongoDb, log) : undefined;
  if (mongo) {
    void mongo.connect();
    readiness.register('mongodb', () => mongo.ping());
  }

  const roomMetrics = new RoomMetrics(metrics.registry);
  const bus = createBus(config, log, roomMetrics);
  let gateway: Gateway | undefined;
  const hub = new RoomHub(
    bus,
    (message) => gateway?.fanout(message),
    (err, room, what, event) => log.warn({ err: (err as Error).message, room, event }, `room ${what} failed`),
    roomMetrics,
  );
  const sockets: LocalSockets = {
    sessionsOf: (userId) => (gateway?.byUser.get(userId) ?? []).map((c) => c.session()),
    joinUser: (userId, room) => {
      const conns = (gateway?.byUser.get(userId) ?? []).filter((c) => !c.closed && !c.rooms.has(room));
      for (const conn of conns) hub.join(conn, room);
      return conns.length;
    },
    leaveUser: (userId, room) => {
      const conns = (gateway?.byUser.get(userId) ?? []).filter((c) => c.rooms.has(room));
      for (const conn of conns) hub.leave(conn, room);
      return conns.length;
    },
    disconnectUser: (userId, reason, detail) => {
      const conns = gateway?.byUser.get(userId) ?? [];
      for (const conn of conns) conn.end(reason, detail);
      return conns.length;
    },
    closeRevoked: (userId, notBefore) => {
      const conns = (gateway?.byUser.get(userId) ?? []).filter((c) => !c.closed && isOlderToken(c.principal?.issuedAt, notBefore));
      for (const conn of conns) conn.end('revoked');
      return conns.length;
    },
    reauthenticate: (userId, connectionId, principal) => {
      const conn = (gateway?.byUser.get(userId) ?? []).find((c) => c.id === connectionId && !c.closed);
      conn?.reauthenticate(principal);
      return conn !== undefined;
    },
    connectionCount: () => gateway?.connections.size ?? 0,
    countOf: (userId) => gateway?.byUser.count(userId) ?? 0,
    users: () => gateway?.byUser.keys() ?? [].values(),
    userCount: () => gateway?.byUser.size ?? 0,
  };
  const documents = new Documents(mongo, log.child({ component: 'documents' }));
  const store = createStore({ config, log, registry: metrics.registry, readiness, redis, mongo, onFatal });
  store.start();
  const authMetrics = new AuthMetrics(metrics.registry);
  const remoteKeys =
    config.jwt.jwksUrls.length > 0
      ? new RemoteKeySets(config.jwt.jwksUrls, { config: config.jwt.jwks, metrics: authMetrics, log: log.child({ component: 'jwks' }) })
      : undefined;
  if (remoteKeys) {
    await remoteKeys.start();
    readiness.register('jwks', async () => remoteKeys.loaded);
  }
  const revocations = new RevocationList();
  const verifier = await createTokenVerifier(config.jwt, {
    keySets: remoteKeys ? [remoteKeys.getKey] : [],
    isRevoked: (userId, issuedAt) => revocations.refuses(userId, issuedAt),
  });
  const roomAccess = new RoomAccess();
  const liveness = redis ? new RedisLiveness(redis, config.nodeId, config.cluster.heartbeatMs, config.cluster.nodeTtlMs, log) : new LocalLiveness();
  const webhooks = createWebhooks({ config: config.webhooks, nodeId: config.nodeId, log, registry: metrics.registry, redis });
  const roomState = new RoomState(
    redis ? new RedisRoomStateStore(redis) : new MemoryRoomStateStore(),
    (room, event, data) => hub.publish(room, event, data),
    log.child({ component: 'room-state' }),
    config.hotRooms.stateIntervalMs,
    roomMetrics,
  );
  const pressure = new PressureMonitor(config.overload);
  const core: Core = {
    config,
    log,
    metrics,
    readiness,
    bus,
    hub,
    roomAccess,
    roomState,
    pressure,
    liveness,
    redis,
    documents,
    queue: store.queue,
    sockets,
    verifier,
    webhooks,
    authMetrics,
    revocations,
  };

  const modules: DomainModule[] = createModules(core);
  for (const module of modules) await module.start?.();
  // After the modules registered their dead-node cleanups (the first beat runs them for our own id).
  await liveness.start();
  const fallbacks = modules.flatMap((m) => (m.fallback ? [m.fallback] : []));
  if (fallbacks.length > 1) throw new Error('more than one module handles unregistered events');
  const dispatcher = new Dispatcher(
    modules.flatMap((m) => (m.handlers ? [m.handlers] : [])),
    { aliases: modules.flatMap((m) => (m.payloadAliases ? [m.payloadAliases] : [])), fallback: fallbacks[0] },
  );
  const routes = [...operationalRoutes(readiness, metrics, config.nodeId), ...modules.flatMap((m) => m.routes ?? [])];
  const events = dispatcher.contracts();
  routes.push(asyncApiRoute({ events, emitted: emittedEvents(modules) }, ASYNCAPI_INFO));
  routes.push(openApiRoute(routes, OPENAPI_INFO, events));
  const undocumented = routes.filter((r) => !r.api).map((r) => `${r.method.toUpperCase()} ${r.path}`);
  if (undocumented.length > 0) log.warn({ routes: undocumented }, 'routes mounted without defineRoute are only minimally described in /openapi.json');

  gateway = new Gateway({
    uws,
    config,
    log,
    metrics,
    verifier,
    dispatcher,
    hub,
    routes,
    authMetrics,
    pressure,
    sioSessions: redis ? new RedisSioSessions(redis, config.socketIo.recoveryWindowMs) : new MemorySioSessions(config.socketIo.recoveryWindowMs),
    onAuthenticated: (conn) => {
      const session = conn.session();
      for (const module of modules) module.onConnect?.(session);
    },
    onClosed: (conn, rooms) => {
      const session = conn.session();
      for (const module of modules) module.onDisconnect?.(session, rooms);
    },
  });
  const port = await gateway.listen();
  webhooks.start();
  log.info(
    {
      port,
      host: config.host,
      redis: config.redisUrls.length,
      mongo: Boolean(mongo),
      modules: modules.map((m) => m.name),
      events: dispatcher.events(),
      routes: routes.map((r) => `${r.method === 'del' ? 'DELETE' : r.method.toUpperCase()} ${r.path}`),
    },
    'listening',
  );

  const node = gateway;
  return {
    port,
    core,
    async shutdown() {
      readiness.setDraining();
      await node.drain(Math.floor(config.shutdownTimeoutMs / 3));
      pressure.stop();
      for (const module of [...modules].reverse()) {
        await module.stop?.().catch((err: unknown) => log.warn({ err, module: module.name }, 'module stop failed'));
      }
      roomState.stop();
      await liveness.stop().catch((err: unknown) => log.warn({ err }, 'liveness stop failed'));
      remoteKeys?.stop();
      // Modules may enqueue while stopping; the writer flushes after them (bounded by WRITE_FLUSH_MS).
      await webhooks.stop().catch((err: unknown) => log.warn({ err }, 'webhooks stop failed'));
      await store.stop().catch((err: unknown) => log.warn({ err }, 'write pipeline stop failed'));
      await bus.close().catch((err: unknown) => log.warn({ err }, 'bus close failed'));
      redis?.disconnect();
      await mongo?.close().catch((err: unknown) => log.warn({ err }, 'mongodb close failed'));
    },
  };
}
