/**
 * Keyed room state (viewer counts, PK scores, gift totals, top supporters, stream settings): a
 * room gets at most one frame per key per interval, cluster-wide, and always the latest value
 * (the trailing edge is never lost); a joining or resuming member reads the current values at once
 * (`snapshot`, which the join and resume acks carry).
 *
 * How: a change marks the key dirty on this node (`changed`), with a function that reads the
 * current value. At most one read-and-offer per key runs on a node at a time; the store records the
 * value as the key's latest and grants the publish when the value differs from the last one
 * published and no frame of the key went out in the interval (one lease per key, cluster-wide).
 * A node refused for the interval tries again when the lease runs out, reading the value again;
 * so the last change anywhere is published by the last node that saw one. Each value carries the
 * time it was read (on the clock of the server it was read from): a read that is older than the
 * recorded one never replaces it, so a slow node cannot roll the state (or a joiner's snapshot) back.
 */
import type { Logger } from 'pino';
import type { RoomMetrics } from './metrics.js';

/** The latest frame of one key: the event and payload it goes out as. */
export interface StateEntry {
  key: string;
  event: string;
  data: unknown;
}

export type StateFrame = Omit<StateEntry, 'key'>;

/**
 * A value as read, with the time of the read on the clock of the server it was read from
 * (`versionOf` of Redis TIME in the read's MULTI; a monotonic clock in one process). A value read
 * earlier never replaces one read later, however late its offer arrives.
 */
export type VersionedFrame = StateFrame & { version: number };

/**
 * `publish`: this node sends it now; `later`: another frame went out less than the interval ago;
 * `same`: already published; `stale`: a value read later is already recorded (its reader publishes it).
 */
export type Offer = { kind: 'publish' } | { kind: 'later'; waitMs: number } | { kind: 'same' } | { kind: 'stale' };

/** Redis TIME (`[seconds, microseconds]`) as a version: microseconds since the epoch. */
export function versionOf(time: unknown): number {
  const [sec, usec] = (Array.isArray(time) ? time : [0, 0]) as [string | number, string | number];
  return Number(sec) * 1_000_000 + Number(usec);
}

/** A version for state read in this process (memory engines): microseconds of a monotonic clock. */
export const localVersion = (): number => Number(process.hrtime.bigint() / 1000n);

/** Where the latest values and the per-key leases live (Redis: room-state-redis.ts; one node: room-state-memory.ts). */
export interface RoomStateStore {
  /** Records `frame` as the key's latest value (unless a later read is recorded) and asks for the right to publish it. */
  offer(room: string, key: string, frame: VersionedFrame, intervalMs: number): Promise<Offer>;
  /** Every key's latest value. */
  snapshot(room: string): Promise<StateEntry[]>;
  /** Forgets a key (a battle that ended): joiners no longer get it. */
  drop(room: string, key: string): Promise<void>;
  /** A granted publish failed: forget what was marked published, so the next offer publishes. */
  unpublished(room: string, key: string): Promise<void>;
}

/** Reads the current value of a key; undefined: nothing to send (and nothing to offer). */
export type ReadState = () => Promise<VersionedFrame | undefined>;

interface Pending {
  read: ReadState;
  intervalMs: number;
  dirty: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** The label of a key in metrics: its kind (`pk:<battleId>` -> `pk`). */
const kindOf = (key: string): string => key.split(':', 1)[0] ?? key;

export class RoomState {
  private readonly pending = new Map<string, Pending>();
  private stopped = false;

  constructor(
    private readonly store: RoomStateStore,
    private readonly publish: (room: string, event: string, data: unknown) => Promise<unknown>,
    private readonly log: Logger,
    private readonly defaultIntervalMs: number,
    private readonly metrics?: RoomMetrics,
  ) {}

  /** The key's value changed: it goes out now or, within the interval, as soon as the interval allows. */
  changed(room: string, key: string, read: ReadState, intervalMs = this.defaultIntervalMs): void {
    if (this.stopped) return;
    const id = `${room}\u0000${key}`;
    const entry = this.pending.get(id);
    if (entry) {
      entry.read = read;
      entry.dirty = true;
      return;
    }
    const fresh: Pending = { read, intervalMs, dirty: true, timer: undefined };
    this.pending.set(id, fresh);
    void this.attempt(id, room, key, fresh);
  }

  snapshot(room: string): Promise<StateEntry[]> {
    return this.store.snapshot(room);
  }

  drop(room: string, key: string): Promise<void> {
    return this.store.drop(room, key);
  }

  /** Resolves once nothing is pending on this node, or after `timeoutMs` (shutdown). */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  stop(): void {
    this.stopped = true;
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
  }

  private async attempt(id: string, room: string, key: string, entry: Pending): Promise<void> {
    entry.dirty = false;
    let wait: number | undefined;
    try {
      const frame = await entry.read();
      if (frame) {
        const offer = await this.store.offer(room, key, frame, entry.intervalMs);
        this.metrics?.stateOffers.inc({ key: kindOf(key), outcome: offer.kind });
        if (offer.kind === 'publish') {
          await this.publish(room, frame.event, frame.data).catch(async (err: unknown) => {
            await this.store.unpublished(room, key);
            throw err;
          });
          wait = entry.intervalMs;
        } else if (offer.kind === 'later') {
          entry.dirty = true;
          wait = offer.waitMs;
        }
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message, room, key }, 'room state publish failed; will retry');
      entry.dirty = true;
      wait = entry.intervalMs;
    }
    if (this.stopped || this.pending.get(id) !== entry) return;
    if (wait === undefined && !entry.dirty) {
      this.pending.delete(id);
      return;
    }
    // After a publish the key stays ours for the interval: changes meanwhile go out when it ends.
    entry.timer = setTimeout(
      () => {
        entry.timer = undefined;
        if (entry.dirty) void this.attempt(id, room, key, entry);
        else this.pending.delete(id);
      },
      Math.max(1, wait ?? 0),
    );
  }
}
