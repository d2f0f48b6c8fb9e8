import { bounded } from './bounded.js';

/** A named readiness check: Redis reachable, MongoDB reachable, writer running, ... */
export type ReadinessCheck = () => Promise<boolean>;

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  setDraining(): void {
    this.draining = true;
  }

  async report(timeoutMs = 2000): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const results: Record<string, boolean> = {};
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        results[name] = await bounded(check(), timeoutMs, `readiness check ${name}`).catch(() => false);
      }),
    );
    const ready = !this.draining && Object.values(results).every(Boolean);
    return { ready, checks: { ...results, accepting: !this.draining } };
  }
}
