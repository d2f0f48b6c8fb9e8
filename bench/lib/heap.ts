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
    ...rows
      .slice(0, top)
      .map(
        (r) =>
          `| \`${r.key.replace(/\|/g, '\\|').slice(0, 60)}\` | ${(r.count / connections).toFixed(2)} | ${(r.bytes / connections).toFixed(0)} | ${((r.bytes / total) * 100).toFixed(1)}% |`,
      ),
    '',
  ].join('\n');
}

interface Graph {
  label: (n: number) => string;
  ids: Set<number>;
  owners: Map<string, { count: number; bytes: number }>;
}

/**
 * What holds the objects a process gained between two snapshots: every object of the second
 * snapshot whose id the first did not have, grouped by its kind and its first retainer (the
 * owning object's class and the field or table that points to it). Hash tables show up as
 * "(array) ← Map.table ← <owner>.<field>", so the per-connection cost of every Map and Set is named.
 */
export function ownersMarkdown(beforeFile: string, afterFile: string, connections: number, top = 18): string {
  const before = readIds(beforeFile);
  const after = graph(afterFile, before);
  const rows = [...after.owners.entries()].sort((a, b) => b[1].bytes - a[1].bytes);
  const total = rows.reduce((s, [, r]) => s + r.bytes, 0);
  return [
    `New objects still alive after a full GC, by what holds them: ${(total / 1024 / connections).toFixed(2)} KB per connection.`,
    '',
    '| object ← held by (class.field) | per connection: count | bytes | share |',
    '|---|---|---|---|',
    ...rows
      .slice(0, top)
      .map(
        ([key, r]) =>
          `| \`${key.replace(/\|/g, '\\|').slice(0, 110)}\` | ${(r.count / connections).toFixed(2)} | ${(r.bytes / connections).toFixed(0)} | ${((r.bytes / total) * 100).toFixed(1)}% |`,
      ),
    '',
  ].join('\n');
}

function readIds(file: string): Set<number> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const iId = fields.indexOf('id');
  const ids = new Set<number>();
  for (let i = 0; i < snap.nodes.length; i += width) ids.add(snap.nodes[i + iId]!);
  return ids;
}

function graph(file: string, known: Set<number>): Graph {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot & {
    edges: number[];
    snapshot: { meta: { edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  };
  const nf = snap.snapshot.meta.node_fields;
  const ef = snap.snapshot.meta.edge_fields;
  const nodeTypes = snap.snapshot.meta.node_types[0];
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const W = nf.length;
  const EW = ef.length;
  const [iType, iName, iSize, iEdges, iId] = ['type', 'name', 'self_size', 'edge_count', 'id'].map((f) => nf.indexOf(f)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f)) as [number, number, number];
  const N = snap.nodes.length / W;
  const label = (n: number): string => {
    const type = nodeTypes[snap.nodes[n * W + iType]!] ?? 'unknown';
    const name = snap.strings[snap.nodes[n * W + iName]!] ?? '';
    return type === 'object' || type === 'native' ? name || '(anonymous)' : type === 'closure' ? `${name || '(anonymous)'}()` : `(${type})`;
  };
  // First strong retainer of every node, and the edge's name.
  const parent = new Int32Array(N).fill(-1);
  const via: string[] = new Array<string>(N);
  let e = 0;
  for (let n = 0; n < N; n++) {
    const count = snap.nodes[n * W + iEdges]!;
    for (let k = 0; k < count; k++, e += EW) {
      const type = edgeTypes[snap.edges[e + eType]!];
      if (type === 'weak') continue;
      const to = snap.edges[e + eTo]! / W;
      if (parent[to] !== -1) continue;
      parent[to] = n;
      via[to] =
        type === 'element' || type === 'hidden'
          ? '[]'
          : type === 'property' || type === 'internal' || type === 'context' || type === 'shortcut'
            ? String(snap.strings[snap.edges[e + eName]!])
            : String(snap.edges[e + eName]);
    }
  }
  const owners = new Map<string, { count: number; bytes: number }>();
  for (let n = 0; n < N; n++) {
    if (known.has(snap.nodes[n * W + iId]!)) continue;
    const p = parent[n]!;
    const p2 = p >= 0 ? parent[p]! : -1;
    const holder =
      p < 0
        ? '—'
        : `${label(p)}.${via[n]}${p2 >= 0 && (label(p) === '(array)' || label(p) === 'Map' || label(p) === 'Set' || label(p) === 'Array' || label(p) === 'Object') ? ` ← ${label(p2)}.${via[p]}` : ''}`;
    const key = `${label(n)} ← ${holder}`;
    const entry = owners.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[n * W + iSize]!;
    owners.set(key, entry);
  }
  return { label, ids: known, owners };
}
