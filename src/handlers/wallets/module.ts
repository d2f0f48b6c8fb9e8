/**
 * The wallets domain: balances, ledger and transfers over HTTP, and the lifecycle of the node's
 * money services (catalogue, outbox, gift coalescer) that gifts, PK, shopping and payments use.
 * It is listed before those modules in src/modules.ts, so it starts before and stops after them.
 */
import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import type { EmittedEvents } from '../../gateway/handler.js';
import { DateTime, Nullable } from '../../kernel/schemas.js';
import { walletRoutes } from './routes.js';
import type { MoneyServices } from './services.js';

const WALLET_EVENTS: EmittedEvents = {
  'wallet:transfer': {
    schema: Type.Object(
      {
        transferId: Type.String(),
        senderId: Type.String(),
        amount: Type.Integer({ minimum: 1 }),
        note: Nullable(Type.String()),
        balance: Type.Integer({ description: "the recipient's balance after the transfer" }),
        createdAt: DateTime,
      },
      { additionalProperties: false },
    ),
    to: 'user',
    description: 'Coins were transferred to you (POST /api/wallets/transfer), once per transfer.',
  },
};

export const walletsModule =
  (services: MoneyServices | undefined): ModuleFactory =>
  (core) => ({
    name: 'wallets',
    emits: WALLET_EVENTS,
    // The coins have moved when an event is published: a failed publish is logged, not answered as an error.
    routes: walletRoutes(services, (room, event, data) => core.hub.send(room, event, data)),
    async start() {
      if (!services) return;
      await services.durability.start();
      await services.catalog.start();
      services.outbox.start();
    },
    async stop() {
      if (!services) return;
      await services.gifts.idle();
      services.coalescer.stop();
      services.outbox.stop();
      services.catalog.stop();
      services.durability.stop();
    },
  });
