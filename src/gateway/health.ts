import { Type } from '@sinclair/typebox';
import type { Readiness } from '../kernel/readiness.js';
import { defineRoute } from './http/route.js';
import type { RouteDef } from './http/types.js';
import type { GatewayMetrics } from './metrics.js';

const Health = Type.Object({ status: Type.Literal('ok'), nodeId: Type.String() }, { $id: 'Health', additionalProperties: false });
const Readyz = Type.Object(
  { status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]), nodeId: Type.String(), checks: Type.Record(Type.String(), Type.Boolean()) },
  { $id: 'Readiness', additionalProperties: false },
);

export function operationalRoutes(readiness: Readiness, metrics: GatewayMetrics, nodeId: string): RouteDef[] {
  const common = { method: 'get', tags: ['operations'], auth: 'none', rateLimit: false, quiet: true } as const;
  return [
    defineRoute({ ...common, path: '/healthz', operationId: 'getHealth', summary: 'Liveness: the process answers', response: Health }, () => ({
      status: 'ok' as const,
      nodeId,
    })),
    {
      // /readyz answers 503 with the same body when not ready, so it bypasses defineRoute's fixed status.
      ...defineRoute(
        {
          ...common,
          path: '/readyz',
          operationId: 'getReadiness',
          summary: 'Readiness: Redis and MongoDB reachable, not draining (503 when not ready)',
          response: Readyz,
          otherResponses: { 503: Readyz },
        },
        () => ({ status: 'ready' as const, nodeId, checks: {} }),
      ),
      handler: async () => {
        const report = await readiness.report();
        return { status: report.ready ? 200 : 503, body: { status: report.ready ? 'ready' : 'not_ready', nodeId, checks: report.checks } };
      },
    },
    defineRoute(
      { ...common, path: '/metrics', operationId: 'getMetrics', summary: 'Prometheus metrics', contentType: 'text/plain', response: Type.String() },
      async () => metrics.registry.metrics(),
    ),
  ];
}
