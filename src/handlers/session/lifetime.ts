/**
 * Token lifetime on live sockets: `session:refresh {token}` replaces a connection's token in
 * place (the gateway's SessionLifetime sends `session:expiring` and closes expired ones), and
 * POST /api/server/users/:userId/revoke revokes a user's sessions on every node.
 */
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { SessionService } from './lifetime-service.js';
import { MemoryRevocationStore } from './revocations-memory.js';
import { RedisRevocationStore } from './revocations-redis.js';
import { sessionRoutes } from './routes.js';
import { REFRESH_ACKS, RefreshRequest } from './schemas.js';

export const sessionsModule: ModuleFactory = (core) => {
  const service = new SessionService({
    verifier: core.verifier,
    sockets: core.sockets,
    revocations: core.revocations,
    store: core.redis ? new RedisRevocationStore(core.redis) : new MemoryRevocationStore(),
    hub: core.hub,
    metrics: core.authMetrics,
    log: core.log.child({ module: 'sessions' }),
    nodeId: core.config.nodeId,
    revocationTtlSec: core.config.sessions.revocationTtlSec,
    clockToleranceSec: core.config.jwt.clockToleranceSec,
  });
  return {
    name: 'sessions',
    acks: REFRESH_ACKS,
    handlers: {
      'session:refresh': defineHandler(RefreshRequest, (ctx, data) => service.refresh(ctx.session, data.token)),
    },
    routes: sessionRoutes(service),
    start: () => service.start(),
    stop: async () => service.stop(),
  };
};
