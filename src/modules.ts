import type { ModuleFactory } from './core.js';
import { benchModule } from './handlers/bench.js';
import { sessionModule } from './handlers/session.js';
import { chatModule } from './handlers/chat.js';
import { notificationsModule } from './handlers/notifications.js';
import { roomsModule } from './handlers/rooms.js';
import { livestreamModule } from './handlers/livestream.js';
import { presenceModule } from './handlers/presence.js';

/** Every domain module, in start order. A domain adds one line here. */
export const MODULES: ModuleFactory[] = [sessionModule, roomsModule, presenceModule, livestreamModule, notificationsModule, chatModule, benchModule];
