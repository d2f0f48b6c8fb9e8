import type { ModuleFactory } from './core.js';
import { sessionModule } from './handlers/session.js';
import { chatModule } from './handlers/chat.js';
import { notificationsModule } from './handlers/notifications.js';

/** Every domain module, in start order. A domain adds one line here. */
export const MODULES: ModuleFactory[] = [sessionModule, notificationsModule, chatModule];
