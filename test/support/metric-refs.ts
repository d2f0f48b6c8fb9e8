/**
 * Which metrics and labels a PromQL expression names, and which metrics a /metrics scrape
 * exports: for the test that keeps the Grafana dashboard and the alert rules in step with the
 * gateway (test/gateway/dashboard-metrics.test.ts).
 */

/** A metric named in an expression, with the labels its selector matches on. */
export interface MetricRef {
  metric: string;
  matchers: string[];
}

export interface ExprRefs {
  metrics: MetricRef[];
  /** Labels of by (...) / without (...) / on (...) / ignoring (...) / group_left (...) clauses. */
  grouping: string[];
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

export function metricRefs(expr: string): ExprRefs {
  // Grafana variables ($node, $__rate_interval) and string literals are not names.
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\$\{?\w+\}?/g, '1m');
  const grouping: string[] = [];
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_m, _kw: string, labels: string) => {
    grouping.push(
      ...labels
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    );
    return ' ';
  });
  const metrics: MetricRef[] = [];
  // name{matchers} or a bare name; names followed by "(" are functions or aggregations.
  const token = /([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?(\s*\()?/g;
  rest = rest.replace(/\[[^\]]*\]/g, ' ');
  for (const m of rest.matchAll(token)) {
    const [, name, braces, call] = m;
    const before = rest[(m.index ?? 0) - 1];
    if (!name || call || KEYWORDS.has(name.toLowerCase()) || (before !== undefined && /[0-9.]/.test(before))) continue;
    const matchers = braces ? [...braces.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]!) : [];
    metrics.push({ metric: name, matchers });
  }
  return { metrics, grouping };
}

export interface Scrape {
  /** Every name a query may use: counters and gauges as named, histograms with _bucket/_sum/_count, summaries with _sum/_count. */
  names: Set<string>;
  /** The labels seen on the series of each name. */
  labels: Map<string, Set<string>>;
}

export function parseScrape(text: string): Scrape {
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      else if (kind === 'summary') for (const s of ['', '_sum', '_count']) names.add(name + s);
      else names.add(name);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const set = labels.get(sample[1]!) ?? new Set<string>();
    for (const l of (sample[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) set.add(l[1]!);
    labels.set(sample[1]!, set);
  }
  return { names, labels };
}
