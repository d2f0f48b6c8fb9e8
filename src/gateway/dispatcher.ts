import './http/formats.js';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { AppError } from '../kernel/errors.js';
import { canonicalInput } from '../kernel/wire.js';
import type { EventContract, EventHandler, HandlerContext, HandlerTable } from './handler.js';

interface CompiledHandler {
  check: TypeCheck<TSchema>;
  handler: EventHandler;
}

/** The dispatch table: event name -> schema check -> handler. One lookup, no if/else chains. */
export class Dispatcher {
  private readonly table = new Map<string, CompiledHandler>();

  constructor(...tables: HandlerTable[]) {
    for (const table of tables) {
      for (const [event, handler] of Object.entries(table)) {
        if (this.table.has(event)) throw new Error(`event "${event}" is registered twice`);
        this.table.set(event, { check: TypeCompiler.Compile(handler.schema), handler });
      }
    }
  }

  has(event: string): boolean {
    return this.table.has(event);
  }

  events(): string[] {
    return [...this.table.keys()].sort();
  }

  /** Every registered event's schemas, by name (sorted). */
  contracts(): Record<string, EventContract> {
    const out: Record<string, EventContract> = {};
    for (const event of this.events()) {
      const { schema, ack } = this.table.get(event)!.handler;
      out[event] = ack ? { payload: schema, ack } : { payload: schema };
    }
    return out;
  }

  async dispatch(ctx: HandlerContext, event: string, input: unknown): Promise<unknown> {
    const entry = this.table.get(event);
    if (!entry) throw new AppError('unknown_event', `unknown event "${event}"`);
    const data = canonicalInput(input, event);
    if (!entry.check.Check(data)) {
      const first = entry.check.Errors(data).First();
      const where = first?.path ? first.path : '/';
      throw new AppError('validation_failed', `${event}: ${where}: ${first?.message ?? 'invalid payload'}`);
    }
    return await entry.handler.handle(ctx, data);
  }
}
