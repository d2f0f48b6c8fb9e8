import type { DomainModule, ModuleFactory, Core } from './core.js';
import { authModule } from './handlers/auth/module.js';
import { benchModule } from './handlers/bench/module.js';
import { bridgeModule } from './handlers/bridge/module.js';
import { callsModule } from './handlers/calls/module.js';
import { chatModule, createChatService } from './handlers/chat/module.js';
import { compatModule } from './handlers/compat/module.js';
import { legacyPresenceEvents } from './handlers/compat/presence.js';
import { couponsModule } from './handlers/coupons/module.js';
import { demoModule } from './handlers/demo/module.js';
import { devModule } from './handlers/dev/module.js';
import { giftsModule } from './handlers/gifts/module.js';
import { levelsModule } from './handlers/levels/module.js';
import { livestreamModule } from './handlers/livestream/module.js';
import { moderationModule } from './handlers/moderation/module.js';
import { multiHostModule } from './handlers/multihost/module.js';
import { notificationsModule } from './handlers/notifications/module.js';
import { createNotificationService } from './handlers/notifications/service.js';
import { paymentsModule } from './handlers/payments/module.js';
import { pkModule } from './handlers/pk/module.js';
import { presenceModule } from './handlers/presence/module.js';
import { providersModule } from './handlers/providers/module.js';
import { proxyModule } from './handlers/proxy/module.js';
import { roomsModule } from './handlers/rooms/module.js';
import { schedulingModule } from './handlers/scheduling/module.js';
import { sessionsModule } from './handlers/session/lifetime.js';
import { sessionModule } from './handlers/session/module.js';
import { shoppingModule } from './handlers/shopping/module.js';
import { supportModule } from './handlers/support/module.js';
import { supportersModule } from './handlers/supporters/module.js';
import { moneyCreditor } from './handlers/wallets/creditor.js';
import { walletsModule } from './handlers/wallets/module.js';
import { createMoneyServices } from './handlers/wallets/services.js';

/**
 * Every domain module, in start order (stopped in reverse). A domain adds one line here. The shared
 * domain services (notifications; chat, which calls also use; the money wiring of wallets, catalogue, gifts, PK, shopping) are
 * built once, here, and handed to the modules that use them; the wallets module starts it, so it comes before every module that spends coins.
 */
export function createModules(core: Core): DomainModule[] {
  const notifications = createNotificationService(core);
  const money = createMoneyServices(core);
  const chat = createChatService(core, notifications);
  const factories: ModuleFactory[] = [
    sessionModule,
    sessionsModule,
    roomsModule,
    presenceModule(legacyPresenceEvents(core.config.compat.userPresenceEvents)),
    livestreamModule(money),
    notificationsModule(notifications),
    chatModule(chat),
    // Calls post their `call` message into the conversation and raise missed-call notifications.
    callsModule(chat, notifications),
    benchModule,
    devModule,
    demoModule,
    bridgeModule,
    // Events outside the catalogue that PROXY_EVENTS names go to the app's backend.
    proxyModule,
    // The seeds' client calls: bare-string payloads, subscribe_notifications (src/handlers/compat/).
    compatModule,
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
    walletsModule(money),
    // Coin purchases and admin credits go through the money WalletService (one ledger, one idempotency space).
    paymentsModule({ creditor: moneyCreditor(money) }),
    giftsModule(money),
    pkModule(money),
    shoppingModule(money),
  ];
  return factories.map((factory) => factory(core));
}
