/**
 * Development-only helpers, off by default. Today: the demo sign-in token endpoint (DEV_TOKENS).
 * `npm start` turns it on; production leaves DEV_TOKENS unset and the route answers 403.
 */
import type { ModuleFactory } from '../../core.js';
import { devRoutes } from './routes.js';
import { DevTokenSigner } from './service.js';

export const devModule: ModuleFactory = (core) => {
  const enabled = core.config.devTokens;
  const log = core.log.child({ module: 'dev' });
  return {
    name: 'dev',
    routes: devRoutes({ enabled, signer: new DevTokenSigner(core.config.jwt), log }),
    async start() {
      if (enabled) log.warn('DEV_TOKENS is on: POST /api/dev/token signs a token for any user id without a password');
    },
  };
};
