/**
 * Cluster engine: a Redis Stream with a consumer group. `emit` XADDs on any node; the node holding
 * the deliverer lease reads with XREADGROUP and, when it takes over, first XAUTOCLAIMs what the
 * previous deliverer read but never acknowledged. A delivered entry is XACKed and XDELed, so
 * XLEN is the number of undelivered webhooks (the bound and the depth metric).
 */
import type { Redis } from 'ioredis';
import type { WebhookEvent } from '../../../kernel/webhooks.js';
import type { QueuedWebhook, WebhookQueue } from './queue.js';

/**
 * KEYS[1] the stream
 * ARGV[1] most entries kept, ARGV[2] the event JSON
 * Appends unless the stream already holds ARGV[1] entries. Returns the entry id, or false when full.
 */
const APPEND = `
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return false end
return redis.call('XADD', KEYS[1], '*', 'e', ARGV[2])`;

const GROUP = 'livegate-webhooks';
const DEAD_MAX = 10_000;

type StreamEntry = [id: string, fields: string[]];

export class RedisWebhookQueue implements WebhookQueue {
  private readonly stream: string;
  private readonly dead: string;
  /** XREADGROUP BLOCK holds its connection; it gets its own. */
  private readonly reader: Redis;
  private groupReady = false;

  constructor(
    private readonly redis: Redis,
    private readonly consumer: string,
    private readonly max: number,
    prefix = 'livegate:webhooks',
  ) {
    this.stream = prefix;
    this.dead = `${prefix}:dead`;
    this.reader = redis.duplicate({ connectionName: `livegate:${consumer}:webhooks` });
    this.reader.on('error', () => {});
  }

  async append(event: WebhookEvent): Promise<boolean> {
    const id = await this.redis.eval(APPEND, 1, this.stream, String(this.max), JSON.stringify(event));
    return typeof id === 'string';
  }

  async recover(): Promise<QueuedWebhook[]> {
    await this.ensureGroup();
    const out: QueuedWebhook[] = [];
    let cursor = '0-0';
    do {
      const reply = (await this.redis.call('XAUTOCLAIM', this.stream, GROUP, this.consumer, '0', cursor, 'COUNT', '500')) as [
        string,
        Array<StreamEntry | null>,
        ...unknown[],
      ];
      cursor = reply[0];
      for (const entry of reply[1]) if (entry) out.push(...this.parse(entry));
    } while (cursor !== '0-0');
    return out;
  }

  async read(max: number, blockMs: number): Promise<QueuedWebhook[]> {
    await this.ensureGroup();
    const reply = (await this.reader.call(
      'XREADGROUP',
      'GROUP',
      GROUP,
      this.consumer,
      'COUNT',
      String(max),
      'BLOCK',
      String(blockMs),
      'STREAMS',
      this.stream,
      '>',
    )) as Array<[string, StreamEntry[]]> | null;
    return (reply?.[0]?.[1] ?? []).flatMap((entry) => this.parse(entry));
  }

  async ack(entry: QueuedWebhook): Promise<void> {
    await this.redis.multi().xack(this.stream, GROUP, entry.id).xdel(this.stream, entry.id).exec();
  }

  async deadLetter(entry: QueuedWebhook, reason: string): Promise<void> {
    await this.redis
      .multi()
      .xadd(this.dead, 'MAXLEN', '~', String(DEAD_MAX), '*', 'e', JSON.stringify(entry.event), 'reason', reason)
      .xack(this.stream, GROUP, entry.id)
      .xdel(this.stream, entry.id)
      .exec();
  }

  async depth(): Promise<number> {
    return this.redis.xlen(this.stream);
  }

  async close(): Promise<void> {
    this.reader.disconnect();
  }

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    try {
      // From 0: entries appended before the group existed are undelivered ones.
      await this.redis.xgroup('CREATE', this.stream, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err;
    }
    this.groupReady = true;
  }

  /** An entry that is not a webhook (written by hand, truncated) is removed instead of blocking the queue. */
  private parse([id, fields]: StreamEntry): QueuedWebhook[] {
    const at = fields.indexOf('e');
    try {
      const event = JSON.parse(fields[at + 1] ?? '') as WebhookEvent;
      if (typeof event.id === 'string' && typeof event.type === 'string' && typeof event.source === 'string') return [{ id, event }];
    } catch {
      // fall through: unreadable
    }
    void this.redis
      .multi()
      .xadd(this.dead, 'MAXLEN', '~', String(DEAD_MAX), '*', 'raw', JSON.stringify(fields), 'reason', 'unreadable entry')
      .xack(this.stream, GROUP, id)
      .xdel(this.stream, id)
      .exec()
      .catch(() => undefined);
    return [];
  }
}
