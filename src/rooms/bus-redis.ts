import { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import type { Logger } from 'pino';
import { AppError } from '../kernel/errors.js';
import { seqBase, type Bus, type HistoryResult, type Published, type RoomMessage } from './bus.js';
import { LuaScript } from './lua.js';
import type { RoomMetrics } from './metrics.js';
import { shardOf } from './sharding.js';

/**
 * Cluster engine over Redis pub/sub, sharded over one or more Redis servers.
 *
 * - A room lives on one shard (shardOf). Its sequence counter, its bounded history and its
 *   channel are all there, so one Lua script can number, record and publish a message
 *   atomically: pub/sub order on the channel equals seq order.
 * - Every node (the publisher too) delivers only what arrives on the subscription, so each
 *   subscribed node sees each message exactly once, in seq order.
 * - Per shard, one connection for commands and PUBLISH, one in subscriber mode. ioredis
 *   re-issues SUBSCRIBE for every channel after a reconnect, so a restarted shard gets its
 *   subscriptions back without client action.
 */

// Plain maps, no records: entries are readable by any msgpack library.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/**
 * ARGV[2] of the publish script: the five key/value pairs (room, event, data, ts, origin) without
 * a map header. Packed as one map and the header cut off (one pack and one copy per message, not
 * ten); msgpackr writes a five-entry map as map16 (de 00 05) or fixmap (85).
 */
export function messagePairs(room: string, event: string, data: unknown, ts: number, origin: string): Buffer {
  const packed = packr.pack({ room, event, data: data ?? null, ts, origin });
  const header = packed[0] === 0x85 ? 1 : packed[0] === 0xde && packed[1] === 0 && packed[2] === 5 ? 3 : -1;
  if (header < 0) throw new Error(`unexpected msgpack map header ${packed.subarray(0, 3).toString('hex')}`);
  // A copy: packr reuses its buffer for the next pack.
  return Buffer.from(packed.subarray(header));
}

/*
 * Sequences, records and publishes a batch of room messages, in order (rooms may repeat).
 * KEYS     per message: the room's seq counter (string), then its history (list, oldest first)
 * ARGV[1]  history size (entries kept)
 * ARGV[2]  idle expiry of counters and histories, seconds
 * ARGV[3 + 3i ..] per message i (from 0): channel; the message without seq as five msgpack
 *          key/value pairs (room, event, data, ts, origin), no map header; the first seq of a new
 *          counter (the publisher's clock in ms; see seqBase in bus.ts)
 * Returns {seq, PUBLISH reply = nodes subscribed to the channel} per message, flattened.
 * Stored and published: a msgpack map of six entries, seq first.
 */
const PUBLISH = new LuaScript(
  'bus-publish',
  `
local keep = -tonumber(ARGV[1])
local out = {}
for i = 0, #KEYS / 2 - 1 do
  local seqKey, histKey, a = KEYS[2 * i + 1], KEYS[2 * i + 2], 3 + 3 * i
  local seq = redis.call('INCR', seqKey)
  if seq == 1 then
    seq = tonumber(ARGV[a + 2])
    redis.call('SET', seqKey, ARGV[a + 2])
  end
  local msg = string.char(0x86) .. cmsgpack.pack('seq') .. cmsgpack.pack(seq) .. ARGV[a + 1]
  redis.call('RPUSH', histKey, msg)
  redis.call('LTRIM', histKey, keep, -1)
  redis.call('EXPIRE', seqKey, ARGV[2])
  redis.call('EXPIRE', histKey, ARGV[2])
  out[2 * i + 1] = seq
  out[2 * i + 2] = redis.call('PUBLISH', ARGV[a], msg)
end
return out
`,
);

/** Most messages one publish script carries (a bound on how long one call holds the shard). */
export const BUS_BATCH_MAX = 128;

/*
 * Reads what a client missed.
 * KEYS[1]  the room's seq counter
 * KEYS[2]  the room's history
 * ARGV[1]  afterSeq (the last seq the client has)
 * Returns {latestSeq, oldestSeq, entry...}: the entries with seq > afterSeq when all are kept,
 * none when afterSeq is the latest or outside the kept window (the caller tells which).
 */
const HISTORY = new LuaScript(
  'bus-history',
  `
local latest = tonumber(redis.call('GET', KEYS[1]) or '0')
local oldest = latest - redis.call('LLEN', KEYS[2]) + 1
local after = tonumber(ARGV[1])
if after >= latest or after + 1 < oldest then return {latest, oldest} end
local out = redis.call('LRANGE', KEYS[2], after + 1 - oldest, -1)
table.insert(out, 1, oldest)
table.insert(out, 1, latest)
return out
`,
);

export interface RedisBusOptions {
  urls: string[];
  nodeId: string;
  log: Logger;
  metrics: RoomMetrics;
  historySize: number;
  historyTtlSec: number;
}

interface Shard {
  url: string;
  pub: Redis;
  sub: Redis;
  /** Publishes waiting for the next batch (sent at the end of this event-loop iteration). */
  queue: Queued[];
}

interface Queued {
  message: Omit<Published, 'seq' | 'nodes'>;
  pairs: Buffer;
  resolve(published: Published): void;
  reject(err: unknown): void;
}

const channelOf = (room: string): string => `lg:room:${room}`;
const seqKey = (room: string): string => `lg:room:{${room}}:seq`;
const historyKey = (room: string): string => `lg:room:{${room}}:hist`;

export class RedisBus implements Bus {
  private readonly shards: Shard[];
  private readonly subscribed = new Set<string>();
  private listener: (message: RoomMessage) => void = () => {};

  constructor(private readonly opts: RedisBusOptions) {
    this.shards = opts.urls.map((url, index) => this.connect(url, index));
  }

  async subscribe(room: string): Promise<void> {
    if (this.subscribed.has(room)) return;
    this.subscribed.add(room);
    this.opts.metrics.subscriptions.inc();
    await this.shardFor(room).sub.subscribe(channelOf(room));
  }

  async unsubscribe(room: string): Promise<void> {
    if (!this.subscribed.delete(room)) return;
    this.opts.metrics.subscriptions.dec();
    await this.shardFor(room).sub.unsubscribe(channelOf(room));
  }

  /**
   * Publishes of one event-loop iteration go to each shard as one script call (up to
   * BUS_BATCH_MAX messages): a group chat message to 30 members, or the frames of many clients
   * read in one iteration, cost one command and one reply instead of one each. In order: a batch
   * is applied in the order of its publishes, and batches go out on one connection in order.
   */
  publish(room: string, event: string, data: unknown): Promise<Published> {
    const ts = Date.now();
    const origin = this.opts.nodeId;
    const shard = this.shardFor(room);
    return new Promise<Published>((resolve, reject) => {
      const pairs = messagePairs(room, event, data, ts, origin); // a throw here rejects
      shard.queue.push({ message: { room, event, data, ts, origin }, pairs, resolve, reject });
      if (shard.queue.length >= BUS_BATCH_MAX) this.flush(shard);
      else if (shard.queue.length === 1) setImmediate(() => this.flush(shard));
    });
  }

  private flush(shard: Shard): void {
    const batch = shard.queue;
    if (batch.length === 0) return;
    shard.queue = [];
    const keys: string[] = [];
    const args: Array<string | number | Buffer> = [this.opts.historySize, this.opts.historyTtlSec];
    for (const { message, pairs } of batch) {
      keys.push(seqKey(message.room), historyKey(message.room));
      args.push(channelOf(message.room), pairs, seqBase(message.ts));
    }
    this.opts.metrics.publishBatch.observe(batch.length);
    PUBLISH.run(shard.pub, keys, args).then(
      (reply) => {
        const r = reply as number[];
        this.opts.metrics.published.inc(batch.length);
        for (const [i, { message, resolve }] of batch.entries()) resolve({ ...message, seq: Number(r[2 * i]), nodes: Number(r[2 * i + 1]) });
      },
      (err: unknown) => {
        this.opts.log.warn(
          { err: (err as Error).message, messages: batch.length, rooms: [...new Set(batch.map((q) => q.message.room))].slice(0, 5) },
          'bus publish failed',
        );
        const failure = new AppError('unavailable', 'the room bus is unavailable; retry');
        for (const { reject } of batch) reject(failure);
      },
    );
  }

  async history(room: string, afterSeq: number): Promise<HistoryResult> {
    const reply = (await HISTORY.runBuffer(this.shardFor(room).pub, [seqKey(room), historyKey(room)], [afterSeq])) as Array<number | Buffer>;
    const latestSeq = Number(reply[0]);
    const oldestSeq = Number(reply[1]);
    if (afterSeq === latestSeq) return { kind: 'messages', messages: [] };
    if (reply.length === 2) return { kind: 'gap', oldestSeq, latestSeq };
    return { kind: 'messages', messages: reply.slice(2).flatMap((raw) => this.decode(raw as Buffer)) };
  }

  onMessage(listener: (message: RoomMessage) => void): void {
    this.listener = listener;
  }

  /** The shard index of a room (for tests and operators). */
  shardIndex(room: string): number {
    return shardOf(room, this.shards.length);
  }

  async close(): Promise<void> {
    for (const shard of this.shards) this.flush(shard); // ahead of QUIT on the same connection
    this.subscribed.clear();
    await Promise.all(this.shards.flatMap((s) => [s.sub.quit().catch(() => s.sub.disconnect()), s.pub.quit().catch(() => s.pub.disconnect())]));
  }

  private countOnShard(index: number): number {
    let n = 0;
    for (const room of this.subscribed) if (shardOf(room, this.shards.length) === index) n++;
    return n;
  }

  private shardFor(room: string): Shard {
    return this.shards[shardOf(room, this.shards.length)]!;
  }

  private connect(url: string, index: number): Shard {
    const { log, nodeId } = this.opts;
    // Auto-pipelining: publishes issued in one loop iteration go out in one write (under load a
    // loop iteration handles many client frames; one write per publish was a sixth of a node's CPU).
    const pub = new Redis(url, { connectionName: `livegate:${nodeId}:bus-pub:${index}`, maxRetriesPerRequest: 2, enableAutoPipelining: true });
    const sub = new Redis(url, { connectionName: `livegate:${nodeId}:bus-sub:${index}`, autoResubscribe: true, maxRetriesPerRequest: null });
    for (const [role, client] of [
      ['pub', pub],
      ['sub', sub],
    ] as const) {
      client.on('error', (err: Error) => log.warn({ shard: index, role, err: err.message }, 'bus shard error'));
    }
    // ioredis re-sends SUBSCRIBE for every channel right after 'ready'; a PING queued behind
    // them answers once they are all in place, so the log line means "restored".
    let connectedOnce = false;
    sub.on('ready', () => {
      if (!connectedOnce) {
        connectedOnce = true;
        return;
      }
      setImmediate(() => {
        sub.ping().then(
          () => log.info({ shard: index, channels: this.countOnShard(index) }, 'bus shard reconnected; subscriptions restored'),
          (err: Error) => log.warn({ shard: index, err: err.message }, 'bus shard reconnect check failed'),
        );
      });
    });
    sub.on('messageBuffer', (_channel: Buffer, raw: Buffer) => {
      for (const message of this.decode(raw)) {
        this.opts.metrics.received.inc();
        this.listener(message);
      }
    });
    return { url, pub, sub, queue: [] };
  }

  /** Decodes one stored/published entry; a malformed one is logged and skipped. */
  private decode(raw: Buffer): RoomMessage[] {
    try {
      const value = packr.unpack(raw) as Partial<RoomMessage>;
      if (typeof value.room !== 'string' || typeof value.event !== 'string' || typeof value.seq !== 'number') throw new Error('missing fields');
      return [{ room: value.room, event: value.event, data: value.data, seq: value.seq, ts: Number(value.ts), origin: String(value.origin) }];
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'undecodable bus message');
      return [];
    }
  }
}
