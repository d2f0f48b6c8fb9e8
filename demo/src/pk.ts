/** The PK battle bar: both hosts' scores, the countdown to `endsAt`, the winner at the end. */
import { $ } from './dom.js';
import { instantMs, num, str, type Json } from './wire.js';

export class PkBar {
  private battleId = '';
  private endsAt = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;

  start(b: Json): void {
    this.battleId = str(b['battleId']);
    $('pk').hidden = false;
    $('pk-name1').textContent = str(b['host1Id']);
    $('pk-name2').textContent = str(b['host2Id']);
    $('pk-result').textContent = '';
    $('pk').dataset['status'] = 'active';
    this.score(b);
    clearInterval(this.ticker);
    this.ticker = setInterval(() => this.tick(), 250);
  }

  score(s: Json): void {
    if (this.battleId && str(s['battleId']) !== this.battleId) return;
    const a = num(s['host1Score']);
    const b = num(s['host2Score']);
    $('pk-score1').textContent = String(a);
    $('pk-score2').textContent = String(b);
    $('pk-fill1').style.flexGrow = String(a + 1);
    $('pk-fill2').style.flexGrow = String(b + 1);
    const endsAt = instantMs(s['endsAt']);
    if (endsAt) this.endsAt = endsAt;
    this.tick();
  }

  end(e: Json): void {
    if (this.battleId && str(e['battleId']) !== this.battleId) return;
    if (!this.battleId) this.start(e);
    this.score(e);
    clearInterval(this.ticker);
    $('pk-timer').textContent = '0:00';
    $('pk').dataset['status'] = 'ended';
    const winner = str(e['winnerId']);
    $('pk-result').textContent = e['result'] === 'tie' || !winner ? 'Tie!' : `🏆 ${winner} wins`;
  }

  hide(): void {
    clearInterval(this.ticker);
    this.battleId = '';
    $('pk').hidden = true;
  }

  private tick(): void {
    const left = Math.max(0, Math.ceil((this.endsAt - Date.now()) / 1000));
    $('pk-timer').textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  }
}
