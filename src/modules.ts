import type { ModuleFactory } from './core.js';
import { benchModule } from './handlers/bench.js';
import { sessionModule } from './handlers/session.js';
import { bridgeModule } from './bridge/module.js';
import { roomsModule } from './handlers/rooms.js';
import { livestreamModule } from './handlers/livestream.js';
import { presenceModule } from './handlers/presence.js';

/** Every domain module, in start order. A domain adds one line here. */
export const MODULES: ModuleFactory[] = [sessionModule, roomsModule, presenceModule, livestreamModule, benchModule, bridgeModule];
