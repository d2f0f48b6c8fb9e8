import type { ModuleFactory } from './core.js';
import { sessionModule } from './handlers/session.js';
import { giftsModule } from './handlers/gifts/module.js';
import { pkModule } from './handlers/pk/module.js';
import { shoppingModule } from './handlers/shopping/module.js';

/** Every domain module, in start order. A domain adds one line here. */
export const MODULES: ModuleFactory[] = [sessionModule, giftsModule, pkModule, shoppingModule];
