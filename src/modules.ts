import type { ModuleFactory } from './core.js';
import { benchModule } from './handlers/bench.js';
import { sessionModule } from './handlers/session.js';
import { roomsModule } from './handlers/rooms.js';
import { livestreamModule } from './handlers/livestream.js';
import { presenceModule } from './handlers/presence.js';
import { giftsModule } from './handlers/gifts/module.js';
import { pkModule } from './handlers/pk/module.js';
import { shoppingModule } from './handlers/shopping/module.js';

/** Every domain module, in start order. A domain adds one line here. */
export const MODULES: ModuleFactory[] = [sessionModule, roomsModule, presenceModule, livestreamModule, giftsModule, pkModule, shoppingModule, benchModule];
