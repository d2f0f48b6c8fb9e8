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

  private watch(userId: string): void {
    if (this.watched.has(userId) || userId === this.session.me.userId) return;
    this.watched.add(userId);
    this.pending.push(userId);
    // One subscribe for all the dots a render makes.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const ids = this.pending;
      this.pending = [];
      void this.subscribe(ids);
    }, 0);
  }

  private async subscribe(userIds: string[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += 200) {
      const ack = await this.session.call<{ users?: Json[] }>('presence:subscribe', { userIds: userIds.slice(i, i + 200) }).catch(() => ({ users: [] }));
      for (const u of ack.users ?? []) this.set(str(u['userId']), str(u['status']));
    }
  }

  private set(userId: string, status: string): void {
    this.status.set(userId, status);
    for (const node of document.querySelectorAll<HTMLElement>(`.dot[data-user="${CSS.escape(userId)}"]`)) node.dataset['status'] = status;
  }
}
