import { Type } from '@sinclair/typebox';
import { Gauge } from 'prom-client';
import type { Core, DomainModule, ModuleFactory } from '../../core.js';
import { defineHandler, type EmittedEvents } from '../../gateway/handler.js';
import { AppError } from '../../kernel/errors.js';
import { DateTime, isoMsOrNull } from '../../kernel/schemas.js';
import { MemoryPresenceStore } from '../../rooms/presence-memory.js';
import { RedisPresenceStore } from '../../rooms/presence-redis.js';
import { CHOSEN_STATUSES, publicStatus, type PresenceChange, type PresenceStore } from '../../rooms/presence.js';
import type { PresenceAliases } from '../compat/presence.js';
import { contactDirectoryFor } from './contacts.js';

const UserId = Type.String({ minLength: 1, maxLength: 128 });
const UserIds = Type.Array(UserId, { minItems: 1, maxItems: 200, uniqueItems: true });
const presenceRoom = (userId: string): string => `presence:${userId}`;
const strict = { additionalProperties: false } as const;
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Status = literals([...CHOSEN_STATUSES, 'offline'] as const);
const UserPresence = Type.Object(
  { userId: Type.String(), status: Status, lastSeenAt: Type.Union([DateTime, Type.Null()], { description: 'null while connected or never seen' }) },
  { $id: 'UserPresence', ...strict },
);
const FollowAck = Type.Object({ userId: Type.String(), following: Type.Boolean() }, strict);

const PRESENCE_EVENTS: EmittedEvents = {
  'presence:update': {
    schema: UserPresence,
    to: 'room',
    description: 'What others see of a user changed (room presence:<userId>; join it with presence:subscribe).',
  },
};

/**
 * Presence across nodes: a user is connected while any device is, on any node; the chosen
 * status (online/away/busy/invisible) shows while connected, invisible and disconnected show as
 * offline. Changes of what others see go to the room `presence:<userId>` as `presence:update`;
 * only viewers allowed by the ContactDirectory may subscribe. Docs: docs/events/presence.md. `aliases`
 * adds events of the same change for older clients (src/handlers/compat/presence.ts, handed in by src/modules.ts).
 */
export const presenceModule =
  (aliases: PresenceAliases): ModuleFactory =>
  (core) =>
    presence(core, aliases);

function presence(core: Core, aliases: PresenceAliases): DomainModule {
  const store: PresenceStore = core.redis ? new RedisPresenceStore(core.redis) : new MemoryPresenceStore();
  const contacts = contactDirectoryFor(core);
  const nodeId = core.config.nodeId;
  /** This node's connections per user: the gateway's own index (core.sockets). */
  const local = core.sockets;

  new Gauge({
    name: 'livegate_presence_entries',
    help: 'Users with at least one device connected to this node',
    registers: [core.metrics.registry],
    collect() {
      this.set(local.userCount());
    },
  });

  const announce = async (change: PresenceChange | undefined): Promise<void> => {
    if (!change) return;
    const room = presenceRoom(change.userId);
    await core.hub.publish(room, 'presence:update', { userId: change.userId, status: change.status, lastSeenAt: isoMsOrNull(change.lastSeen) });
    // Compat events for older clients (COMPAT_USER_PRESENCE_EVENTS), right after, in the same room.
    for (const alias of aliases(change)) await core.hub.publish(room, alias.event, alias.data);
  };
  const syncDevices = (userId: string): Promise<void> => store.setNodeDevices(userId, nodeId, local.countOf(userId), Date.now()).then(announce);
  const report = (err: unknown, userId: string): void => core.log.warn({ err: (err as Error).message, user: userId }, 'presence update failed');

  core.roomAccess.register('presence', async (session, userId) => (await contacts.canSee(session.userId, [userId]))[0] === true);
  core.liveness.onNodeDead(async (deadNode) => {
    await Promise.all((await store.removeNode(deadNode, Date.now())).map(announce));
  });
  core.liveness.onResync(async () => {
    for (const userId of [...local.users()]) await syncDevices(userId);
  });

  return {
    name: 'presence',
    emits: PRESENCE_EVENTS,
    handlers: {
      'presence:set': defineHandler(
        Type.Object({ status: literals(CHOSEN_STATUSES) }),
        async (ctx, { status }) => {
          await announce(await store.setStatus(ctx.session.userId, status, Date.now()));
          return { status };
        },
        Type.Object({ status: literals(CHOSEN_STATUSES) }, strict),
      ),

      'presence:subscribe': defineHandler(
        Type.Object({ userIds: UserIds }),
        async (ctx, { userIds }) => {
          const allowed = await contacts.canSee(ctx.session.userId, userIds);
          const refused = userIds.filter((_, i) => !allowed[i]);
          if (refused.length > 0)
            throw new AppError('forbidden', `you may not see the presence of ${refused.slice(0, 5).join(', ')}${refused.length > 5 ? ', ...' : ''}`);
          // Subscribe first, read second: any change after the read arrives as an event.
          for (const userId of userIds) ctx.join(presenceRoom(userId));
          await Promise.all(userIds.map((userId) => core.hub.ready(presenceRoom(userId))));
          const records = await store.get(userIds);
          return {
            users: records.map((r) => ({
              userId: r.userId,
              // You see your own chosen status; everyone else sees the public one.
              status: r.userId === ctx.session.userId && r.devices > 0 ? r.chosen : publicStatus(r.chosen, r.devices),
              lastSeenAt: isoMsOrNull(r.lastSeen),
            })),
          };
        },
        Type.Object({ users: Type.Array(UserPresence) }, strict),
      ),

      'presence:unsubscribe': defineHandler(
        Type.Object({ userIds: UserIds }),
        (ctx, { userIds }) => {
          for (const userId of userIds) ctx.leave(presenceRoom(userId));
          return { userIds };
        },
        Type.Object({ userIds: Type.Array(Type.String()) }, strict),
      ),

      'user:follow': defineHandler(
        Type.Object({ userId: UserId }),
        async (ctx, { userId }) => {
          if (userId === ctx.session.userId) throw new AppError('conflict', 'you cannot follow yourself');
          await contacts.follow(ctx.session.userId, userId);
          return { userId, following: true };
        },
        FollowAck,
      ),

      'user:unfollow': defineHandler(
        Type.Object({ userId: UserId }),
        async (ctx, { userId }) => {
          await contacts.unfollow(ctx.session.userId, userId);
          return { userId, following: false };
        },
        FollowAck,
      ),
    },

    onConnect(session) {
      syncDevices(session.userId).catch((err: unknown) => report(err, session.userId));
    },

    onDisconnect(session) {
      syncDevices(session.userId).catch((err: unknown) => report(err, session.userId));
    },

    async stop() {
      // Shutdown: this node's devices are gone (drain closed them); make sure the store agrees.
      for (const change of await store.removeNode(nodeId, Date.now())) await announce(change);
    },
  };
}
