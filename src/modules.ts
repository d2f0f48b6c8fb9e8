import type { ModuleFactory } from './core.js';
import { sessionModule } from './handlers/session.js';
import { bridgeModule } from './bridge/module.js';

/** Every domain module, in start order. A domain adds one line here. */
export const MODULES: ModuleFactory[] = [sessionModule, bridgeModule];
