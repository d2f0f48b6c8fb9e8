/**
 * The live room: viewer count, live chat, gifts (gifts.ts), PK (pk.ts), and the host's tools. A
 * viewer's room is rejoined by the client SDK after a reconnect (from its last seq); the host's
 * connection re-enters by starting its own live stream again (a no-op on the server).
 */
import { $, append, el, show, toast } from './dom.js';
import { GiftPanel } from './gifts.js';
import { PkBar } from './pk.js';
import type { Presence } from './presence.js';
import { errorText, type Session } from './session.js';
import { num, str, streamIdOf, type Json } from './wire.js';

export interface StreamCard {
  livestreamId: string;
  title: string;
  hostId: string;
  viewers: number;
}

export class Room {
  private current: StreamCard | undefined;
  private hosting = false;
  private invite: Json | undefined;
  readonly gifts: GiftPanel;
  private readonly pk = new PkBar();
  /** Other live hosts, for the PK picker (filled by the home screen's list). */
  private others: StreamCard[] = [];

  constructor(
    private readonly session: Session,
    private readonly presence: Presence,
    private readonly onLeave: () => void,
  ) {
    const fail = (err: unknown): void => toast(errorText(err));
    this.gifts = new GiftPanel(session, fail);
    const mine = (d: Json): boolean => this.current !== undefined && streamIdOf(d) === this.current.livestreamId;
    session.listen('livestream:viewers', (d) => mine(d) && this.viewers(num(d['viewers'])));
    session.listen('livestream:chat', (d) => mine(d) && this.line(str(d['userId']), str(d['text'])));
    session.listen('livestream:ended', (d) => mine(d) && this.line('', 'the stream has ended'));
    session.listen('gift:sent', (d) => {
      if (!mine(d)) return;
      this.gifts.animate(d);
      if (str(d['recipientId']) === session.me.userId) this.gifts.balanceSoon();
    });
    session.listen('pk_battle:start', (b) => this.pk.start(b));
    session.listen('pk_battle:score', (s) => this.pk.score(s));
    session.listen('pk_battle:end', (e) => {
      this.pk.end(e);
      this.line('', $('pk-result').textContent ?? '');
    });
    session.listen('pk_battle:invite', (b) => this.invited(b));
    session.listen('pk_battle:declined', () => toast('PK declined'));
    session.client.on('connected', () => {
      if (this.hosting && this.current)
        void this.session.call('livestream:start', { title: this.current.title, streamId: this.current.livestreamId }).catch(fail);
    });

    $('follow').addEventListener('click', () => {
      if (!this.current) return;
      $('follow').hidden = true;
      void presence.follow(this.current.hostId).catch(fail);
    });
    $('room-back').addEventListener('click', () => void this.leave().catch(fail));
    $('chat-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $<HTMLInputElement>('chat-text');
      const text = input.value.trim();
      if (!text || !this.current) return;
      input.value = '';
      void session.call('livestream:chat', { streamId: this.current.livestreamId, text }).catch(fail);
    });
    $('end-stream').addEventListener('click', () => void this.endStream().catch(fail));
    $('pk-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.invitePk().catch(fail);
    });
    $('pk-accept').addEventListener('click', () => void this.answerInvite(true).catch(fail));
    $('pk-decline').addEventListener('click', () => void this.answerInvite(false).catch(fail));
  }

  get open(): boolean {
    return this.current !== undefined;
  }

  async goLive(title: string): Promise<void> {
    const ack = await this.session.call('livestream:start', { title });
    this.hosting = true;
    this.enter({ livestreamId: streamIdOf(ack), title, hostId: this.session.me.userId, viewers: 0 });
  }

  async join(stream: StreamCard): Promise<void> {
    const ack = await this.session.call('livestream:join', { streamId: stream.livestreamId });
    this.hosting = false;
    this.enter({ ...stream, title: str(ack['title']) || stream.title, hostId: str(ack['hostId']) || stream.hostId });
    this.viewers(num(ack['viewers']));
  }

  setOtherHosts(streams: StreamCard[]): void {
    this.others = streams.filter((s) => s.hostId !== this.session.me.userId);
    const select = $<HTMLSelectElement>('pk-opponent');
    const chosen = select.value;
    select.replaceChildren(
      el('option', { text: 'PK: pick a live host', attrs: { value: '' } }),
      ...this.others.map((s) => el('option', { text: `${s.hostId} · ${s.title}`, attrs: { value: s.hostId } })),
    );
    select.value = chosen;
  }

  private enter(stream: StreamCard): void {
    this.current = stream;
    this.gifts.livestreamId = stream.livestreamId;
    $('room-title').textContent = stream.title;
    $('room-host').textContent = this.hosting ? 'you are live' : stream.hostId;
    this.presence.dot(stream.hostId, $('room-host-dot'));
    $('chat').replaceChildren();
    $('host-tools').hidden = !this.hosting;
    $('follow').hidden = this.hosting;
    $('gift-buttons').hidden = this.hosting;
    $('topup').hidden = this.hosting;
    document.body.dataset['role'] = this.hosting ? 'host' : 'viewer';
    this.pk.hide();
    this.viewers(stream.viewers);
    show('room');
    void this.gifts.load().catch((err: unknown) => toast(errorText(err)));
  }

  private async leave(): Promise<void> {
    const stream = this.current;
    this.current = undefined;
    this.gifts.livestreamId = undefined;
    this.gifts.clear();
    if (stream && !this.hosting) await this.session.call('livestream:leave', { streamId: stream.livestreamId }).catch(() => undefined);
    this.onLeave();
  }

  private async endStream(): Promise<void> {
    if (!this.current) return;
    await this.session.call('livestream:end', { streamId: this.current.livestreamId });
    this.hosting = false;
    await this.leave();
  }

  private async invitePk(): Promise<void> {
    const opponentId = $<HTMLSelectElement>('pk-opponent').value;
    if (!opponentId || !this.current) return toast('pick a live host to battle');
    const seconds = Math.max(1, Math.min(3600, Number($<HTMLInputElement>('pk-duration').value) || 60));
    await this.session.call('pk:invite', { opponentId, durationMs: seconds * 1000, livestreamId: this.current.livestreamId });
    toast(`PK invitation sent to ${opponentId}`);
  }

  private invited(battle: Json): void {
    this.invite = battle;
    $('pk-invite-text').textContent = `${str(battle['host1Id'])} challenges you to a PK battle`;
    $('pk-invite').hidden = false;
  }

  private async answerInvite(accept: boolean): Promise<void> {
    const battle = this.invite;
    $('pk-invite').hidden = true;
    this.invite = undefined;
    if (!battle) return;
    const battleId = str(battle['battleId']);
    if (accept) await this.session.call('pk:accept', { battleId, ...(this.current && this.hosting ? { livestreamId: this.current.livestreamId } : {}) });
    else await this.session.call('pk:decline', { battleId });
  }

  private viewers(n: number): void {
    $('viewers').textContent = String(n);
  }

  private line(userId: string, text: string): void {
    const item = userId ? el('li', {}, el('b', { text: userId }), document.createTextNode(text)) : el('li', { text, cls: 'gift' });
    append($('chat'), item);
  }
}
