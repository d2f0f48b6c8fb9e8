import { Gauge, type Registry } from 'prom-client';
import type { Readiness } from '../kernel/readiness.js';

/**
 * `livegate_dependency_up{dependency}`: 1 when a readiness check passes (redis, mongodb, writer,
 * accepting), 0 when it fails, read at scrape time through the same checks as /readyz. The alert
 * rules use it for "Redis or MongoDB unreachable" (deploy/prometheus/alerts.yml).
 */
export function registerReadinessGauge(registry: Registry, readiness: Readiness): Gauge<'dependency'> {
  return new Gauge({
    name: 'livegate_dependency_up',
    help: 'Readiness checks by dependency (redis, mongodb, writer, accepting): 1 passing, 0 failing (same checks as /readyz)',
    labelNames: ['dependency'] as const,
    registers: [registry],
    async collect() {
      const { checks } = await readiness.report(1000);
      for (const [dependency, ok] of Object.entries(checks)) this.set({ dependency }, ok ? 1 : 0);
    },
  });
}
