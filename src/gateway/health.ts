import type { RouteDef } from './http/router.js';
import type { GatewayMetrics } from './metrics.js';

/** A named readiness check: Redis reachable, MongoDB reachable, writer running, ... */
export type ReadinessCheck = () => Promise<boolean>;

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  setDraining(): void {
    this.draining = true;
  }

  async report(timeoutMs = 2000): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const results: Record<string, boolean> = {};
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        results[name] = await withTimeout(check(), timeoutMs).catch(() => false);
      }),
    );
    const ready = !this.draining && Object.values(results).every(Boolean);
    return { ready, checks: { ...results, accepting: !this.draining } };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]).finally(() => clearTimeout(timer));
}

export function operationalRoutes(readiness: Readiness, metrics: GatewayMetrics, nodeId: string): RouteDef[] {
  return [
    { method: 'get', path: '/healthz', quiet: true, handler: () => ({ status: 200, body: { status: 'ok', nodeId } }) },
    {
      method: 'get',
      path: '/readyz',
      quiet: true,
      handler: async () => {
        const report = await readiness.report();
        return { status: report.ready ? 200 : 503, body: { status: report.ready ? 'ready' : 'not_ready', nodeId, checks: report.checks } };
      },
    },
    {
      method: 'get',
      path: '/metrics',
      quiet: true,
      handler: async () => ({ status: 200, raw: await metrics.registry.metrics(), contentType: metrics.registry.contentType }),
    },
  ];
}
