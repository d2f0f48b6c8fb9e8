import type { WebhookEvent } from '../../../kernel/webhooks.js';
import type { QueuedWebhook, WebhookQueue } from './queue.js';

/** Single-node engine: a bounded in-process queue. Nothing survives a restart. */
export class MemoryWebhookQueue implements WebhookQueue {
  private readonly unread: QueuedWebhook[] = [];
  private readonly unacked = new Map<string, QueuedWebhook>();
  private readonly dead: Array<{ entry: QueuedWebhook; reason: string }> = [];
  private nextId = 1;
  private wake: (() => void) | undefined;

  constructor(
    private readonly max: number,
    private readonly deadMax = 1000,
  ) {}

  async append(event: WebhookEvent): Promise<boolean> {
    if (this.unacked.size >= this.max) return false;
    const entry = { id: String(this.nextId++), event };
    this.unacked.set(entry.id, entry);
    this.unread.push(entry);
    this.wake?.();
    return true;
  }

  async recover(): Promise<QueuedWebhook[]> {
    // Entries handed out but not acknowledged go back to the front, in queue order.
    const readIds = new Set(this.unread.map((e) => e.id));
    const handedOut = [...this.unacked.values()].filter((e) => !readIds.has(e.id));
    return handedOut;
  }

  async read(max: number, blockMs: number): Promise<QueuedWebhook[]> {
    if (this.unread.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, blockMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.unread.splice(0, max);
  }

  async ack(entry: QueuedWebhook): Promise<void> {
    this.unacked.delete(entry.id);
  }

  async deadLetter(entry: QueuedWebhook, reason: string): Promise<void> {
    this.dead.push({ entry, reason });
    if (this.dead.length > this.deadMax) this.dead.shift();
    this.unacked.delete(entry.id);
  }

  async depth(): Promise<number> {
    return this.unacked.size;
  }

  async close(): Promise<void> {
    this.wake?.();
  }
}
