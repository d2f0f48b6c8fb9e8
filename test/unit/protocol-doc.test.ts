import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../src/gateway/close-codes.js';
import { ERROR_CODES } from '../../src/kernel/errors.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'PROTOCOL.md'), 'utf8');

function section(name: string): string[][] {
  const start = doc.indexOf(`<!-- ${name}:start -->`);
  const end = doc.indexOf(`<!-- ${name}:end -->`);
  expect(start, `${name} markers`).toBeGreaterThan(-1);
  return doc
    .slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| code') && !l.startsWith('|---'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

describe('docs/PROTOCOL.md and the registries', () => {
  it('lists exactly the error codes of the registry, with their HTTP status and meaning', () => {
    const rows = section('error-codes').map(([code, status, meaning]) => ({ code: code!.replace(/`/g, ''), status: Number(status), meaning }));
    expect(rows.map((r) => r.code).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const row of rows) {
      const entry = ERROR_CODES[row.code as keyof typeof ERROR_CODES];
      expect(row.status, row.code).toBe(entry.status);
      expect(row.meaning, row.code).toBe(entry.description);
    }
  });

  it('lists exactly the close codes the server sends', () => {
    const rows = section('close-codes').map(([code, name, reconnect, meaning]) => ({
      code: Number(code),
      name: name!.replace(/`/g, ''),
      reconnect: reconnect === 'yes',
      meaning,
    }));
    expect(rows.map((r) => r.name).sort()).toEqual(Object.keys(CLOSE_CODES).sort());
    for (const row of rows) {
      const entry = CLOSE_CODES[row.name as keyof typeof CLOSE_CODES];
      expect({ code: row.code, reconnect: row.reconnect, meaning: row.meaning }, row.name).toEqual({
        code: entry.code,
        reconnect: entry.reconnect,
        meaning: entry.description,
      });
    }
  });
});
