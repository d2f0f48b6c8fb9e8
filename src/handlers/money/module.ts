/**
 * The wallets' HTTP side: balances, ledger and transfers on the node's money services (the gifts
 * module starts them and owns the wallet socket events; payments owns top-ups and withdrawals).
 */
import type { ModuleFactory } from '../../core.js';
import { walletRoutes } from './routes.js';
import { moneyServices } from './services.js';

export const walletsModule: ModuleFactory = (core) => ({
  name: 'wallets',
  // The coins have moved when an event is published: a failed publish is logged, not answered as an error.
  routes: walletRoutes(moneyServices(core), (room, event, data) =>
    core.hub.publish(room, event, data).catch((err: unknown) => core.log.warn({ err: (err as Error).message, room, event }, 'room publish failed')),
  ),
});
