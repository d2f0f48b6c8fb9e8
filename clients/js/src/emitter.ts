/** A small typed event emitter (no Node `events` import, so the same code runs in browsers). */
/** Handlers take different parameters per event; the public `on` overloads type them. */
type AnyHandler = (...args: never[]) => void;

export class Emitter {
  private readonly handlers = new Map<string, Set<AnyHandler>>();

  protected addHandler(event: string, handler: AnyHandler): void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler);
  }

  protected removeHandler(event: string, handler?: AnyHandler): void {
    if (!handler) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(handler);
  }

  /** Calls every handler of `event`; a throwing handler does not stop the others or the client. */
  protected emit(event: string, ...args: unknown[]): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        (handler as (...a: unknown[]) => void)(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
