/**
 * HotRoom's chat admission under node pressure (kernel/pressure.ts): the room budget a node
 * applies shrinks with the level its pressure signal reports. Memory engines, one process.
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotRoom } from '../../src/handlers/livestream/hot-room.js';
import { MemoryJoinTally } from '../../src/handlers/livestream/join-tally-memory.js';
import { JoinAnnouncer } from '../../src/handlers/livestream/joins.js';
import { HotRoomMetrics } from '../../src/handlers/livestream/metrics.js';
import { MemoryRoomRules } from '../../src/handlers/livestream/room-rules-memory.js';
import { MemoryStreamStore } from '../../src/handlers/livestream/streams-memory.js';
import type { PressureLevel } from '../../src/kernel/pressure.js';
import { MemoryRoomStateStore } from '../../src/rooms/room-state-memory.js';
import { RoomState } from '../../src/rooms/room-state.js';

async function hotRoom(level: PressureLevel): Promise<{ room: HotRoom; streamId: string }> {
  const log = pino({ level: 'silent' });
  const store = new MemoryStreamStore();
  const streamId = `s-${level}`;
  await store.start(streamId, 'host', 'T', Date.now());
  const metrics = new HotRoomMetrics(new Registry());
  const roomState = new RoomState(new MemoryRoomStateStore(), async () => undefined, log, 250);
  const joins = new JoinAnnouncer(
    new MemoryJoinTally(),
    () => undefined,
    async () => undefined,
    metrics,
    log,
    { threshold: 100, intervalMs: 1000, notableMax: 0 },
  );
  const room = new HotRoom({
    store,
    rules: new MemoryRoomRules(),
    roomState,
    joins,
    metrics,
    pressure: { level: () => level },
    chatBudget: { lines: 8, windowMs: 3_600_000 },
  });
  return { room, streamId };
}

/** Lines of 8 different senders, one each: how many the window broadcasts. */
async function broadcastOf(level: PressureLevel): Promise<number> {
  const { room, streamId } = await hotRoom(level);
  let n = 0;
  for (let i = 0; i < 8; i++) if ((await room.admitChat({ userId: `u${i}`, role: 'user' }, streamId)).kind === 'broadcast') n++;
  // The host is exempt at every level.
  expect((await room.admitChat({ userId: 'host', role: 'user' }, streamId)).kind).toBe('broadcast');
  return n;
}

describe('room chat budget under node pressure', () => {
  it('applies the whole budget at normal pressure, half when elevated, a quarter when critical', async () => {
    expect(await broadcastOf('normal')).toBe(8);
    expect(await broadcastOf('elevated')).toBe(4);
    expect(await broadcastOf('critical')).toBe(2);
  });
});
