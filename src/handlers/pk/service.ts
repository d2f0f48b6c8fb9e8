/**
 * PK battles. State lives in Redis (pk:battle hash, pk:active pointers, pk:ends schedule) and
 * changes only through pk-*.lua and gift-send.lua (scores). No timer belongs to one process:
 * every node polls `pk:ends` and the node whose pk-end.lua removes the battle from it ends it, so
 * a battle ends on time even if the node that started it died. Score frames are keyed room state
 * (core.roomState, key `pk:<battleId>` in each host's room): at most one per PK_SCORE_INTERVAL_MS
 * per room cluster-wide, always the latest score, and joiners get the current one in their ack.
 */
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError } from '../../kernel/errors.js';
import { userRoom } from '../../kernel/rooms.js';
import { isoMs } from '../../kernel/schemas.js';
import type { RoomSend } from '../../rooms/hub.js';
import { versionOf, type RoomState, type VersionedFrame } from '../../rooms/room-state.js';
import { COLLECTIONS } from '../../store/collections.js';
import type { WriteOp } from '../../store/write-queue.js';
import { livestreamRoom, moneyKeys } from '../wallets/keys.js';
import { pkAcceptScript, pkDeclineScript, pkEndScript, pkInviteScript } from '../wallets/lua/pk.js';
import type { MoneyMetrics } from '../wallets/metrics.js';
import type { Outbox } from '../wallets/outbox.js';

/** A battle's length: whole seconds, 1 s to 1 h, in milliseconds. */
export const PkDurationMs = Type.Integer({ minimum: 1000, maximum: 3_600_000, multipleOf: 1000, default: 300_000 });
export const DEFAULT_PK_DURATION_MS = 300_000;

export type PkStatus = 'pending' | 'active' | 'ended';

export interface PkBattleView {
  battleId: string;
  host1Id: string;
  host2Id: string;
  livestreamIds: [string | null, string | null];
  status: PkStatus;
  /** 'win' | 'tie' | 'declined' once ended. */
  result: string | null;
  host1Score: number;
  host2Score: number;
  winnerId: string | null;
  durationMs: number;
  /** Instants as they go on the wire: ISO 8601 UTC (docs/PROTOCOL.md, "Wire convention"). */
  createdAt: string;
  startedAt: string | null;
  endsAt: string | null;
  endedAt: string | null;
}

export interface PkOptions {
  pollMs: number;
  scoreIntervalMs: number;
  inviteTtlSec: number;
  outboxGraceMs: number;
}

const RETAIN_SEC = 7 * 86400;
const POINTER_GRACE_MS = 60_000;

export class PkService {
  private pollTimer: NodeJS.Timeout | undefined;
  private endedListener: (battle: PkBattleView) => void = () => {};
  private polling = false;
  /** The rooms of the battles this node scored (they never change once a battle is active). */
  private readonly rooms = new Map<string, string[]>();

  constructor(
    private readonly redis: Redis,
    private readonly outbox: Outbox,
    private readonly publish: RoomSend,
    private readonly roomState: RoomState,
    private readonly metrics: MoneyMetrics,
    private readonly log: Logger,
    private readonly opts: PkOptions,
  ) {
    outbox.register('pk:battle:', async (key) => {
      const battle = toView(await redis.hgetall(key));
      if (!battle) return undefined;
      // Orphaned by a node that died right after ending it: tell the rooms (clients treat a repeat as a no-op).
      if (battle.status === 'ended' && battle.result !== 'declined') this.announce(battle, 'pk_battle:end', endFrame(battle));
      return battleWrites(battle, Number((await redis.hget(key, 'v')) ?? 1));
    });
  }

  /** `durationMs`: whole seconds (the schemas ask for a multiple of 1000). */
  async invite(host1: string, host2: string, durationMs: number, livestreamId: string | undefined): Promise<PkBattleView> {
    if (host1 === host2) throw new AppError('bad_request', 'you cannot battle yourself');
    const battleId = `pk_${randomBytes(9).toString('base64url')}`;
    const key = moneyKeys.pkBattle(battleId);
    const [status, detail] = (await pkInviteScript.run(
      this.redis,
      [moneyKeys.pkActive(host1), moneyKeys.pkActive(host2), key],
      [battleId, host1, host2, Math.round(durationMs / 1000), this.opts.inviteTtlSec * 1000, livestreamId ?? ''],
    )) as [string, string];
    if (status === 'busy') throw new AppError('conflict', `${detail === host1 ? 'you are' : 'that host is'} already in a battle`);
    const battle = await this.get(battleId);
    this.publish(userRoom(host2), 'pk_battle:invite', battle);
    void this.persist(battle, 1);
    return battle;
  }

  async accept(userId: string, battleId: string, livestreamId: string | undefined): Promise<PkBattleView> {
    const before = await this.get(battleId);
    const [status, detail] = (await pkAcceptScript.run(
      this.redis,
      [moneyKeys.pkBattle(battleId), moneyKeys.pkActive(before.host1Id), moneyKeys.pkActive(before.host2Id), moneyKeys.pkEnds],
      [battleId, userId, livestreamId ?? '', POINTER_GRACE_MS],
    )) as [string, string | undefined];
    checkStatus(status, detail, battleId);
    const battle = await this.get(battleId);
    this.announce(battle, 'pk_battle:start', battle);
    this.offerScore(battle);
    void this.persist(battle, 2);
    return battle;
  }

  async decline(userId: string, battleId: string): Promise<PkBattleView> {
    const before = await this.get(battleId);
    const [status, detail] = (await pkDeclineScript.run(
      this.redis,
      [moneyKeys.pkBattle(battleId), moneyKeys.pkActive(before.host1Id), moneyKeys.pkActive(before.host2Id)],
      [battleId, userId, RETAIN_SEC],
    )) as [string, string | undefined];
    checkStatus(status, detail, battleId);
    const battle = await this.get(battleId);
    this.publish(userRoom(battle.host1Id), 'pk_battle:declined', battle);
    this.publish(userRoom(battle.host2Id), 'pk_battle:declined', battle);
    void this.persist(battle, 3);
    return battle;
  }

  async get(battleId: string): Promise<PkBattleView> {
    const battle = toView(await this.redis.hgetall(moneyKeys.pkBattle(battleId)));
    if (!battle) throw new AppError('not_found', `battle "${battleId}" does not exist`);
    return battle;
  }

  async rankings(limit: number): Promise<Array<{ userId: string; wins: number }>> {
    return (await this.rankingsPage(0, limit)).entries.map(({ userId, wins }) => ({ userId, wins }));
  }

  /** Hosts by wins, most first (`rank` 1-based over all pages), `limit` after `offset`, and how many hosts have a win. */
  async rankingsPage(offset: number, limit: number): Promise<{ entries: Array<{ rank: number; userId: string; wins: number }>; total: number }> {
    const [[, flat], [, total]] = ((await this.redis
      .multi()
      .zrevrange(moneyKeys.pkWins, offset, offset + limit - 1, 'WITHSCORES')
      .zcard(moneyKeys.pkWins)
      .exec()) ?? []) as [[unknown, string[]], [unknown, number]];
    const entries: Array<{ rank: number; userId: string; wins: number }> = [];
    for (let i = 0; i < (flat ?? []).length; i += 2) entries.push({ rank: offset + i / 2 + 1, userId: flat[i]!, wins: Number(flat[i + 1]) });
    return { entries, total: Number(total ?? 0) };
  }

  activeCount(): Promise<number> {
    return this.redis.zcard(moneyKeys.pkEnds);
  }

  /**
   * A gift changed a battle's score: each host's room gets the latest score, at most once per
   * interval cluster-wide (core.roomState reads the battle again when the interval allows).
   */
  scoreChanged(battleId: string): void {
    const rooms = this.rooms.get(battleId);
    if (rooms) {
      for (const room of rooms) this.roomState.changed(room, pkKey(battleId), () => this.scoreFrame(battleId), this.opts.scoreIntervalMs);
      return;
    }
    this.get(battleId).then(
      (battle) => this.offerScore(battle),
      (err: unknown) => this.log.warn({ err: (err as Error).message, battleId }, 'pk score publish failed'),
    );
  }

  private offerScore(battle: PkBattleView): void {
    if (battle.status !== 'active') return;
    if (this.rooms.size > 10_000) this.rooms.clear();
    this.rooms.set(battle.battleId, battleRooms(battle));
    this.scoreChanged(battle.battleId);
  }

  private async scoreFrame(battleId: string): Promise<VersionedFrame | undefined> {
    const [[, hash], [, time]] = ((await this.redis.multi().hgetall(moneyKeys.pkBattle(battleId)).time().exec()) ?? []) as [
      [unknown, Record<string, string>],
      [unknown, unknown],
    ];
    const battle = toView(hash ?? {});
    if (battle?.status !== 'active') return undefined;
    return {
      event: 'pk_battle:score',
      data: { battleId, host1Score: battle.host1Score, host2Score: battle.host2Score, endsAt: battle.endsAt },
      version: versionOf(time),
    };
  }

  /** Told once per battle when it ends on time (on the node that claimed the end). */
  onEnded(listener: (battle: PkBattleView) => void): void {
    this.endedListener = listener;
  }

  start(): void {
    this.pollTimer = setInterval(() => void this.endDue(), this.opts.pollMs);
    this.pollTimer.unref();
  }

  stop(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
  }

  /** Ends every battle that is due; several nodes may race, pk-end.lua lets exactly one win. */
  async endDue(): Promise<number> {
    if (this.polling) return 0;
    this.polling = true;
    let ended = 0;
    try {
      const due = await this.redis.zrangebyscore(moneyKeys.pkEnds, '-inf', Date.now(), 'LIMIT', 0, 50);
      for (const battleId of due) {
        const key = moneyKeys.pkBattle(battleId);
        const [host1, host2] = await this.redis.hmget(key, 'host1', 'host2');
        const claimed = (await pkEndScript.run(
          this.redis,
          [moneyKeys.pkEnds, key, moneyKeys.pkActive(host1 ?? ''), moneyKeys.pkActive(host2 ?? ''), moneyKeys.pkWins, moneyKeys.outbox],
          [battleId, this.opts.outboxGraceMs, RETAIN_SEC],
        )) as number;
        if (claimed !== 1) continue;
        ended++;
        const battle = await this.get(battleId);
        this.metrics.pkEnded.inc({ result: battle.result ?? 'unknown' });
        this.log.info(
          {
            battleId,
            winnerId: battle.winnerId,
            host1Score: battle.host1Score,
            host2Score: battle.host2Score,
            lateMs: Date.parse(battle.endedAt ?? '') - Date.parse(battle.endsAt ?? ''),
          },
          'pk battle ended',
        );
        // Joiners who heard the end get no score of the battle in their ack: dropped before the end frame.
        await this.forgetScore(battle);
        this.announce(battle, 'pk_battle:end', endFrame(battle));
        this.endedListener(battle);
        await this.outbox.commit(key, battleWrites(battle, 3));
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'pk end poll failed');
    } finally {
      this.polling = false;
    }
    return ended;
  }

  /** An ended battle leaves its rooms' keyed state: joiners no longer get its score. */
  private async forgetScore(battle: PkBattleView): Promise<void> {
    this.rooms.delete(battle.battleId);
    await Promise.all(
      battleRooms(battle).map((room) =>
        this.roomState.drop(room, pkKey(battle.battleId)).catch((err: unknown) => this.log.warn({ err: (err as Error).message, room }, 'pk score drop failed')),
      ),
    );
  }

  private announce(battle: PkBattleView, event: string, data: unknown): void {
    for (const room of battleRooms(battle)) this.publish(room, event, data);
  }

  private async persist(battle: PkBattleView, version: number): Promise<void> {
    const key = moneyKeys.pkBattle(battle.battleId);
    await this.redis.zadd(moneyKeys.outbox, Date.now() + this.opts.outboxGraceMs, key);
    await this.outbox.commit(key, battleWrites(battle, version));
  }
}

/** The keyed-state key of a battle's score in its rooms. */
const pkKey = (battleId: string): string => `pk:${battleId}`;

function checkStatus(status: string, detail: string | undefined, battleId: string): void {
  if (status === 'ok') return;
  if (status === 'not_found') throw new AppError('not_found', `battle "${battleId}" does not exist or the invitation expired`);
  if (status === 'forbidden') throw new AppError('forbidden', 'you are not a host of this battle');
  throw new AppError('conflict', `battle is ${detail ?? status}`);
}

/** Each host's stream room, or their user room when the battle has no stream for them. */
export function battleRooms(b: PkBattleView): string[] {
  const rooms = [
    b.livestreamIds[0] ? livestreamRoom(b.livestreamIds[0]) : userRoom(b.host1Id),
    b.livestreamIds[1] ? livestreamRoom(b.livestreamIds[1]) : userRoom(b.host2Id),
  ];
  return [...new Set(rooms)];
}

function endFrame(b: PkBattleView): Record<string, unknown> {
  return {
    battleId: b.battleId,
    host1Id: b.host1Id,
    host2Id: b.host2Id,
    host1Score: b.host1Score,
    host2Score: b.host2Score,
    winnerId: b.winnerId,
    result: b.result,
    endsAt: b.endsAt,
    endedAt: b.endedAt,
  };
}

function toView(h: Record<string, string>): PkBattleView | undefined {
  if (!h['id'] || !h['host1'] || !h['host2']) return undefined;
  const at = (k: string): string | null => (h[k] ? isoMs(Number(h[k])) : null);
  return {
    battleId: h['id'],
    host1Id: h['host1'],
    host2Id: h['host2'],
    livestreamIds: [h['ls1'] || null, h['ls2'] || null],
    status: (h['status'] ?? 'pending') as PkStatus,
    result: h['result'] || null,
    host1Score: Number(h['s1'] ?? 0),
    host2Score: Number(h['s2'] ?? 0),
    winnerId: h['winnerId'] || null,
    durationMs: Number(h['duration'] ?? 0) * 1000,
    createdAt: isoMs(Number(h['createdAt'] ?? 0)),
    startedAt: at('startedAt'),
    endsAt: at('endsAt'),
    endedAt: at('endedAt'),
  };
}

/** The PKBattle document (seed 000), versioned by status so a late write never rolls it back. */
function battleWrites(b: PkBattleView, version: number): WriteOp[] {
  const date = (instant: string | null): Date | null => (instant === null ? null : new Date(instant));
  return [
    {
      kind: 'setIfNewer',
      collection: COLLECTIONS.pkBattles,
      id: b.battleId,
      version,
      set: {
        host1Id: b.host1Id,
        host2Id: b.host2Id,
        livestreamId: b.livestreamIds[0],
        opponentLivestreamId: b.livestreamIds[1],
        status: b.status,
        result: b.result,
        host1Score: b.host1Score,
        host2Score: b.host2Score,
        winnerId: b.winnerId,
        durationMs: b.durationMs,
        startedAt: date(b.startedAt),
        endsAt: date(b.endsAt),
        endedAt: date(b.endedAt),
        createdAt: date(b.createdAt),
        updatedAt: new Date(),
      },
    },
  ];
}
