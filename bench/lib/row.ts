/** One result row: a workload against one target, as written to the JSON lines and the table. */
import type { Spread } from './stats.js';

export interface Row {
  suite: string;
  workload: 'fanout' | 'rooms' | 'idle' | 'churn' | 'http' | 'gifts' | 'chat' | 'presence';
  target: string;
  label: string;
  nodes: number;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  /** Workload shape (subscribers, rooms, rates, connections...). */
  params: Record<string, number | string>;
  /** Medians over the repeated runs. */
  metrics: Record<string, number>;
  spreads: Record<string, Spread>;
  bottleneck: string;
  notes: string[];
  /** Every measured window, for the JSON lines. */
  samples: Array<Record<string, unknown>>;
}

export function progress(message: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[bench ${t}] ${message}\n`);
}
