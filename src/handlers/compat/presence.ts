/**
 * Seed 004's presence events: its clients listen for `user_online` and `user_offline`, each with
 * the bare user id. With COMPAT_USER_PRESENCE_EVENTS=true the presence module publishes them to the
 * same room as every `presence:update` (`presence:<userId>`), so whoever may see a user's presence
 * hears them too, on any node and either dialect. Off by default: it doubles presence frames.
 */
import type { PresenceChange } from '../../rooms/presence.js';

export interface PresenceAlias {
  event: string;
  data: unknown;
}

/** The extra room events of one presence change (none when the aliases are off). */
export type PresenceAliases = (change: PresenceChange) => PresenceAlias[];

export function legacyPresenceEvents(enabled: boolean): PresenceAliases {
  if (!enabled) return () => [];
  return (change) => [{ event: change.status === 'offline' ? 'user_offline' : 'user_online', data: change.userId }];
}
