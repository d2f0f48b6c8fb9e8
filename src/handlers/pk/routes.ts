/**
 * PK battles over REST (`/api/pk-battles/*`, seed 001): the socket side's PkService and the money
 * path's GiftService, so an HTTP invitation reaches the opponent as `pk_battle:invite`, an HTTP
 * accept starts the battle with `pk_battle:start` in both hosts' rooms, and an HTTP battle gift
 * scores (and sends `pk_battle:score`) exactly like `gift:send` during a battle.
 */
import { Type, type Static } from '@sinclair/typebox';
import { PageQuery, Paginated, pageOf, pageWindow } from '../../gateway/http/pagination.js';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { AppError } from '../../kernel/errors.js';
import { DateTime, Id, Nullable, UserId } from '../../kernel/schemas.js';
import { GiftSendResult } from '../gifts/schemas.js';
import type { GiftService } from '../gifts/service.js';
import { StreamId, giftFields } from '../livestream/schemas.js';
import { DEFAULT_PK_DURATION_MS, PkDurationMs, type PkBattleView, type PkService } from './service.js';

const tags = ['pk-battles'];
const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const PkBattle = Type.Object(
  {
    battleId: Type.String(),
    host1Id: Type.String({ description: 'the inviting host' }),
    host2Id: Type.String({ description: 'the invited host' }),
    livestreamIds: Type.Array(Nullable(Type.String()), {
      minItems: 2,
      maxItems: 2,
      description: "each host's stream (battle frames go to its room), or null: that host's user room",
    }),
    status: lit(['pending', 'active', 'ended'] as const),
    result: Nullable(lit(['win', 'tie', 'declined'] as const)),
    host1Score: Type.Integer({ minimum: 0, description: 'coins of the gifts host 1 received while the battle was active' }),
    host2Score: Type.Integer({ minimum: 0 }),
    winnerId: Nullable(Type.String()),
    durationMs: Type.Integer({ minimum: 1000, description: 'how long the battle runs once accepted' }),
    createdAt: DateTime,
    startedAt: Nullable(DateTime),
    endsAt: Nullable(DateTime),
    endedAt: Nullable(DateTime),
  },
  { $id: 'PkBattle', additionalProperties: false },
);
type PkBattleBody = Static<typeof PkBattle>;

const PkBattleCreate = Type.Object(
  {
    opponentId: UserId,
    durationMs: Type.Optional(PkDurationMs),
    livestreamId: Type.Optional({ ...StreamId, description: 'your live stream: the battle frames go to its room' }),
  },
  { $id: 'PkBattleCreate', additionalProperties: false },
);
const PkBattleAccept = Type.Object(
  { livestreamId: Type.Optional({ ...StreamId, description: 'your live stream: the battle frames go to its room' }) },
  { $id: 'PkBattleAccept', additionalProperties: false },
);
const PkBattleGift = Type.Object(
  { recipientId: { ...Id, description: 'host1Id or host2Id of the battle' }, ...giftFields },
  { $id: 'PkBattleGift', additionalProperties: false },
);
const PkBattleGiftReceipt = Type.Object({ gift: GiftSendResult, battle: PkBattle }, { $id: 'PkBattleGiftReceipt', additionalProperties: false });
const PkRanking = Type.Object(
  { rank: Type.Integer({ minimum: 1, description: 'position over all pages' }), userId: Type.String(), wins: Type.Integer({ minimum: 0 }) },
  { $id: 'PkRanking', additionalProperties: false },
);
const BattleParams = Type.Object({ battleId: Id });

// The invited host accepts, never the caller who created the battle: no link to acceptPkBattle.
const battleLinks = { GetPkBattle: { operationId: 'getPkBattle', parameters: { battleId: '$response.body#/battleId' } } };

/** A battle as the wire carries it (HTTP replies and the pk:* acks). */
export const battleBody = (b: PkBattleView): PkBattleBody => ({ ...b, livestreamIds: [...b.livestreamIds], result: b.result as PkBattleBody['result'] });

export interface PkRouteDeps {
  pk: () => PkService;
  gifts: () => GiftService;
  /** 404 unless the stream is live, 403 unless `userId` hosts it. */
  assertOwnStream: (userId: string, livestreamId: string | undefined) => Promise<void>;
}

export function pkRoutes({ pk, gifts, assertOwnStream }: PkRouteDeps): RouteDef[] {
  return [
    defineRoute(
      {
        method: 'post',
        path: '/api/pk-battles',
        operationId: 'createPkBattle',
        tags,
        auth: 'user',
        body: PkBattleCreate,
        response: PkBattle,
        status: 201,
        summary: 'Invite a host to a PK battle; they get pk_battle:invite (same as pk:invite)',
        description:
          'The invitation lapses after PK_INVITE_TTL_SEC (60 s). Either host already in a pending or active battle: 409. Yourself: 400. A `livestreamId` that is not your live stream: 403 (404 if it is not live).',
        errors: ['not_found', 'conflict', 'unavailable'],
        links: battleLinks,
      },
      async ({ principal, body }) => {
        await assertOwnStream(principal.userId, body.livestreamId);
        return battleBody(await pk().invite(principal.userId, body.opponentId, body.durationMs ?? DEFAULT_PK_DURATION_MS, body.livestreamId));
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/pk-battles/leaderboard/rankings',
        operationId: 'listPkRankings',
        tags,
        auth: 'user',
        query: Type.Object(PageQuery),
        response: Paginated(PkRanking, 'PkRankingPage'),
        summary: 'Hosts by PK battles won, most first',
        errors: ['unavailable'],
      },
      async ({ query }) => {
        const w = pageWindow(query);
        const page = await pk().rankingsPage(w.skip, w.limit);
        return pageOf(page.entries, page.total, w);
      },
    ),
    defineRoute(
      {
        method: 'get',
        path: '/api/pk-battles/:battleId',
        operationId: 'getPkBattle',
        tags,
        auth: 'user',
        params: BattleParams,
        response: PkBattle,
        summary: 'One battle with its live scores (same as pk:get)',
        errors: ['not_found', 'unavailable'],
      },
      async ({ params }) => battleBody(await pk().get(params.battleId)),
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/pk-battles/:battleId/accept',
        operationId: 'acceptPkBattle',
        tags,
        auth: 'user',
        params: BattleParams,
        body: PkBattleAccept,
        bodyOptional: true,
        response: PkBattle,
        summary: 'Accept an invitation (the invited host only): the battle starts now; both rooms get pk_battle:start (same as pk:accept)',
        description: 'Not the invited host: 403. Unknown or lapsed: 404. No longer pending: 409. The body is optional.',
        errors: ['not_found', 'conflict', 'unavailable'],
      },
      async ({ principal, params, body }) => {
        await assertOwnStream(principal.userId, body.livestreamId);
        return battleBody(await pk().accept(principal.userId, params.battleId, body.livestreamId));
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/api/pk-battles/:battleId/gift',
        operationId: 'sendPkBattleGift',
        tags,
        auth: 'user',
        params: BattleParams,
        body: PkBattleGift,
        response: PkBattleGiftReceipt,
        status: 201,
        summary: "Send a gift to one host of an active battle: it adds to that host's score (pk_battle:score to both rooms)",
        description:
          "The socket `gift:send` to that host: into the host's battle stream when it has one (the room gets gift:sent), else to the host's profile. Same money path and idempotency. " +
          'Battle not active: 409; recipient not one of its hosts: 422; yourself: 400; balance too low: 422 `insufficient_funds`. The answer carries the battle with the new scores.',
        errors: ['not_found', 'conflict', 'insufficient_funds', 'unavailable'],
      },
      async ({ principal, params, body }) => {
        const battle = await pk().get(params.battleId);
        if (battle.status !== 'active') throw new AppError('conflict', `battle ${battle.battleId} is ${battle.status}, not active`);
        const side = [battle.host1Id, battle.host2Id].indexOf(body.recipientId);
        if (side < 0) throw new AppError('validation_failed', 'body/recipientId: not a host of this battle');
        const { recipientId, ...gift } = body;
        const livestreamId = battle.livestreamIds[side];
        const receipt = await gifts().send(
          principal.userId,
          livestreamId ? { ...gift, livestreamId, context: 'livestream' } : { ...gift, recipientId, context: 'profile' },
        );
        return { gift: receipt, battle: battleBody(await pk().get(battle.battleId)) };
      },
    ),
  ];
}
