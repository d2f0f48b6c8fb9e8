/**
 * Summarises a V8 .cpuprofile (node --cpu-prof) into where the time goes: self time by
 * function and by package or source file group, as a share of the non-idle samples.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  byFunction: Array<{ name: string; ms: number; share: number }>;
  byGroup: Array<{ name: string; ms: number; share: number }>;
}

function group(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : `native: ${frame.functionName || '(anonymous)'}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm: ${nm[1]}`;
  if (url.startsWith('node:')) return 'node core';
  const own = /\/dist\/(src\/.+)\.js$/.exec(url);
  if (own) return `livegate: ${own[1]!.replace(/\/[^/]+$/, '/')}`;
  return url;
}

export function summariseProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const fn = new Map<string, number>();
  const grp = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    total += us;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const where = frame.url ? ` (${frame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${frame.lineNumber + 1})` : '';
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    grp.set(group(frame), (grp.get(group(frame)) ?? 0) + us);
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return { totalMs: total / 1000, busyMs: busy / 1000, byFunction: rank(fn, top), byGroup: rank(grp, 15) };
}

export function profileMarkdown(title: string, s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `#### ${title}`,
    '',
    `${(s.busyMs / 1000).toFixed(1)} s busy of ${(s.totalMs / 1000).toFixed(1)} s sampled on the main thread.`,
    '',
    '| self time by group | ms | share of busy |',
    '|---|---|---|',
    ...s.byGroup.map((g) => `| ${g.name} | ${g.ms.toFixed(0)} | ${pct(g.share)} |`),
    '',
    '| self time by function | ms | share of busy |',
    '|---|---|---|',
    ...s.byFunction.map((f) => `| \`${f.name.replace(/\|/g, '\\|')}\` | ${f.ms.toFixed(0)} | ${pct(f.share)} |`),
    '',
  ].join('\n');
}
