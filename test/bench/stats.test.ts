import { describe, expect, it } from 'vitest';
import { bottleneck, utilisation } from '../../bench/lib/measure.js';
import { fmtSpread, latency, mergeHistograms, percentile, spread, type Sparse } from '../../bench/lib/stats.js';
import { RAW_UWS, TARGETS } from '../../bench/lib/targets.js';

describe('bench statistics', () => {
  it("merges the loadgen processes' sparse histograms bucket by bucket", () => {
    const a: Sparse = [
      [20, 3],
      [40, 1],
    ];
    const b: Sparse = [
      [40, 2],
      [1000, 1],
    ];
    expect(mergeHistograms([a, b])).toEqual([
      [20, 3],
      [40, 3],
      [1000, 1],
    ]);
  });

  it('reads percentiles as the upper bound of the bucket holding the rank', () => {
    const h: Sparse = [
      [20, 50],
      [40, 49],
      [5000, 1],
    ];
    expect(percentile(h, 0.5)).toBe(20);
    expect(percentile(h, 0.99)).toBe(40);
    expect(percentile(h, 1)).toBe(5000);
    expect(latency(h, 4800)).toEqual({ count: 100, p50Ms: 0.02, p99Ms: 0.04, maxMs: 4.8 });
    expect(Number.isNaN(percentile([], 0.5))).toBe(true);
  });

  it('summarises repeats as median with half the range', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 2, 3]).median).toBe(2.5);
    expect(fmtSpread(spread([95, 100, 105]), (x) => x.toFixed(0))).toBe('100 ±5.0%');
    expect(fmtSpread(spread([80, 100, 120]), (x) => x.toFixed(0))).toBe('100 ±20%');
    expect(fmtSpread(spread([7]), (x) => x.toFixed(0))).toBe('7');
    expect(fmtSpread(spread([Number.NaN]), String)).toBe('—');
  });
});

describe('bench bottleneck naming', () => {
  const sample = (servers: number[], client: number, machine: number, softirq = 0) => ({ wall: 1, servers, redis: 0, client, machine, softirq });

  it('names a saturated single-threaded server', () => {
    expect(bottleneck(RAW_UWS, utilisation(sample([0.95], 0.4, 1.5)))).toMatch(/^server CPU \(one thread at 95%/);
  });

  it('names the bigger user of a saturated box, or the other processes when they use more', () => {
    expect(bottleneck(RAW_UWS, utilisation(sample([0.5], 1.3, 1.95)))).toMatch(/^client CPU \(box saturated/);
    expect(bottleneck(RAW_UWS, utilisation(sample([0.3], 0.4, 1.95)))).toMatch(/^box CPU taken by other processes/);
    // Softirq time may be our own loopback traffic: it does not count against other processes.
    expect(bottleneck(RAW_UWS, utilisation(sample([0.5], 0.6, 1.95, 0.7)))).toMatch(/^client CPU \(box saturated/);
  });

  it('does not call a multi-threaded server saturated at one core', () => {
    const centrifugo = TARGETS.find((t) => t.id === 'centrifugo')!;
    expect(bottleneck(centrifugo, utilisation(sample([1.0], 0.3, 1.4)))).toMatch(/^neither CPU-bound/);
  });
});
