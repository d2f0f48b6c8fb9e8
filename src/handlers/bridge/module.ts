/**
 * The backend bridge: the server publish API (/api/server/...), the @socket.io/redis-emitter
 * relay, cluster control (ban, presence and occupancy queries) and the user.online/offline
 * webhooks. See docs/BRIDGE.md.
 */
import type { ModuleFactory } from '../../core.js';
import { ClusterControl } from './control.js';
import { EmitterRelay } from './emitter.js';
import { BridgeMetrics } from './metrics.js';
import { createOnlineCounter } from './online.js';
import { Publisher } from './publisher.js';
import { bridgeRoutes } from './routes.js';

export const bridgeModule: ModuleFactory = (core) => {
  const { config, log } = core;
  const metrics = new BridgeMetrics(core.metrics.registry);
  const publisher = new Publisher(core.hub, metrics, config.bridge.maxEventBytes);
  const control = new ClusterControl(core.hub, core.sockets, config.nodeId, log.child({ component: 'bridge' }));
  const online = createOnlineCounter(core.redis, config.nodeId);
  const emitter =
    core.redis && config.bridge.emitter
      ? new EmitterRelay(
          core.redis,
          { key: config.bridge.emitterKey, nodeId: config.nodeId, userPrefixes: config.bridge.emitterUserPrefixes },
          publisher,
          core.sockets,
          metrics,
          log.child({ component: 'emitter' }),
        )
      : undefined;

  const tracksOnline = core.webhooks.isEnabled('user.online') || core.webhooks.isEnabled('user.offline');
  const emitOnline = (type: 'user.online' | 'user.offline', userId: string, version: number, nodeId: string, reason?: string): void =>
    core.webhooks.emit(type, { userId, nodeId, version, sentAt: new Date().toISOString(), ...(reason ? { reason } : {}) }, `user:${userId}`);
  const presenceChange = (userId: string, delta: 1 | -1): void => {
    if (!tracksOnline) return;
    online.change(userId, delta).then(
      (version) => {
        if (version > 0) emitOnline(delta === 1 ? 'user.online' : 'user.offline', userId, version, config.nodeId);
      },
      (err: unknown) => log.warn({ err: (err as Error).message, user: userId }, 'online bookkeeping failed'),
    );
  };
  // A dead node's users go offline (runs on one surviving node; also for our own id at start).
  if (tracksOnline) {
    core.liveness.onNodeDead(async (deadNode) => {
      for (const { userId, version } of await online.removeNode(deadNode)) emitOnline('user.offline', userId, version, deadNode, 'node_dead');
    });
  }

  return {
    name: 'bridge',
    routes: bridgeRoutes({ publisher, control, maxBatch: config.bridge.maxBatch, queryTimeoutMs: config.bridge.queryTimeoutMs }),
    onConnect: (session) => presenceChange(session.userId, 1),
    onDisconnect: (session) => presenceChange(session.userId, -1),
    async start() {
      await control.start();
      await emitter?.start();
    },
    async stop() {
      await emitter?.stop();
      control.stop();
    },
  };
};
