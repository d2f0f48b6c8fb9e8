/**
 * The live-room demo (DEMO=true; `npm start` turns it on): a plain page built with @livegate/client,
 * served from dist/demo/ at /demo/. It signs in through POST /api/dev/token, so it needs DEV_TOKENS.
 */
import { readFileSync } from 'node:fs';
import type { ModuleFactory } from '../../core.js';
import { DEMO_ASSETS, demoRoutes } from './routes.js';

/** dist/demo/, beside dist/src/ (this file is dist/src/handlers/demo/module.js). */
const DEMO_DIR = new URL('../../../demo/', import.meta.url);

export const demoModule: ModuleFactory = (core) => {
  const enabled = core.config.demo;
  const log = core.log.child({ module: 'demo' });
  const cache = new Map<string, string | undefined>();
  const files = (file: string): string | undefined => {
    if (!cache.has(file)) {
      let text: string | undefined;
      try {
        text = readFileSync(new URL(file, DEMO_DIR), 'utf8');
      } catch {
        text = undefined;
      }
      cache.set(file, text);
    }
    return cache.get(file);
  };
  return {
    name: 'demo',
    routes: demoRoutes({ enabled, files }),
    async start() {
      if (!enabled) return;
      const missing = DEMO_ASSETS.filter((a) => files(a.file) === undefined).map((a) => a.file);
      if (missing.length > 0) log.warn({ missing }, 'DEMO is on but the page is not built (npm run build)');
      if (!core.config.devTokens) log.warn('DEMO is on without DEV_TOKENS: the page cannot sign anyone in');
    },
  };
};
