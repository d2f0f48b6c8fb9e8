import type { ModuleFactory } from './core.js';
import { benchModule } from './handlers/bench.js';
import { sessionModule } from './handlers/session.js';

/** Every domain module, in start order. A domain adds one line here. */
export const MODULES: ModuleFactory[] = [sessionModule, benchModule];
