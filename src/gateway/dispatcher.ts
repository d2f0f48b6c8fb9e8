import './http/formats.js';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { AppError } from '../kernel/errors.js';
import { canonicalInput } from '../kernel/wire.js';
import type { EventContract, EventFallback, EventHandler, HandlerContext, HandlerTable, PayloadAliases } from './handler.js';

interface CompiledHandler {
  check: TypeCheck<TSchema>;
  handler: EventHandler;
}

/** What the modules hand the dispatcher besides their event tables. */
export interface DispatcherExtras {
  /** Payload rewrites applied before the schema check (compat aliases), at most one per event. */
  aliases?: PayloadAliases[];
  /** Events no handler is registered for (the event proxy); at most one. */
  fallback?: EventFallback;
}

/**
 * The dispatch table: event name -> payload alias -> schema check -> handler. One lookup, no
 * if/else chains. An event outside the table goes to the fallback when it claims the name
 * (the event proxy), else it is `unknown_event`.
 */
export class Dispatcher {
  private readonly table = new Map<string, CompiledHandler>();
  private readonly aliases = new Map<string, (data: unknown) => unknown>();
  private readonly fallback: EventFallback | undefined;

  constructor(tables: HandlerTable[], extras: DispatcherExtras = {}) {
    for (const table of tables) {
      for (const [event, handler] of Object.entries(table)) {
        if (this.table.has(event)) throw new Error(`event "${event}" is registered twice`);
        this.table.set(event, { check: TypeCompiler.Compile(handler.schema), handler });
      }
    }
    for (const aliases of extras.aliases ?? []) {
      for (const [event, rewrite] of Object.entries(aliases)) {
        if (this.aliases.has(event)) throw new Error(`event "${event}" has two payload aliases`);
        if (!this.table.has(event)) throw new Error(`payload alias for unregistered event "${event}"`);
        this.aliases.set(event, rewrite);
      }
    }
    this.fallback = extras.fallback;
  }

  has(event: string): boolean {
    return this.table.has(event);
  }

  /** The metrics label of an event: its name when registered, the fallback's label when claimed, else `unknown`. */
  label(event: string): string {
    if (this.table.has(event)) return event;
    return this.fallback?.claims(event) ? this.fallback.label : 'unknown';
  }

  events(): string[] {
    return [...this.table.keys()].sort();
  }

  /** Every registered event's schemas, by name (sorted). */
  contracts(): Record<string, EventContract> {
    const out: Record<string, EventContract> = {};
    for (const event of this.events()) {
      const { schema, ack } = this.table.get(event)!.handler;
      out[event] = { payload: schema, ack };
    }
    return out;
  }

  /** `args`: every argument of a Socket.IO event (InboundRequest.args); only the fallback reads more than `input`. */
  async dispatch(ctx: HandlerContext, event: string, input: unknown, args?: readonly unknown[]): Promise<unknown> {
    const entry = this.table.get(event);
    if (!entry) {
      if (this.fallback?.claims(event)) return await this.fallback.handle(ctx, event, input, args ?? [input]);
      throw new AppError('unknown_event', `unknown event "${event}"`);
    }
    // Compat payload aliases first (a bare string becomes an object), then the wire convention's field names.
    const alias = this.aliases.get(event);
    const data = canonicalInput(alias ? alias(input) : input, event);
    if (!entry.check.Check(data)) {
      const first = entry.check.Errors(data).First();
      const where = first?.path ? first.path : '/';
      throw new AppError('validation_failed', `${event}: ${where}: ${first?.message ?? 'invalid payload'}`);
    }
    return await entry.handler.handle(ctx, data);
  }
}
