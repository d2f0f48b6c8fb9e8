/** The PK battle socket contract: the rankings ack and the battle frames (the battle itself: PkBattle, routes.ts). */
import { Type } from '@sinclair/typebox';
import type { EmittedEvents } from '../../gateway/handler.js';
import { DateTime, Nullable } from '../../kernel/schemas.js';
import { PkBattle } from './routes.js';

const strict = { additionalProperties: false } as const;

export const PkRankingsAck = Type.Object(
  { entries: Type.Array(Type.Object({ userId: Type.String(), wins: Type.Integer({ minimum: 0 }) }, strict), { description: 'most wins first' }) },
  strict,
);

const BATTLE_ROOMS = "each host's stream room (live:<livestreamId>), or the host's user room when the battle has no stream for that host";

export const PK_EVENTS: EmittedEvents = {
  'pk_battle:invite': { schema: PkBattle, to: 'user', description: 'You were invited to a PK battle (the invited host).' },
  'pk_battle:declined': { schema: PkBattle, to: 'user', description: 'The invitation was declined (both hosts).' },
  'pk_battle:start': { schema: PkBattle, to: 'room', description: `The battle was accepted and runs until endsAt: to ${BATTLE_ROOMS}.` },
  'pk_battle:score': {
    schema: Type.Object(
      { battleId: Type.String(), host1Score: Type.Integer({ minimum: 0 }), host2Score: Type.Integer({ minimum: 0 }), endsAt: Nullable(DateTime) },
      strict,
    ),
    to: 'room',
    description: `The score changed (at most once per PK_SCORE_INTERVAL_MS cluster-wide, the last score always sent): to ${BATTLE_ROOMS}.`,
  },
  'pk_battle:end': {
    schema: Type.Object(
      {
        battleId: Type.String(),
        host1Id: Type.String(),
        host2Id: Type.String(),
        host1Score: Type.Integer({ minimum: 0 }),
        host2Score: Type.Integer({ minimum: 0 }),
        winnerId: Nullable(Type.String()),
        result: Nullable(Type.Union([Type.Literal('win'), Type.Literal('tie'), Type.Literal('declined')])),
        endsAt: Nullable(DateTime),
        endedAt: Nullable(DateTime),
      },
      strict,
    ),
    to: 'room',
    description: `The battle ended on time (once, by the node that claimed the end): to ${BATTLE_ROOMS}.`,
  },
};
