/**
 * A circuit breaker for the backend: closed (requests flow) until `failures` consecutive failures,
 * then open (every request refused at once) for `openMs`; then half-open, where exactly one probe
 * request goes through: its success closes the breaker, its failure opens it for another `openMs`.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export type Admission = { ok: true; probe: boolean } | { ok: false; retryInMs: number };

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private consecutive = 0;
  private openedAt = 0;
  private probing = false;

  constructor(
    private readonly failures: number,
    private readonly openMs: number,
    private readonly onChange: (to: BreakerState) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  /** Asks to send one request; a granted probe must be answered with success() or failure(). */
  admit(): Admission {
    if (this.current === 'closed') return { ok: true, probe: false };
    const waited = this.now() - this.openedAt;
    if (this.current === 'open' && waited >= this.openMs) this.move('half_open');
    if (this.current === 'half_open' && !this.probing) {
      this.probing = true;
      return { ok: true, probe: true };
    }
    return { ok: false, retryInMs: Math.max(0, this.openMs - waited) };
  }

  success(): void {
    this.consecutive = 0;
    this.probing = false;
    if (this.current !== 'closed') this.move('closed');
  }

  failure(): void {
    this.probing = false;
    this.consecutive++;
    if (this.current === 'half_open' || (this.current === 'closed' && this.consecutive >= this.failures)) {
      this.openedAt = this.now();
      this.move('open');
    }
  }

  /** A probe whose outcome says nothing about the backend (the client left): let the next request probe. */
  release(): void {
    this.probing = false;
  }

  private move(to: BreakerState): void {
    this.current = to;
    this.onChange(to);
  }
}
