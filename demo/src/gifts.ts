/**
 * The gift panel (wallet balance, one button per gift, a top-up) and the gift animation: the server
 * coalesces a burst of sends into `gift:sent` frames sharing a `combo.id`; each frame bumps the combo's
 * banner to the frame's running `combo.count` instead of stacking a new one.
 */
import { $, el } from './dom.js';
import type { Session } from './session.js';
import { num, str, type Json } from './wire.js';

interface Gift {
  id: string;
  name: string;
  icon: string;
  price: number;
}

const BURST_MS = 3200;

export class GiftPanel {
  private catalog: Gift[] = [];
  private readonly bursts = new Map<string, { node: HTMLElement; timer: ReturnType<typeof setTimeout> }>();
  private balanceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Where gifts go now; undefined outside a room. */
  livestreamId: string | undefined;

  constructor(
    private readonly session: Session,
    private readonly onError: (err: unknown) => void,
  ) {
    $('topup').addEventListener('click', () => void this.topUp().catch(onError));
  }

  async load(): Promise<void> {
    if (this.catalog.length === 0) {
      const ack = await this.session.call<{ gifts?: Json[] }>('gift:catalog', {});
      this.catalog = (ack.gifts ?? [])
        .filter((g) => g['available'] !== false)
        .map((g) => ({ id: str(g['id'] ?? g['_id']), name: str(g['name']), icon: str(g['icon']), price: num(g['price']) }));
      this.renderButtons();
    }
    await this.refreshBalance();
  }

  async refreshBalance(): Promise<void> {
    const ack = await this.session.call('wallet:balance', {});
    this.showBalance(num(ack['balance']));
  }

  /** A gift reached someone: the recipient's wallet was credited, read it again (once for a burst). */
  balanceSoon(): void {
    clearTimeout(this.balanceTimer);
    this.balanceTimer = setTimeout(() => void this.refreshBalance().catch(() => undefined), 400);
  }

  private showBalance(balance: number): void {
    $('balance').textContent = balance.toLocaleString('en');
  }

  private renderButtons(): void {
    const box = $('gift-buttons');
    box.replaceChildren(
      ...this.catalog.map((g) => {
        const button = el(
          'button',
          { attrs: { type: 'button', 'data-gift': g.id, title: g.name } },
          el('span', { text: g.icon }),
          el('small', { text: `${g.price}` }),
        );
        button.addEventListener('click', () => void this.send(g).catch(this.onError));
        return button;
      }),
    );
  }

  private async send(gift: Gift): Promise<void> {
    if (!this.livestreamId) return;
    const ack = await this.session.call('gift:send', { giftId: gift.id, quantity: 1, livestreamId: this.livestreamId });
    this.showBalance(num(ack['balance']));
  }

  /** Buys the smallest coin package with the development payment provider. */
  private async topUp(): Promise<void> {
    const ack = await this.session.call<{ items?: Json[] }>('catalog:get', { kind: 'coinPackages' });
    const pack = (ack.items ?? []).filter((p) => p['isActive'] !== false).sort((a, b) => num(a['coins']) - num(b['coins']))[0];
    if (!pack) throw new Error('no coin package in the catalogue (npm run seed)');
    await this.session.call('coins:purchase', { packageId: str(pack['id'] ?? pack['_id']) });
    await this.refreshBalance();
  }

  /** One `gift:sent` frame: start or bump its combo's banner. */
  animate(d: Json): void {
    const combo = (d['combo'] ?? {}) as Json;
    const comboId = str(combo['id']) || str(d['ts']);
    const count = num(combo['count']) || num(d['count']);
    const sender = ((d['sender'] ?? null) as Json | null)?.['userId'];
    const layer = $('gift-layer');
    let burst = this.bursts.get(comboId);
    if (burst) {
      clearTimeout(burst.timer);
      burst.node.remove();
    }
    const node = el(
      'div',
      { cls: burst ? 'burst bump' : 'burst', attrs: { 'data-testid': 'gift-burst', 'data-combo': comboId, 'data-count': String(count) } },
      el('span', { cls: 'icon', text: str(d['giftIcon']) || '🎁' }),
      el('span', { text: `${sender ? str(sender) : 'someone'} sent ${str(d['giftName'])}` }),
      el('span', { cls: 'combo', text: `x${count}` }),
    );
    // Stacked banners: the newest combo on top, at most three.
    node.style.top = `${12 + 56 * Math.min(this.bursts.size - (burst ? 1 : 0), 2)}px`;
    layer.append(node);
    burst = { node, timer: setTimeout(() => (node.remove(), this.bursts.delete(comboId)), BURST_MS) };
    this.bursts.set(comboId, burst);
  }

  clear(): void {
    for (const b of this.bursts.values()) {
      clearTimeout(b.timer);
      b.node.remove();
    }
    this.bursts.clear();
  }
}
