/**
 * Remote JSON Web Key Sets (JWT_JWKS_URL): the keys of Firebase Auth, Auth0, Cognito, Supabase or
 * any OIDC issuer, which rotate on the provider's schedule.
 *
 * - Fetched at start; kept for as long as the response's Cache-Control max-age (less Age) or
 *   Expires allows, clamped to [JWT_JWKS_MIN_CACHE_SEC, JWT_JWKS_MAX_CACHE_SEC], JWT_JWKS_CACHE_SEC
 *   when the response says nothing; then refreshed in the background (conditional on the ETag).
 * - Verification only ever reads the key set in hand. The one exception is a token whose `kid` no
 *   set holds: it waits for one refetch of the sets that were not fetched in the last
 *   JWT_JWKS_REFETCH_INTERVAL_MS (joining a fetch under way), so a forger cycling through made-up
 *   `kid`s costs each URL at most one request per interval, and a token from a key the provider
 *   just rotated in is accepted at once.
 * - A failed fetch (network, timeout, HTTP error, a body that is no usable key set) keeps the last
 *   good set: `livegate_jwks_stale{url} 1` and a warn line, and a retry after the refetch interval
 *   (doubling while it keeps failing, up to the cache lifetime).
 * - Key selection is jose's createLocalJWKSet: `kid`, `alg` (the JWK's, and its key type), `use`
 *   (`sig` only), `key_ops` (`verify`) and the curve are honoured.
 *
 * jose's createRemoteJWKSet is not used: it ignores caching headers, makes a request wait for
 * a refetch whenever its cache is older than its max age, and fails verification while the
 * provider is unreachable instead of keeping the last good keys.
 */
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { JwksFetchConfig } from '../../config.js';
import type { AuthMetrics } from './metrics.js';

export type FetchTrigger = 'start' | 'scheduled' | 'unknown_kid' | 'retry';

type KeyResult = Awaited<ReturnType<JWTVerifyGetKey>>;
type HeaderArg = Parameters<JWTVerifyGetKey>[0];
type TokenArg = Parameters<JWTVerifyGetKey>[1];

export interface JwksDeps {
  config: JwksFetchConfig;
  metrics: AuthMetrics;
  log: Logger;
  /** Injected in unit tests. */
  fetch?: typeof fetch;
  now?: () => number;
}

/** Largest JWKS body read (providers publish a few keys: a few KB). */
const MAX_BODY_BYTES = 1024 * 1024;

/** The cache lifetime a response asks for, in seconds, clamped to the configured bounds. */
export function cacheLifetimeSec(headers: Headers, config: Pick<JwksFetchConfig, 'cacheSec' | 'minCacheSec' | 'maxCacheSec'>, nowMs: number): number {
  const clamp = (sec: number): number => Math.min(config.maxCacheSec, Math.max(config.minCacheSec, Math.floor(sec)));
  const cacheControl = headers.get('cache-control');
  if (cacheControl) {
    const directives = new Map<string, string>();
    for (const part of cacheControl.split(',')) {
      const [name, value] = part.trim().split('=', 2) as [string, string | undefined];
      if (name) directives.set(name.toLowerCase(), (value ?? '').replace(/^"|"$/g, ''));
    }
    if (directives.has('no-store') || directives.has('no-cache')) return config.minCacheSec;
    const maxAge = directives.get('max-age');
    if (maxAge !== undefined && /^\d+$/.test(maxAge)) {
      const age = Number(headers.get('age') ?? '0');
      return clamp(Number(maxAge) - (Number.isFinite(age) && age > 0 ? age : 0));
    }
  }
  const expires = headers.get('expires');
  if (expires) {
    const at = Date.parse(expires);
    // An invalid date (e.g. "0") means already expired.
    if (Number.isNaN(at)) return config.minCacheSec;
    const date = Date.parse(headers.get('date') ?? '');
    return clamp((at - (Number.isNaN(date) ? nowMs : date)) / 1000);
  }
  return clamp(config.cacheSec);
}

/** `origin + path` of a URL: the metric label and log field (no query, no credentials). */
export function urlLabel(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

function isKeySet(body: unknown): body is JSONWebKeySet {
  if (typeof body !== 'object' || body === null) return false;
  const keys = (body as { keys?: unknown }).keys;
  return (
    Array.isArray(keys) &&
    keys.length > 0 &&
    keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k) && typeof (k as { kty?: unknown }).kty === 'string')
  );
}

const keyIds = (set: JSONWebKeySet): string =>
  set.keys
    .map((k) => k.kid ?? '')
    .sort()
    .join(',');

/** One JWKS URL: the key set in hand and its refresh schedule. */
export class RemoteKeySet {
  readonly label: string;
  private lookup: JWTVerifyGetKey | undefined;
  private ids = '';
  private keyCount = 0;
  private etag: string | undefined;
  /** Start of the last fetch, of any trigger (ms). */
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(
    readonly url: string,
    private readonly deps: JwksDeps,
  ) {
    this.label = urlLabel(url);
    this.fetchImpl = deps.fetch ?? fetch;
    this.now = deps.now ?? Date.now;
  }

  /** True once a key set was fetched (it stays in use while later fetches fail). */
  get loaded(): boolean {
    return this.lookup !== undefined;
  }

  /** The key for a token from the set in hand; JWKSNoMatchingKey when none fits (or no set yet). */
  async keyFor(header: HeaderArg, token: TokenArg): Promise<KeyResult> {
    if (!this.lookup) throw new joseErrors.JWKSNoMatchingKey();
    return this.lookup(header, token);
  }

  /** A fetch is under way, or the last one started at least the refetch interval ago. */
  mayRefetch(): boolean {
    return this.pending !== undefined || this.now() - this.lastFetchAt >= this.deps.config.refetchIntervalMs;
  }

  /** Fetches now, or joins the fetch under way. Never rejects. */
  refresh(trigger: FetchTrigger): Promise<void> {
    this.pending ??= this.fetchOnce(trigger).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(afterMs: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh(this.failures > 0 ? 'retry' : 'scheduled'), afterMs);
    this.timer.unref();
  }

  private async fetchOnce(trigger: FetchTrigger): Promise<void> {
    const { config, metrics, log } = this.deps;
    this.lastFetchAt = this.now();
    const url = this.label;
    try {
      const headers: Record<string, string> = { accept: 'application/json, application/jwk-set+json' };
      if (this.etag && this.lookup) headers['if-none-match'] = this.etag;
      const res = await this.fetchImpl(this.url, { headers, signal: AbortSignal.timeout(config.timeoutMs), redirect: 'follow' });
      const lifetimeSec = cacheLifetimeSec(res.headers, config, this.now());
      if (res.status === 304 && this.lookup) {
        await res.body?.cancel();
        metrics.jwksFetches.inc({ url, trigger, outcome: 'not_modified' });
      } else {
        if (!res.ok) {
          await res.body?.cancel();
          throw new Error(`HTTP ${res.status}`);
        }
        const declared = Number(res.headers.get('content-length') ?? '0');
        if (declared > MAX_BODY_BYTES) throw new Error(`body of ${declared} bytes exceeds ${MAX_BODY_BYTES}`);
        const text = await res.text();
        if (text.length > MAX_BODY_BYTES) throw new Error(`body exceeds ${MAX_BODY_BYTES} bytes`);
        const body: unknown = JSON.parse(text);
        if (!isKeySet(body)) throw new Error('response is not a JSON Web Key Set with at least one key');
        const lookup = createLocalJWKSet(body);
        const ids = keyIds(body);
        if (this.lookup && ids !== this.ids) {
          metrics.jwksRotations.inc({ url });
          log.info({ url, kids: ids, previous: this.ids }, 'JWKS key set rotated');
        }
        this.lookup = lookup;
        this.ids = ids;
        this.keyCount = body.keys.length;
        this.etag = res.headers.get('etag') ?? undefined;
        metrics.jwksFetches.inc({ url, trigger, outcome: 'ok' });
      }
      if (this.failures > 0) log.info({ url, failures: this.failures }, 'JWKS fetch recovered');
      this.failures = 0;
      metrics.jwksKeys.set({ url }, this.keyCount);
      metrics.jwksStale.set({ url }, 0);
      metrics.jwksLastSuccess.set({ url }, Math.floor(this.now() / 1000));
      this.schedule(lifetimeSec * 1000);
    } catch (err) {
      this.failures++;
      metrics.jwksFetches.inc({ url, trigger, outcome: 'error' });
      metrics.jwksStale.set({ url }, this.lookup ? 1 : 0);
      const reason = err instanceof Error ? err.message : String(err);
      if (this.lookup) log.warn({ url, trigger, reason, failures: this.failures, keys: this.keyCount }, 'JWKS fetch failed; keeping the last good key set');
      else log.warn({ url, trigger, reason, failures: this.failures }, 'JWKS fetch failed; no key set from this URL yet');
      const backoff = config.refetchIntervalMs * 2 ** Math.min(this.failures - 1, 20);
      this.schedule(Math.min(backoff, config.maxCacheSec * 1000, Math.max(config.refetchIntervalMs, config.cacheSec * 1000)));
    }
  }
}

/** Every configured JWKS URL behind one jose key function. */
export class RemoteKeySets {
  readonly sets: RemoteKeySet[];

  constructor(urls: string[], deps: JwksDeps) {
    this.sets = urls.map((url) => new RemoteKeySet(url, deps));
  }

  /** The first fetch of every URL (each bounded by JWT_JWKS_TIMEOUT_MS); a failure is retried in the background. */
  async start(): Promise<void> {
    await Promise.all(this.sets.map((s) => s.refresh('start')));
  }

  stop(): void {
    for (const set of this.sets) set.stop();
  }

  /** True when every URL has a key set (fetched now or earlier). */
  get loaded(): boolean {
    return this.sets.every((s) => s.loaded);
  }

  /** jose's key function: the sets in hand; one rate-limited refetch for a `kid` none of them holds. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const found = await this.lookup(header, token);
    if (found) return found;
    const due = this.sets.filter((s) => s.mayRefetch());
    if (due.length === 0) throw new joseErrors.JWKSNoMatchingKey();
    await Promise.all(due.map((s) => s.refresh('unknown_kid')));
    const again = await this.lookup(header, token, due);
    if (again) return again;
    throw new joseErrors.JWKSNoMatchingKey();
  };

  private async lookup(header: HeaderArg, token: TokenArg, sets: RemoteKeySet[] = this.sets): Promise<KeyResult | undefined> {
    for (const set of sets) {
      try {
        return await set.keyFor(header, token);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      }
    }
    return undefined;
  }
}
