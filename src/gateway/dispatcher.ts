import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { AppError } from '../kernel/errors.js';
import type { EventHandler, HandlerContext, HandlerTable } from './handler.js';

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

  async dispatch(ctx: HandlerContext, event: string, data: unknown): Promise<unknown> {
    const entry = this.table.get(event);
    if (!entry) throw new AppError('unknown_event', `unknown event "${event}"`);
    if (!entry.check.Check(data)) {
      const first = entry.check.Errors(data).First();
      const where = first?.path ? first.path : '/';
      throw new AppError('validation_failed', `${event}: ${where}: ${first?.message ?? 'invalid payload'}`);
    }
    return await entry.handler.handle(ctx, data);
  }
}
