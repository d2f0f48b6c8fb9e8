/**
 * RoomHub.replay closes the race between history and live delivery: live messages that arrive
 * while history is read are held back, duplicates are dropped by seq, the topic comes last.
 */
import { describe, expect, it } from 'vitest';
import type { Bus, HistoryResult, Published, RoomMessage } from '../../src/rooms/bus.js';
import { RoomHub, type RoomMember } from '../../src/rooms/hub.js';

const msg = (seq: number): RoomMessage => ({ room: 'r:1', event: 'e', data: seq, seq, ts: Date.now(), origin: 'n' });

/** A bus whose history() lets the test deliver live messages "during" the read. */
class ScriptedBus implements Bus {
  listener: (m: RoomMessage) => void = () => {};
  subscribed = new Set<string>();
  constructor(private readonly onHistory: (bus: ScriptedBus) => HistoryResult) {}
  async subscribe(room: string): Promise<void> {
    this.subscribed.add(room);
  }
  async unsubscribe(room: string): Promise<void> {
    this.subscribed.delete(room);
  }
  async publish(): Promise<Published> {
    throw new Error('not used');
  }
  async history(): Promise<HistoryResult> {
    return this.onHistory(this);
  }
  onMessage(listener: (m: RoomMessage) => void): void {
    this.listener = listener;
  }
  async close(): Promise<void> {}
}

function member(log: string[]): RoomMember {
  return { id: 'c1', rooms: new Set(), subscribeTopic: (r) => log.push(`topic+ ${r}`), unsubscribeTopic: (r) => log.push(`topic- ${r}`) };
}

describe('RoomHub.replay', () => {
  it('sends history then held-back live messages, each seq once, then live ones directly, never twice', async () => {
    const log: string[] = [];
    const fanned: number[] = [];
    const bus = new ScriptedBus((b) => {
      // Live 5 and 6 arrive while the history (4, 5) is being read.
      b.listener(msg(5));
      b.listener(msg(6));
      return { kind: 'messages', messages: [msg(4), msg(5)] };
    });
    const hub = new RoomHub(
      bus,
      (m) => fanned.push(m.seq),
      () => {},
    );
    const m = member(log);
    const result = await hub.replay(m, 'r:1', 3, { message: (x) => log.push(`send ${x.seq}`), gap: () => log.push('gap') });
    expect(log).toEqual(['send 4', 'send 5', 'send 6']);
    expect(result).toEqual({ kind: 'replayed', count: 2, latestSeq: 6 });
    expect(bus.subscribed.has('r:1')).toBe(true);
    expect(fanned).toEqual([5, 6]); // other local members got them live as usual
    // After the replay, live messages reach the member directly (not through its uWS topic, which
    // would also deliver what was published in the same loop iteration), once each; leaving stops them.
    bus.listener(msg(7));
    expect(log).toEqual(['send 4', 'send 5', 'send 6', 'send 7']);
    hub.leave(m, 'r:1');
    bus.listener(msg(8));
    expect(log).toEqual(['send 4', 'send 5', 'send 6', 'send 7']);
  });

  it('drops a message the history already had when the subscription delivers it after the replay', async () => {
    const log: string[] = [];
    // 5 was published while the history was read: it is in the history, but the subscriber
    // connection hands it over only after the replay returned.
    const bus = new ScriptedBus(() => ({ kind: 'messages', messages: [msg(4), msg(5)] }));
    const hub = new RoomHub(
      bus,
      () => {},
      () => {},
    );
    await hub.replay(member(log), 'r:1', 3, { message: (x) => log.push(`send ${x.seq}`), gap: () => log.push('gap') });
    bus.listener(msg(5));
    bus.listener(msg(6));
    expect(log).toEqual(['send 4', 'send 5', 'send 6']);
  });

  it('signals a gap, then flushes only live messages after the window', async () => {
    const log: string[] = [];
    const bus = new ScriptedBus((b) => {
      b.listener(msg(40));
      b.listener(msg(41));
      return { kind: 'gap', oldestSeq: 21, latestSeq: 40 };
    });
    const hub = new RoomHub(
      bus,
      () => {},
      () => {},
    );
    const result = await hub.replay(member(log), 'r:1', 2, {
      message: (x) => log.push(`send ${x.seq}`),
      gap: (g) => log.push(`gap ${g.oldestSeq}-${g.latestSeq}`),
    });
    expect(log).toEqual(['gap 21-40', 'send 41']);
    expect(result).toEqual({ kind: 'gap', oldestSeq: 21, latestSeq: 40 });
  });

  it('an existing member is detached from the topic during the replay; a second concurrent replay is refused', async () => {
    const log: string[] = [];
    let release: (r: HistoryResult) => void = () => {};
    const pending = new Promise<HistoryResult>((resolve) => (release = resolve));
    const bus = new ScriptedBus(() => ({ kind: 'messages', messages: [] }));
    bus.history = () => pending;
    const hub = new RoomHub(
      bus,
      () => {},
      () => {},
    );
    const m = member(log);
    hub.join(m, 'r:1');
    const first = hub.replay(m, 'r:1', 0, { message: () => {}, gap: () => {} });
    await expect(hub.replay(m, 'r:1', 0, { message: () => {}, gap: () => {} })).rejects.toMatchObject({ code: 'conflict' });
    release({ kind: 'messages', messages: [] });
    await first;
    expect(log).toEqual(['topic+ r:1', 'topic- r:1']); // then live messages go directly (see the first test)
    expect(hub.localMembers('r:1')).toBe(1);
  });

  it('a new member whose history read fails is removed again', async () => {
    const bus = new ScriptedBus(() => {
      throw new Error('redis down');
    });
    const hub = new RoomHub(
      bus,
      () => {},
      () => {},
    );
    const m = member([]);
    await expect(hub.replay(m, 'r:1', 0, { message: () => {}, gap: () => {} })).rejects.toThrow('redis down');
    expect(m.rooms.has('r:1')).toBe(false);
    expect(hub.localMembers('r:1')).toBe(0);
  });
});
