/** Latency histograms as the Go loadgen reports them, and the summaries of repeated runs. */

/** Sparse histogram: [upper bound in µs, count] pairs. */
export type Sparse = Array<[number, number]>;

export interface Latency {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function mergeHistograms(parts: Sparse[]): Sparse {
  const merged = new Map<number, number>();
  for (const part of parts) for (const [ub, c] of part) merged.set(ub, (merged.get(ub) ?? 0) + c);
  return [...merged.entries()].sort((a, b) => a[0] - b[0]);
}

export function percentile(hist: Sparse, q: number): number {
  const total = hist.reduce((s, [, c]) => s + c, 0);
  if (total === 0) return Number.NaN;
  const target = Math.max(1, Math.ceil(total * q));
  let seen = 0;
  for (const [ub, c] of hist) {
    seen += c;
    if (seen >= target) return ub;
  }
  return hist[hist.length - 1]![0];
}

export function latency(hist: Sparse, maxUs: number): Latency {
  const count = hist.reduce((s, [, c]) => s + c, 0);
  return { count, p50Ms: percentile(hist, 0.5) / 1000, p99Ms: percentile(hist, 0.99) / 1000, maxMs: maxUs / 1000 };
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

/** "1.23 M ±4%" style: median with the half-range as a percentage of it. */
export function fmtSpread(s: Spread, fmt: (x: number) => string): string {
  if (s.n === 0) return '—';
  if (s.n === 1 || s.median === 0) return fmt(s.median);
  const pct = ((s.max - s.min) / 2 / s.median) * 100;
  return `${fmt(s.median)} ±${pct < 10 ? pct.toFixed(1) : pct.toFixed(0)}%`;
}

export function fmtRate(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

export function fmtMs(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return x < 10 ? x.toFixed(2) : x.toFixed(0);
}

/** The latency bar: a rate counts as fast while its p99 stays under this. */
export const P99_LIMIT_MS = 50;
