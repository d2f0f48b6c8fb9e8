/** Room names every layer shares: the per-user room and the room of everyone. */

export const USER_ROOM_PREFIX = 'user:';

/** Room of every connection of one user, on every node. */
export const userRoom = (userId: string): string => `${USER_ROOM_PREFIX}${userId}`;

/** Room every authenticated connection joins: a publish here reaches everyone on every node. */
export const BROADCAST_ROOM = 'broadcast';
