/**
 * Compares two V8 heap snapshots (node --heapsnapshot-signal) of the same process: which kinds of
 * objects grew, by count and self size, so "memory per connection" can be attributed, not guessed.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

type Census = Map<string, { count: number; bytes: number }>;

export function census(file: string): Census {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out: Census = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!] ?? 'unknown';
    const name = snap.strings[snap.nodes[i + iName]!] ?? '';
    const key = type === 'object' || type === 'closure' || type === 'native' ? `${name || '(anonymous)'}${type === 'object' ? '' : ` (${type})`}` : `(${type})`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + iSize]!;
    out.set(key, entry);
  }
  return out;
}

export function growthMarkdown(before: Census, after: Census, connections: number, top = 15): string {
  const rows = [...after.entries()]
    .map(([key, a]) => {
      const b = before.get(key) ?? { count: 0, bytes: 0 };
      return { key, count: a.count - b.count, bytes: a.bytes - b.bytes };
    })
    .filter((r) => r.bytes > 0)
    .sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((s, r) => s + r.bytes, 0);
  return [
    `JS heap growth after a full GC (snapshots force one): ${(total / 1024 / connections).toFixed(2)} KB per connection over ${connections} connections.`,
    '',
    '| object kind | per connection: count | bytes | share |',
    '|---|---|---|---|',
    ...rows.slice(0, top).map((r) => `| \`${r.key.replace(/\|/g, '\\|').slice(0, 60)}\` | ${(r.count / connections).toFixed(2)} | ${(r.bytes / connections).toFixed(0)} | ${((r.bytes / total) * 100).toFixed(1)}% |`),
    '',
  ].join('\n');
}
