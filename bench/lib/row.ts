/** One result row: a workload against one target, as written to the JSON lines and the table. */
import { spread, type Spread } from './stats.js';

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

/** Records the spread of a metric's repeated values and its median as the row's figure. */
export function putSpread(row: Row, key: string, values: number[]): void {
  row.spreads[key] = spread(values);
  row.metrics[key] = row.spreads[key]!.median;
}
