import type { ModuleFactory } from './core.js';
import { benchModule } from './handlers/bench.js';
import { sessionModule } from './handlers/session.js';
import { sessionsModule } from './handlers/sessions/module.js';
import { bridgeModule } from './bridge/module.js';
import { chatModule } from './handlers/chat.js';
import { notificationsModule } from './handlers/notifications.js';
import { roomsModule } from './handlers/rooms.js';
import { livestreamModule } from './handlers/livestream.js';
import { presenceModule } from './handlers/presence.js';
import { giftsModule } from './handlers/gifts/module.js';
import { pkModule } from './handlers/pk/module.js';
import { shoppingModule } from './handlers/shopping/module.js';
import { authModule } from './handlers/auth/module.js';
import { levelsModule } from './handlers/levels/module.js';
import { supportersModule } from './handlers/supporters/module.js';
import { moderationModule } from './handlers/moderation/module.js';
import { supportModule } from './handlers/support/module.js';
import { schedulingModule } from './handlers/scheduling/module.js';
import { couponsModule } from './handlers/coupons/module.js';
import { providersModule } from './handlers/providers/module.js';
import { multiHostModule } from './handlers/multihost/module.js';
import { paymentsModule } from './handlers/payments/module.js';
import { moneyCreditor } from './handlers/money/creditor.js';
import { walletsModule } from './handlers/money/module.js';

/** Every domain module, in start order. A domain adds one line here. */
export const MODULES: ModuleFactory[] = [
  sessionModule,
  // session:refresh and revocations (token lifetime on live sockets).
  sessionsModule,
  roomsModule,
  presenceModule,
  livestreamModule,
  notificationsModule,
  chatModule,
  benchModule,
  bridgeModule,
  authModule,
  levelsModule,
  supportersModule,
  moderationModule,
  supportModule,
  schedulingModule,
  couponsModule,
  providersModule,
  // The REST side of co-hosting, on the livestream module's stream store.
  multiHostModule(),
  // Coin purchases and admin credits go through the money WalletService (one ledger, one idempotency space).
  paymentsModule({ creditor: moneyCreditor }),
  giftsModule,
  // Balances, ledger and transfers over HTTP, on the same money services as the socket events.
  walletsModule,
  pkModule,
  shoppingModule,
];
