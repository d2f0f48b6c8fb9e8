/**
 * Redis keys of one room's hot state: `lg:{<room>}:<part>`. The hash tag is the room, so every key
 * of a room sits in one Redis Cluster slot and one Lua script may touch them all.
 */
export const roomKey = (room: string, part: string): string => `lg:{${room}}:${part}`;
