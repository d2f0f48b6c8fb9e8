/** Small helpers shared by the cluster suites. */

/**
 * Waits until a condition holds, checking it on every event-loop turn spaced by `everyMs`.
 * For state that has no event to await (a Redis counter, a subscription count); fails loudly.
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms: ${check.toString().slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The seqs of a room's events a client received, in arrival order. */
export function roomSeqs(client: { frames: Array<{ room?: string; seq?: number }> }, room: string): number[] {
  return client.frames.filter((f) => f.room === room && typeof f.seq === 'number').map((f) => f.seq!);
}

/** Sum of a metric's samples on a gateway's /metrics (optionally only samples whose labels contain `labels`). */
export async function metricValue(gw: { http: string }, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${gw.http}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith('{') || rest.startsWith(' '))) continue;
    if (labels && !rest.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The upper bound of the histogram bucket holding quantile q (from /metrics cumulative buckets). */
export async function histogramQuantile(gw: { http: string }, name: string, q: number): Promise<{ le: number; count: number }> {
  const text = await (await fetch(`${gw.http}/metrics`)).text();
  const buckets = text
    .split('\n')
    .filter((l) => l.startsWith(`${name}_bucket{`))
    .map((l) => ({ le: Number(/le="([^"]+)"/.exec(l)?.[1] === '+Inf' ? Infinity : /le="([^"]+)"/.exec(l)?.[1]), n: Number(l.slice(l.lastIndexOf(' ') + 1)) }))
    .sort((x, y) => x.le - y.le);
  const count = buckets.at(-1)?.n ?? 0;
  const hit = buckets.find((b) => b.n >= q * count);
  return { le: hit?.le ?? Infinity, count };
}
