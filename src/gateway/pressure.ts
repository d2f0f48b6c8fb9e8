/**
 * Node pressure: the event-loop delay (perf_hooks) and the bytes buffered over all sockets, checked
 * every LANE_CHECK_MS, give one level (normal < elevated < critical) that the gateway acts on (the
 * shed policy below) and that any module may read through `core.pressure`.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { OverloadConfig } from '../config.js';
import { PRESSURE_LEVELS, atLeast, type NodePressure, type PressureLevel } from '../kernel/pressure.js';
import { isSheddable as sheddable, type Lane, type SheddableLane } from './lanes.js';

export class PressureMonitor implements NodePressure {
  private current: PressureLevel = 'normal';
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  /** Event-loop delay (p99, ms) of the last window. */
  lagMs = 0;
  /** Bytes buffered over all sockets at the last check. */
  bufferedBytes = 0;

  constructor(private readonly config: OverloadConfig) {
    this.delay.enable();
  }

  /** Recomputes the level from the delay since the last call and the bytes buffered now. */
  update(bufferedBytes: number): PressureLevel {
    this.lagMs = this.delay.count > 0 ? this.delay.percentile(99) / 1e6 : 0;
    this.delay.reset();
    this.bufferedBytes = bufferedBytes;
    const { lagElevatedMs, lagCriticalMs, bufferedElevatedBytes, bufferedCriticalBytes } = this.config;
    const byLag: PressureLevel = this.lagMs >= lagCriticalMs ? 'critical' : this.lagMs >= lagElevatedMs ? 'elevated' : 'normal';
    const byBuffers: PressureLevel = bufferedBytes >= bufferedCriticalBytes ? 'critical' : bufferedBytes >= bufferedElevatedBytes ? 'elevated' : 'normal';
    this.current = PRESSURE_LEVELS[Math.max(PRESSURE_LEVELS.indexOf(byLag), PRESSURE_LEVELS.indexOf(byBuffers))]!;
    return this.current;
  }

  level(): PressureLevel {
    return this.current;
  }

  stop(): void {
    this.delay.disable();
  }
}

/** From which node level a publish of a lane is refused with `overloaded`. */
const REFUSED_FROM: Readonly<Record<SheddableLane, PressureLevel>> = { ambient: 'elevated', chat: 'critical' };
/** From which node level a lane is shed for every socket of the node (chat: room budgets decide). */
const SHED_NODE_WIDE_FROM: Readonly<Partial<Record<SheddableLane, PressureLevel>>> = { ambient: 'elevated' };
/** Which buffer threshold sheds a lane for one socket. */
const SHED_BYTES: Readonly<Record<SheddableLane, 'ambientMaxBytes' | 'chatMaxBytes'>> = { ambient: 'ambientMaxBytes', chat: 'chatMaxBytes' };

/** The rules that turn node pressure and a socket's buffer into shed frames and refused publishes. */
export class ShedPolicy {
  constructor(
    private readonly config: OverloadConfig,
    readonly pressure: PressureMonitor,
  ) {}

  /** Whether a frame of `lane` is skipped for a socket holding `buffered` bytes. */
  sheds(lane: Lane, buffered: number): boolean {
    if (!sheddable(lane)) return false;
    return buffered > this.config[SHED_BYTES[lane]] || this.shedsEverywhere(lane);
  }

  /** Whether the node skips `lane` for all its sockets (no topic publish at all). */
  shedsEverywhere(lane: Lane): boolean {
    if (!sheddable(lane)) return false;
    const from = SHED_NODE_WIDE_FROM[lane];
    return from !== undefined && atLeast(this.pressure, from);
  }

  /** Whether a request publishing into `lane` is refused now. */
  refuses(lane: Lane | undefined): boolean {
    return lane !== undefined && sheddable(lane) && atLeast(this.pressure, REFUSED_FROM[lane]);
  }

  /** A refused publish's retryAfterMs: the base plus up to as much again of jitter. */
  retryAfterMs(): number {
    const base = this.config.retryAfterMs;
    return base + Math.floor(Math.random() * base);
  }
}
