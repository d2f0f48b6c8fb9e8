/**
 * Benchmark-only events (BENCH_MODE=1): a generic room join and room publish, so bench/ can
 * drive the real pipeline (dispatcher -> RoomHub -> Bus -> Gateway.fanout) the way every domain
 * does, and an HTTP echo route for the POST benchmark. Disabled by default; rooms are confined
 * to the `bench:` prefix so even an enabled node cannot be used to write into domain rooms.
 */
import { Type } from '@sinclair/typebox';
import type { ModuleFactory } from '../../core.js';
import { defineHandler } from '../../gateway/handler.js';
import { AppError } from '../../kernel/errors.js';

const BenchRoom = Type.String({ pattern: '^bench:[A-Za-z0-9_.:-]{1,120}$' });

export const BENCH_EVENT = 'bench:msg';

/** What `bench:publish` may publish: a chat-lane frame (default), a money-lane one, an ambient one (src/gateway/lanes.ts). */
const BenchEvent = Type.Union([Type.Literal(BENCH_EVENT), Type.Literal('bench:gift'), Type.Literal('bench:ambient')]);

export const benchModule: ModuleFactory = (core) => {
  if (!core.config.benchMode) return { name: 'bench' };
  const { hub } = core;
  return {
    name: 'bench',
    emits: {
      [BENCH_EVENT]: {
        schema: Type.Unknown({ description: 'what bench:publish was given' }),
        to: 'room',
        description: 'Benchmark frames (BENCH_MODE only; chat lane).',
      },
      'bench:gift': {
        schema: Type.Unknown({ description: 'what bench:publish was given' }),
        to: 'room',
        description: 'Benchmark frames of the money lane (BENCH_MODE only).',
      },
      'bench:ambient': {
        schema: Type.Unknown({ description: 'what bench:publish was given' }),
        to: 'room',
        description: 'Benchmark frames of the ambient lane (BENCH_MODE only).',
      },
    },
    handlers: {
      'bench:join': defineHandler(
        Type.Object({ room: BenchRoom }),
        async (ctx, { room }) => {
          ctx.join(room);
          await hub.ready(room);
          return { room };
        },
        Type.Object({ room: Type.String() }, { additionalProperties: false }),
      ),
      'bench:publish': defineHandler(
        Type.Object({ room: BenchRoom, data: Type.Unknown(), event: Type.Optional(BenchEvent) }),
        async (_ctx, { room, data, event }) => {
          const message = await hub.publish(room, event ?? BENCH_EVENT, data);
          return { seq: message.seq };
        },
        Type.Object({ seq: Type.Integer() }, { additionalProperties: false }),
      ),
    },
    routes: [
      {
        method: 'post',
        path: '/api/bench/echo',
        quiet: true,
        handler: (req) => {
          let body: unknown;
          try {
            body = JSON.parse(req.body.toString('utf8'));
          } catch {
            throw new AppError('bad_request', 'body is not valid JSON');
          }
          return { status: 200, body: { echo: body } };
        },
      },
    ],
  };
};
