/**
 * Which events the proxy takes: exact names and prefixes from PROXY_EVENTS (`custom_event`,
 * `app:*`, or `*` for every unregistered event). The dispatcher asks only for events no module
 * registered, so a rule never shadows a livegate event.
 */
export class ProxyRules {
  private readonly exact = new Set<string>();
  /** Longest first, so the reported rule is the most specific one. */
  private readonly prefixes: string[];

  constructor(patterns: readonly string[]) {
    const prefixes: string[] = [];
    for (const pattern of patterns) {
      if (pattern.endsWith('*')) prefixes.push(pattern.slice(0, -1));
      else this.exact.add(pattern);
    }
    this.prefixes = prefixes.sort((a, b) => b.length - a.length);
  }

  /** The rule that takes `event` (its PROXY_EVENTS entry), or undefined. */
  match(event: string): string | undefined {
    if (this.exact.has(event)) return event;
    const prefix = this.prefixes.find((p) => event.startsWith(p));
    return prefix === undefined ? undefined : `${prefix}*`;
  }
}
