/**
 * RoomState, the conflator of keyed room state, on the memory engine: a burst of changes becomes
 * the first value now and the latest one once the interval allows (the trailing edge), and a
 * publish that failed is retried.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryRoomStateStore } from '../../src/rooms/room-state-memory.js';
import { RoomState } from '../../src/rooms/room-state.js';

const log = pino({ level: 'silent' });

function conflator(publish: (data: unknown) => Promise<void>): RoomState {
  return new RoomState(new MemoryRoomStateStore(), (_room, _event, data) => publish(data), log, 50);
}

describe('RoomState', () => {
  it('turns a burst of changes into the first value and the last one', async () => {
    const sent: unknown[] = [];
    let last!: () => void;
    const lastSent = new Promise<void>((resolve) => (last = resolve));
    const state = conflator(async (data) => {
      sent.push(data);
      if (data === 10) last();
    });
    let value = 0;
    for (let i = 1; i <= 10; i++) {
      value = i;
      state.changed('live:r', 'viewers', async () => ({ event: 'livestream:viewers', data: value, version: value }));
    }
    await lastSent;
    expect(sent).toEqual([1, 10]);
    expect(await state.snapshot('live:r')).toEqual([{ key: 'viewers', event: 'livestream:viewers', data: 10 }]);
    state.stop();
  });

  it('retries a failed publish, even when the value did not change since', async () => {
    const sent: unknown[] = [];
    let done!: () => void;
    const delivered = new Promise<void>((resolve) => (done = resolve));
    let fail = true;
    const state = conflator(async (data) => {
      if (fail) {
        fail = false;
        throw new Error('bus down');
      }
      sent.push(data);
      done();
    });
    state.changed('live:r', 'settings', async () => ({ event: 'livestream:settings', data: 'same value', version: 1 }));
    await delivered;
    expect(sent).toEqual(['same value']);
    state.stop();
  });
});
