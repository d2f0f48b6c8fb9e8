/**
 * 1:1 chat: the conversation list with unread badges, one open conversation with typing and read
 * receipts. Unread counts come from the server (`conversation:update`); opening a conversation reads it.
 */
import { $, append, el, show, toast } from './dom.js';
import type { Presence } from './presence.js';
import { errorText, type Session } from './session.js';
import { num, str, type Json } from './wire.js';

interface Conversation {
  id: string;
  peer: string;
  unread: number;
  last: string;
}

const TYPING_SHOWN_MS = 4000;
const TYPING_IDLE_MS = 2500;

export class Inbox {
  private readonly conversations = new Map<string, Conversation>();
  private open: Conversation | undefined;
  /** Message ids shown in the open conversation, in order, with who sent each. */
  private shown: Array<{ id: string; mine: boolean }> = [];
  private peerReadUpTo = '';
  private typingShown: ReturnType<typeof setTimeout> | undefined;
  private typingIdle: ReturnType<typeof setTimeout> | undefined;
  private typingSentAt = 0;

  constructor(
    private readonly session: Session,
    private readonly presence: Presence,
    private readonly onClose: () => void,
  ) {
    const fail = (err: unknown): void => toast(errorText(err));
    session.listen('conversation:update', (c) => this.upsert(c));
    session.listen('message:new', (m) => void this.incoming(m).catch(fail));
    session.listen('typing', (t) => this.peerTyping(t));
    session.listen('message:read', (r) => {
      if (this.open && str(r['conversationId']) === this.open.id && str(r['userId']) !== session.me.userId) this.markSeen(str(r['messageId']));
    });
    session.client.on('connected', () => void this.load().catch(fail));

    $('dm-start').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $<HTMLInputElement>('dm-user');
      const userId = input.value.trim();
      if (!userId) return;
      input.value = '';
      void this.start(userId).catch(fail);
    });
    $('dm-back').addEventListener('click', () => this.close());
    $('dm-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send().catch(fail);
    });
    $('dm-text').addEventListener('input', () => this.typing());
  }

  async load(): Promise<void> {
    const ack = await this.session.call<{ conversations?: Json[] }>('conversation:list', { limit: 50 });
    for (const c of ack.conversations ?? []) this.upsert(c, false);
    this.render();
  }

  async start(userId: string): Promise<void> {
    const c = await this.session.call('conversation:create', { type: 'private', userId });
    this.upsert(c);
    const conv = this.conversations.get(str(c['id']));
    if (conv) await this.openConversation(conv);
  }

  showList(): void {
    this.open = undefined;
    void this.session.call('conversation:view', { conversationId: null }).catch(() => undefined);
    this.render();
    show('inbox');
  }

  private close(): void {
    this.showList();
    this.onClose();
  }

  private upsert(c: Json, render = true): void {
    if (str(c['type']) !== 'private') return;
    const id = str(c['id']);
    const participants = (c['participants'] ?? []) as string[];
    const last = (c['lastMessage'] ?? {}) as Json;
    const conv: Conversation = {
      id,
      peer: participants.find((p) => p !== this.session.me.userId) ?? this.session.me.userId,
      unread: this.open?.id === id ? 0 : num(c['unreadCount']),
      last: str(last['text']),
    };
    this.conversations.set(id, conv);
    if (this.open?.id === id) this.open = conv;
    if (render) this.render();
  }

  private render(): void {
    const list = $('conversations');
    const items = [...this.conversations.values()].map((c) => {
      const badge = el('span', { cls: 'badge', text: String(c.unread), attrs: { 'data-testid': 'unread' } });
      badge.hidden = c.unread === 0;
      const item = el(
        'li',
        { attrs: { 'data-conversation': c.id, 'data-peer': c.peer } },
        this.presence.dot(c.peer, el('span')),
        el('div', { cls: 'grow' }, el('span', { text: c.peer }), el('small', { text: c.last })),
        badge,
      );
      item.addEventListener('click', () => void this.openConversation(c).catch((err: unknown) => toast(errorText(err))));
      return item;
    });
    list.replaceChildren(...items);
    $('inbox-empty').hidden = items.length > 0;
    const total = [...this.conversations.values()].reduce((n, c) => n + c.unread, 0);
    $('unread-total').textContent = String(total);
    $('unread-total').hidden = total === 0;
  }

  private async openConversation(c: Conversation): Promise<void> {
    this.open = c;
    this.shown = [];
    this.peerReadUpTo = '';
    $('dm-peer').textContent = c.peer;
    this.presence.dot(c.peer, $('dm-dot'));
    $('dm-messages').replaceChildren();
    $('dm-typing').textContent = '';
    $('dm-seen').textContent = '';
    show('dm');
    await this.session.call('conversation:view', { conversationId: c.id });
    const history = await this.session.call<{ messages?: Json[] }>('message:history', { conversationId: c.id, limit: 50 });
    for (const m of (history.messages ?? []).reverse()) this.showMessage(m);
    const read = await this.session.call('conversation:read', { conversationId: c.id });
    const receipts = (read['receipts'] ?? []) as Json[];
    const peer = receipts.find((r) => str(r['userId']) === c.peer);
    if (peer?.['lastReadMessageId']) this.markSeen(str(peer['lastReadMessageId']));
    c.unread = 0;
    this.render();
  }

  private async incoming(m: Json): Promise<void> {
    const open = this.open;
    if (!open || str(m['conversationId']) !== open.id) return;
    this.showMessage(m);
    if (str(m['senderId']) !== this.session.me.userId) {
      $('dm-typing').textContent = '';
      await this.session.call('conversation:read', { conversationId: open.id, messageId: str(m['id']) });
    }
  }

  private showMessage(m: Json): void {
    const id = str(m['id']);
    if (this.shown.some((s) => s.id === id)) return;
    const mine = str(m['senderId']) === this.session.me.userId;
    this.shown.push({ id, mine });
    append($('dm-messages'), el('li', { cls: mine ? 'mine' : '', text: str(m['text']), attrs: { 'data-message': id } }));
    this.renderSeen();
  }

  private async send(): Promise<void> {
    const open = this.open;
    const input = $<HTMLInputElement>('dm-text');
    const text = input.value.trim();
    if (!open || !text) return;
    input.value = '';
    this.stopTyping();
    const ack = await this.session.call('message:send', { conversationId: open.id, type: 'text', text });
    this.showMessage({ id: ack['id'], conversationId: open.id, senderId: this.session.me.userId, text });
  }

  /** "Typing" at most once a second while keys are pressed; "stopped" after a pause or a send. */
  private typing(): void {
    if (!this.open) return;
    if (Date.now() - this.typingSentAt > 1000) {
      this.typingSentAt = Date.now();
      void this.session.call('typing', { conversationId: this.open.id, isTyping: true }).catch(() => undefined);
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    clearTimeout(this.typingIdle);
    if (!this.open || this.typingSentAt === 0) return;
    this.typingSentAt = 0;
    void this.session.call('typing', { conversationId: this.open.id, isTyping: false }).catch(() => undefined);
  }

  private peerTyping(t: Json): void {
    if (!this.open || str(t['conversationId']) !== this.open.id || str(t['userId']) === this.session.me.userId) return;
    clearTimeout(this.typingShown);
    const on = t['isTyping'] !== false;
    $('dm-typing').textContent = on ? `${str(t['userId'])} is typing…` : '';
    if (on) this.typingShown = setTimeout(() => ($('dm-typing').textContent = ''), TYPING_SHOWN_MS);
  }

  /** The peer read up to `messageId` (empty: everything so far). */
  private markSeen(messageId: string): void {
    this.peerReadUpTo = messageId || this.shown[this.shown.length - 1]?.id || '';
    this.renderSeen();
  }

  private renderSeen(): void {
    const upTo = this.shown.findIndex((s) => s.id === this.peerReadUpTo);
    const lastMine = this.shown.map((s) => s.mine).lastIndexOf(true);
    $('dm-seen').textContent = lastMine >= 0 && upTo >= lastMine ? 'Seen ✓✓' : lastMine >= 0 ? 'Sent ✓' : '';
  }
}
