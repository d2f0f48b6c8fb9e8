/**
 * How loaded this node is, for code that can give up work before the node collapses (room chat
 * budgets shrink under pressure). The real signal (event-loop lag, outbound buffers) is the
 * overload module's; until a node has one, `NORMAL_PRESSURE` reports "normal" forever.
 */
export type PressureLevel = 'normal' | 'elevated' | 'critical';

export interface NodePressure {
  level(): PressureLevel;
}

export const NORMAL_PRESSURE: NodePressure = { level: () => 'normal' };

/** The share of a room's chat budget a node grants at each level. */
export const BUDGET_FACTOR: Record<PressureLevel, number> = { normal: 1, elevated: 0.5, critical: 0.25 };
