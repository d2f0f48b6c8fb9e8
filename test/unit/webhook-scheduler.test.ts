import { describe, expect, it } from 'vitest';
import type { QueuedWebhook, AttemptOutcome } from '../../src/handlers/bridge/webhooks/scheduler.js';
import { SourceScheduler, backoffMs } from '../../src/handlers/bridge/webhooks/scheduler.js';

const entry = (n: number, source: string): QueuedWebhook => ({
  id: String(n),
  event: { id: `e${n}`, type: 'gift.sent', source, createdAt: new Date(0).toISOString(), data: { n } },
});

const opts = { concurrency: 4, retryBaseMs: 5, retryMaxMs: 20, maxAttempts: 5, maxBacklog: 100 };

describe('webhook scheduler', () => {
  it('delivers each source in order, one at a time, while sources run in parallel', async () => {
    const inFlight = new Map<string, number>();
    let maxParallel = 0;
    let overlaps = 0;
    let parallel = 0;
    const delivered: string[] = [];
    const failedOnce = new Set<string>();
    const scheduler = new SourceScheduler(opts, {
      async attempt(e): Promise<AttemptOutcome> {
        const source = e.event.source;
        // Recorded, not asserted here: a throw inside attempt() would only count as a failed delivery.
        if ((inFlight.get(source) ?? 0) !== 0) overlaps++;
        inFlight.set(source, 1);
        maxParallel = Math.max(maxParallel, ++parallel);
        await new Promise((r) => setTimeout(r, 2));
        inFlight.set(source, 0);
        parallel--;
        // Every third event fails once: later events of its source must wait for it.
        if (Number(e.id) % 3 === 0 && !failedOnce.has(e.id)) {
          failedOnce.add(e.id);
          return { kind: 'retry', reason: 'status 503' };
        }
        return { kind: 'delivered' };
      },
      async finished(e, result) {
        if (result.kind === 'delivered') delivered.push(e.id);
      },
    });
    const sources = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (let n = 1; n <= 60; n++) scheduler.add(entry(n, sources[n % sources.length]!));
    await scheduler.idle();
    expect(delivered).toHaveLength(60);
    expect(overlaps).toBe(0);
    expect(failedOnce.size).toBe(20);
    for (const source of sources) {
      const ids = delivered.map(Number).filter((n) => sources[n % sources.length] === source);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    }
    expect(maxParallel).toBeGreaterThan(1);
    expect(maxParallel).toBeLessThanOrEqual(4);
  });

  it('gives up after maxAttempts and reports the entry dead; a refused entry dies at once; the source continues', async () => {
    const attempts = new Map<string, number>();
    const results: Array<[string, string, number]> = [];
    const scheduler = new SourceScheduler(opts, {
      async attempt(e, attempt): Promise<AttemptOutcome> {
        attempts.set(e.id, attempt);
        if (e.id === '1') return { kind: 'retry', reason: 'down' };
        if (e.id === '2') return { kind: 'reject', reason: 'status 400' };
        return { kind: 'delivered' };
      },
      async finished(e, result) {
        results.push([e.id, result.kind, result.attempts]);
      },
    });
    scheduler.add(entry(1, 's'));
    scheduler.add(entry(2, 's'));
    scheduler.add(entry(3, 's'));
    await scheduler.idle();
    expect(results).toEqual([
      ['1', 'dead', 5],
      ['2', 'dead', 1],
      ['3', 'delivered', 1],
    ]);
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(1, 1000, 60_000, () => 0.5)).toBe(1000);
    expect(backoffMs(3, 1000, 60_000, () => 0.5)).toBe(4000);
    expect(backoffMs(20, 1000, 60_000, () => 0.5)).toBe(60_000);
    expect(backoffMs(2, 1000, 60_000, () => 0)).toBe(1600);
    expect(backoffMs(2, 1000, 60_000, () => 1)).toBe(2400);
  });
});
