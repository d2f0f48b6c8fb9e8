/**
 * The one place input aliases are accepted (docs/PROTOCOL.md, "Wire convention"): a request may
 * spell a field the way the seeds and older clients do, and it is renamed to the canonical name
 * before any schema sees it. Output only ever uses the canonical name.
 */
import { AppError } from './errors.js';

/** Other spelling -> canonical name. */
export const INPUT_ALIASES: Readonly<Record<string, string>> = { streamId: 'livestreamId' };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Renames the top-level alias fields of a payload (a socket event's data, an HTTP body or query).
 * Both spellings with different values -> validation_failed; with the same value, one is kept.
 */
export function canonicalInput(data: unknown, where: string): unknown {
  if (!isRecord(data)) return data;
  let out: Record<string, unknown> | undefined;
  for (const [alias, name] of Object.entries(INPUT_ALIASES)) {
    if (!(alias in data)) continue;
    out ??= { ...data };
    const value = out[alias];
    delete out[alias];
    if (name in out && out[name] !== value)
      throw new AppError('validation_failed', `${where}: /${alias} and /${name} name the same field with different values`);
    out[name] = value;
  }
  return out ?? data;
}
