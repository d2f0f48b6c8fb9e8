/** Presence dots: every dot of a user shows their status; subscriptions are renewed after a reconnect. */
import type { Session } from './session.js';
import { str, type Json } from './wire.js';

export class Presence {
  private readonly status = new Map<string, string>();
  private readonly watched = new Set<string>();
  private pending: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly session: Session) {
    session.listen('presence:update', (d) => this.set(str(d['userId']), str(d['status'])));
    session.client.on('connected', () => void this.subscribe([...this.watched]));
  }

  /** A dot element for the user, kept current. */
  dot(userId: string, node: HTMLElement): HTMLElement {
    node.classList.add('dot');
    node.dataset['user'] = userId;
    node.setAttribute('data-testid', `dot-${userId}`);
    node.dataset['status'] = this.status.get(userId) ?? 'offline';
    this.watch(userId);
    return node;
  }

  /** Follow a user (presence becomes visible to you), then watch them again. */
  async follow(userId: string): Promise<void> {
    await this.session.call('user:follow', { userId });
    this.watched.delete(userId);
    this.watch(userId);
  }

  private watch(userId: string): void {
    if (this.watched.has(userId) || userId === this.session.me.userId) return;
    this.watched.add(userId);
    this.pending.push(userId);
    // One pass for all the dots a render makes.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const ids = this.pending;
      this.pending = [];
      void this.subscribe(ids);
    }, 0);
  }

  /**
   * One subscribe per user: the server refuses a whole request when one id may not be seen (you
   * neither follow them nor share a conversation); that user's dot stays grey until you follow them.
   */
  private async subscribe(userIds: string[]): Promise<void> {
    await Promise.all(
      userIds.map(async (userId) => {
        try {
          const ack = await this.session.call<{ users?: Json[] }>('presence:subscribe', { userIds: [userId] });
          for (const u of ack.users ?? []) this.set(str(u['userId']), str(u['status']));
        } catch {
          this.set(userId, 'hidden');
        }
      }),
    );
  }

  private set(userId: string, status: string): void {
    this.status.set(userId, status);
    for (const node of document.querySelectorAll<HTMLElement>(`.dot[data-user="${CSS.escape(userId)}"]`)) node.dataset['status'] = status;
  }
}
