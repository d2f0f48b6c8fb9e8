/**
 * How loaded this node is, for any layer that wants to back off before it collapses (the gateway
 * refuses low-lane publishes, room budgets may lower themselves). Computed by the gateway from its
 * event-loop delay and outbound send buffers (src/gateway/pressure.ts).
 */
export const PRESSURE_LEVELS = ['normal', 'elevated', 'critical'] as const;

export type PressureLevel = (typeof PRESSURE_LEVELS)[number];

export interface Pressure {
  /** The level of the last check (every LANE_CHECK_MS). */
  level(): PressureLevel;
  /** True when the level is `level` or above. */
  atLeast(level: PressureLevel): boolean;
}

export const pressureRank = (level: PressureLevel): number => PRESSURE_LEVELS.indexOf(level);
