/**
 * How loaded this node is, for code that can give up work before the node collapses (room chat
 * budgets shrink under pressure). The real signal (event-loop lag, outbound buffers) is the
 * gateway's PressureMonitor (src/gateway/pressure.ts), read through `core.pressure`.
 */
export type PressureLevel = 'normal' | 'elevated' | 'critical';

export interface NodePressure {
  level(): PressureLevel;
}

/** The levels, lowest first. */
export const PRESSURE_LEVELS: readonly PressureLevel[] = ['normal', 'elevated', 'critical'];

/** True when `pressure` is at `level` or above. */
export const atLeast = (pressure: NodePressure, level: PressureLevel): boolean => PRESSURE_LEVELS.indexOf(pressure.level()) >= PRESSURE_LEVELS.indexOf(level);

/** The share of a room's chat budget a node grants at each level. */
export const BUDGET_FACTOR: Record<PressureLevel, number> = { normal: 1, elevated: 0.5, critical: 0.25 };
