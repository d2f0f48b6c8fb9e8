/**
 * Configuration comes only from environment variables, parsed and validated once at start.
 * Every variable is declared once, where loadConfig reads it; `configVariables()` lists them (the
 * README's table comes from it: `node dist/src/tools/config-table.js --write README.md`). An invalid value throws ConfigError naming it.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { WEBHOOK_TYPES, isWebhookType } from './kernel/webhooks.js';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
type Parser<T> = (raw: string, name: string) => T;

export interface VariableSpec {
  name: string;
  default: string | undefined;
  description: string;
}

function variable<T>(env: Env, name: string, fallback: string | undefined, description: string, parse: Parser<T>, seen?: VariableSpec[]): T | undefined {
  if (seen && !seen.some((v) => v.name === name)) seen.push({ name, default: fallback, description });
  const raw = env[name];
  const value = raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  return value === undefined ? undefined : parse(value, name);
}

const int =
  (min: number, max: number): Parser<number> =>
  (raw, name) => {
    if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `expected an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
    return n;
  };
const str: Parser<string> = (raw) => raw;
const oneOf =
  <T extends string>(...allowed: T[]): Parser<T> =>
  (raw, name) => {
    if (!(allowed as string[]).includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
    return raw as T;
  };
const urlList =
  (protocols: string[]): Parser<string[]> =>
  (raw, name) => {
    const urls = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const u of urls) {
      let parsed: URL;
      try {
        parsed = new URL(u);
      } catch {
        throw new ConfigError(name, `"${u}" is not a URL`);
      }
      if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `"${u}" must use ${protocols.join(' or ')}`);
    }
    if (urls.length === 0) throw new ConfigError(name, 'no URL given');
    return urls;
  };
const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const bool: Parser<boolean> = (raw, name) => {
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
};

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface ClaimMapping {
  /** Claim holding the user id (default `sub`). */
  userClaim: string;
  /** Claim holding the role: a string, or an array of strings (groups). */
  roleClaim: string;
  /** Role claim values that make an administrator. */
  adminRoles: string[];
  /** Role claim values that make a backend (service) credential. */
  serviceRoles: string[];
}

export interface JwtConfig {
  secret: string | undefined;
  publicKey: string | undefined;
  jwksFile: string | undefined;
  algorithms: string[];
  issuer: string | undefined;
  audience: string | undefined;
  /** Remote key sets (JWT_JWKS_URL), fetched and refreshed by src/gateway/auth/jwks.ts. */
  jwksUrls: string[];
  jwks: JwksFetchConfig;
  /** Seconds of clock skew allowed for `nbf`, `exp` and `iat`. */
  clockToleranceSec: number;
  claims: ClaimMapping;
}

export interface JwksFetchConfig {
  /** Cache lifetime when the response has no Cache-Control max-age or Expires. */
  cacheSec: number;
  /** Bounds of the cache lifetime a response may ask for. */
  minCacheSec: number;
  maxCacheSec: number;
  /** Least time between two fetches of one URL outside the schedule (unknown `kid`, retries). */
  refetchIntervalMs: number;
  timeoutMs: number;
}

export interface SessionConfig {
  /** How long before `exp` a connection is sent `session:expiring`. */
  expiringLeadMs: number;
  /** How long past `exp` a connection that did not refresh stays open. */
  expiryGraceMs: number;
  /** How long a revocation is kept: the longest lifetime of an accepted token. */
  revocationTtlSec: number;
}

export interface RateLimit {
  perSecond: number;
  burst: number;
}

export interface Config {
  port: number;
  host: string;
  nodeId: string;
  logLevel: LogLevel;
  jwt: JwtConfig;
  sessions: SessionConfig;
  redisUrls: string[];
  mongoUrl: string | undefined;
  mongoDb: string;
  ws: {
    maxPayload: number;
    idleTimeoutSec: number;
    maxBackpressure: number;
    slowConsumerGraceMs: number;
  };
  socketIo: {
    pingIntervalMs: number;
    pingTimeoutMs: number;
    /** Largest frame on the Socket.IO route (text packet or one binary attachment). */
    maxPayload: number;
    /** Most binary attachments one packet may declare (checked before any is buffered). */
    maxAttachments: number;
    /** Most bytes all attachments of one packet may add up to. */
    maxAttachmentBytes: number;
    /** How long a disconnected client's session stays recoverable (connection state recovery). */
    recoveryWindowMs: number;
  };
  rateLimit: { connection: RateLimit; user: RateLimit };
  http: { maxBody: number; corsOrigins: string[]; rateLimit: RateLimit; trustProxy: boolean };
  rooms: { historySize: number; historyTtlSec: number };
  /** Hot rooms (docs/events/livestream.md "Hot rooms"): keyed state, chat budget, join summaries. */
  hotRooms: HotRoomsConfig;
  cluster: { heartbeatMs: number; nodeTtlMs: number };
  shutdownTimeoutMs: number;
  serviceApiKeys: string[];
  devPayments: boolean;
  devTokens: boolean;
  demo: boolean;
  auth: { accessTtlSec: number; refreshTtlSec: number };
  scheduler: { pollMs: number };
  chat: { messageCacheSec: number; conversationCacheSec: number };
  calls: CallsConfig;
  writeQueue: { stream: string; batchSize: number; maxBulkOps: number; claimIdleMs: number; flushMs: number; maxBackoffMs: number; writeTimeoutMs: number };
  benchMode: boolean;
  money: {
    idempotencyTtlSec: number;
    outboxGraceMs: number;
    outboxSweepMs: number;
    giftCoalesceMs: number;
    giftComboWindowMs: number;
    giftBatchMax: number;
    catalogRefreshMs: number;
    pkPollMs: number;
    pkScoreIntervalMs: number;
    pkInviteTtlSec: number;
    shoppingOrdersPerMinute: number;
    /** What the node requires of the data Redis before it serves money (docs/MONEY.md). */
    durability: MoneyDurability;
    reloadFenceMs: number;
  };
  bridge: BridgeConfig;
  webhooks: WebhookConfig;
  proxy: ProxyConfig;
  compat: CompatConfig;
  overload: OverloadConfig;
}

/** Priority lanes, node pressure and admission control (docs/PROTOCOL.md, "Priority lanes and overload"). */
export interface OverloadConfig {
  /** How often socket buffers are checked and node pressure is recomputed. */
  checkMs: number;
  /** Buffered bytes above which a socket leaves its uWS topics and gets room frames one by one, shed by lane. */
  watchBytes: number;
  /** Buffered bytes above which ambient room frames to a socket are skipped. */
  ambientMaxBytes: number;
  /** Buffered bytes above which chat room frames to a socket are skipped. */
  chatMaxBytes: number;
  /** Event-loop delay (p99 of the last window, ms) at which the node is `elevated` / `critical`. */
  lagElevatedMs: number;
  lagCriticalMs: number;
  /** Bytes buffered over all sockets of the node at which it is `elevated` / `critical`. */
  bufferedElevatedBytes: number;
  bufferedCriticalBytes: number;
  /** The base of `retryAfterMs` of a refused publish (jittered up to twice it). */
  retryAfterMs: number;
  /** New WebSocket connections admitted per second (token bucket refill) and the bucket size. */
  admitPerSec: number;
  admitBurst: number;
  /** The least retry-after of a refused connection, and its jitter (see Gateway.admit). */
  admitRetryAfterMs: number;
}

export interface HotRoomsConfig {
  /** Least time between two frames of one keyed room state (per room, per key, cluster-wide). */
  stateIntervalMs: number;
  /** Entries in `livestream:top_supporters`. */
  topSupporters: number;
  /** Chat lines a stream room broadcasts per window (cluster-wide) before it samples. */
  chatBudget: number;
  chatWindowMs: number;
  /** Viewers from which a stream's joins and leaves go out as summaries. */
  joinSummaryThreshold: number;
  /** Period of the join/leave summaries. */
  joinSummaryIntervalMs: number;
  /** Most notable users named in one summary. */
  joinSummaryNotableMax: number;
}

export interface ProxyConfig {
  /** The backend endpoint; the proxy is off without it. */
  url: string | undefined;
  secret: string | undefined;
  /** Event names (`custom_event`) and prefixes (`app:*`; `*` alone: every unregistered event). */
  events: string[];
  timeoutMs: number;
  concurrency: number;
  maxReplyBytes: number;
  breakerFailures: number;
  breakerOpenMs: number;
}

export interface CompatConfig {
  /** Also send `user_online` / `user_offline` (bare user id) beside `presence:update` (seed 004 clients). */
  userPresenceEvents: boolean;
}

export interface CallsConfig {
  /** How long a call rings before the unanswered callees count as missed. */
  ringTimeoutMs: number;
  /** How long a party whose device in the call disconnected may come back before the call ends for them. */
  reconnectGraceMs: number;
  /** Most parties in one call (caller included); calls are a mesh. */
  maxParties: number;
  /** Largest `data` of one `call:signal`, in bytes of JSON. */
  signalMaxBytes: number;
  /** `call:signal` rate per connection: refill per second and burst. */
  signalPerSec: number;
  signalBurst: number;
  /** How often each node looks for due call timers (ring timeout, reconnect grace). */
  sweepMs: number;
  /** TURN REST-API shared secret (coturn `static-auth-secret`); unset: only STUN URLs are handed out. */
  turnSecret: string | undefined;
  turnUrls: string[];
  stunUrls: string[];
  /** Lifetime of a TURN credential. */
  turnTtlMs: number;
}

export interface BridgeConfig {
  /** Largest `data` of one server publish, in bytes of JSON. */
  maxEventBytes: number;
  /** Most publishes in one batch request. */
  maxBatch: number;
  /** How long a cluster query (presence, occupancy) waits for the other nodes. */
  queryTimeoutMs: number;
  /** Accept events written by @socket.io/redis-emitter (only with REDIS_URL). */
  emitter: boolean;
  /** The emitter's `key` option (channel prefix). */
  emitterKey: string;
  /** Emitter room prefixes that mean "this user" (`<prefix><userId>` -> the user room). */
  emitterUserPrefixes: string[];
}

export interface WebhookConfig {
  /** Default receiver; webhooks are off when neither this nor a per-type URL is set. */
  url: string | undefined;
  secret: string | undefined;
  /** Event types to deliver; empty = all. */
  events: string[];
  /** Per-type receivers (`type=url`). */
  urls: Record<string, string>;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  queueMax: number;
  concurrency: number;
}

const WS_MAX_BACKPRESSURE_DEFAULT = '1048576';

export function loadConfig(env: Env = process.env, seen?: VariableSpec[]): Config {
  const v = <T>(name: string, fallback: string | undefined, description: string, parse: Parser<T>) => variable(env, name, fallback, description, parse, seen);

  const jwt: JwtConfig = {
    secret: v(
      'JWT_SECRET',
      undefined,
      'HS256 shared secret (at least 32 characters). One of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_FILE, JWT_JWKS_URL is required.',
      (raw, name) => {
        if (raw.length < 32) throw new ConfigError(name, 'must be at least 32 characters');
        return raw;
      },
    ),
    publicKey: v('JWT_PUBLIC_KEY', undefined, 'PEM public key (SPKI) for RS256/ES256 tokens; literal PEM text with \\n escapes allowed.', (raw) =>
      raw.replace(/\\n/g, '\n'),
    ),
    jwksFile: v('JWT_JWKS_FILE', undefined, 'Path to a JSON Web Key Set file for RS256/ES256 tokens.', str),
    algorithms: v('JWT_ALGORITHMS', undefined, 'Accepted algorithms (comma list). Default: HS256 with a secret, RS256,ES256 with a key.', list) ?? [],
    issuer: v('JWT_ISSUER', undefined, 'Required `iss` claim, if set.', str),
    audience: v('JWT_AUDIENCE', undefined, 'Required `aud` claim, if set.', str),
    jwksUrls:
      v(
        'JWT_JWKS_URL',
        undefined,
        'JWKS URL of the identity provider, or a comma list (keys fetched at start, cached per Cache-Control, refreshed in the background; docs/AUTH.md).',
        urlList(['https:', 'http:']),
      ) ?? [],
    jwks: {
      cacheSec: v(
        'JWT_JWKS_CACHE_SEC',
        '600',
        'How long a fetched key set is used before a background refresh, when the response has no Cache-Control max-age or Expires.',
        int(1, 7 * 86_400),
      )!,
      minCacheSec: v('JWT_JWKS_MIN_CACHE_SEC', '60', 'Shortest cache lifetime a JWKS response may ask for (no-cache or max-age=0 mean this).', int(1, 86_400))!,
      maxCacheSec: v('JWT_JWKS_MAX_CACHE_SEC', '86400', 'Longest cache lifetime a JWKS response may ask for.', int(1, 30 * 86_400))!,
      refetchIntervalMs: v(
        'JWT_JWKS_REFETCH_INTERVAL_MS',
        '30000',
        'Least time between two unscheduled fetches of one JWKS URL (a token with an unknown `kid`, a retry while the provider is down).',
        int(100, 3_600_000),
      )!,
      timeoutMs: v('JWT_JWKS_TIMEOUT_MS', '5000', 'Timeout of one JWKS fetch.', int(100, 60_000))!,
    },
    clockToleranceSec: v(
      'JWT_CLOCK_TOLERANCE_SEC',
      '30',
      'Clock skew allowed between the token issuer and this node for `nbf`, `exp` and `iat` (an `iat` further in the future is refused).',
      int(0, 600),
    )!,
    claims: {
      userClaim: v(
        'JWT_USER_CLAIM',
        'sub',
        'Claim holding the user id: a name, or a dotted path into nested claims (e.g. `https://app.example.com/user_id`, `app_metadata.uid`).',
        str,
      )!,
      roleClaim: v('JWT_ROLE_CLAIM', 'role', 'Claim holding the role, a string or an array of groups (e.g. `cognito:groups`, `app_metadata.role`).', str)!,
      adminRoles: v('JWT_ADMIN_ROLES', 'admin', 'Role claim values (comma list) that make an administrator.', list) ?? [],
      serviceRoles: v('JWT_SERVICE_ROLES', 'service', 'Role claim values (comma list) that make a backend (service) credential.', list) ?? [],
    },
  };
  if (!jwt.secret && !jwt.publicKey && !jwt.jwksFile && jwt.jwksUrls.length === 0) {
    throw new ConfigError('JWT_SECRET', 'one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_FILE or JWT_JWKS_URL must be set');
  }
  if (jwt.jwks.minCacheSec > jwt.jwks.maxCacheSec) {
    throw new ConfigError('JWT_JWKS_MIN_CACHE_SEC', `must not exceed JWT_JWKS_MAX_CACHE_SEC (${jwt.jwks.maxCacheSec}), got ${jwt.jwks.minCacheSec}`);
  }
  if (jwt.algorithms.length === 0) jwt.algorithms = jwt.secret ? ['HS256'] : ['RS256', 'ES256'];
  for (const alg of jwt.algorithms) {
    if (!['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256'].includes(alg)) {
      throw new ConfigError('JWT_ALGORITHMS', `unsupported algorithm "${alg}"`);
    }
  }

  // Read ahead (unregistered: its row stays with the ws variables below) for the lane thresholds' defaults.
  const maxBackpressure = variable(env, 'WS_MAX_BACKPRESSURE', WS_MAX_BACKPRESSURE_DEFAULT, '', int(16 * 1024, 256 * 1024 * 1024))!;
  const config: Config = {
    port: v('PORT', '8080', 'HTTP and WebSocket port (0 picks a free port; the chosen one is logged).', int(0, 65535))!,
    host: v('HOST', '0.0.0.0', 'Address to listen on.', str)!,
    nodeId:
      v('NODE_ID', undefined, "This node's name in the cluster, logs and metrics. Default: `<hostname>-<random hex>`.", (raw, name) => {
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(raw)) throw new ConfigError(name, 'use 1-64 letters, digits, dot, dash or underscore');
        return raw;
      }) ?? `${hostname()}-${randomBytes(3).toString('hex')}`,
    logLevel: v(
      'LOG_LEVEL',
      'info',
      'pino level: fatal, error, warn, info, debug, trace, silent.',
      oneOf<LogLevel>('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
    )!,
    jwt,
    sessions: {
      expiringLeadMs: v(
        'SESSION_EXPIRING_LEAD_MS',
        '60000',
        "How long before its token's `exp` a connection is sent `session:expiring` (answer with `session:refresh`).",
        int(0, 86_400_000),
      )!,
      expiryGraceMs: v(
        'SESSION_EXPIRY_GRACE_MS',
        '30000',
        "How long past its token's `exp` a connection that did not refresh stays open before it is closed with 4104.",
        int(0, 86_400_000),
      )!,
      revocationTtlSec: v(
        'SESSION_REVOCATION_TTL_SEC',
        '86400',
        'How long a revocation (POST /api/server/users/:userId/revoke) is kept; at least the longest lifetime of the tokens you accept.',
        int(60, 365 * 86_400),
      )!,
    },
    redisUrls:
      v(
        'REDIS_URL',
        undefined,
        'Redis URL, or a comma list of URLs used as pub/sub shards. Unset: single node, in-process bus.',
        urlList(['redis:', 'rediss:']),
      ) ?? [],
    mongoUrl: v('MONGO_URL', undefined, 'MongoDB connection string (system of record).', urlList(['mongodb:', 'mongodb+srv:']))?.[0],
    mongoDb: v('MONGO_DB', 'livegate', 'MongoDB database name.', str)!,
    ws: {
      maxPayload: v(
        'WS_MAX_PAYLOAD',
        '65536',
        'Largest accepted WebSocket frame in bytes; larger frames close the socket with 1009.',
        int(1024, 16 * 1024 * 1024),
      )!,
      idleTimeoutSec: v('WS_IDLE_TIMEOUT', '60', 'Seconds without traffic before a native socket is closed (pings are sent automatically).', int(8, 960))!,
      maxBackpressure: v(
        'WS_MAX_BACKPRESSURE',
        WS_MAX_BACKPRESSURE_DEFAULT,
        'Bytes buffered for one socket before frames to it are dropped (slow-consumer policy).',
        int(16 * 1024, 256 * 1024 * 1024),
      )!,
      slowConsumerGraceMs: v(
        'WS_SLOW_CONSUMER_GRACE_MS',
        '5000',
        'How long a socket may stay over WS_MAX_BACKPRESSURE before it is closed with 4008.',
        int(0, 600_000),
      )!,
    },
    socketIo: {
      pingIntervalMs: v('SIO_PING_INTERVAL_MS', '25000', 'Engine.IO ping interval for the Socket.IO dialect.', int(1000, 300_000))!,
      pingTimeoutMs: v('SIO_PING_TIMEOUT_MS', '20000', 'Engine.IO ping timeout for the Socket.IO dialect.', int(1000, 300_000))!,
      maxPayload: v(
        'SIO_MAX_PAYLOAD',
        '1000000',
        'Largest frame on the Socket.IO route in bytes (Socket.IO maxHttpBufferSize); larger ones get a payload_too_large error.',
        int(1024, 64 * 1024 * 1024),
      )!,
      maxAttachments: v('SIO_MAX_ATTACHMENTS', '10', 'Most binary attachments one Socket.IO packet may declare (checked before buffering).', int(0, 1000))!,
      maxAttachmentBytes: v(
        'SIO_MAX_ATTACHMENT_BYTES',
        '1000000',
        'Most bytes all binary attachments of one Socket.IO packet may add up to.',
        int(1024, 256 * 1024 * 1024),
      )!,
      recoveryWindowMs: v(
        'SIO_RECOVERY_WINDOW_MS',
        '120000',
        'How long a disconnected Socket.IO session stays recoverable (connection state recovery: pid and offset).',
        int(1000, 86_400_000),
      )!,
    },
    rateLimit: {
      connection: {
        perSecond: v('RATE_LIMIT_CONN_PER_SEC', '50', 'Requests per second one connection may send (token bucket refill).', int(1, 1_000_000))!,
        burst: v('RATE_LIMIT_CONN_BURST', '100', 'Token bucket size per connection.', int(1, 1_000_000))!,
      },
      user: {
        perSecond: v('RATE_LIMIT_USER_PER_SEC', '100', 'Requests per second one user may send over all their connections on a node.', int(1, 1_000_000))!,
        burst: v('RATE_LIMIT_USER_BURST', '200', 'Token bucket size per user.', int(1, 1_000_000))!,
      },
    },
    http: {
      maxBody: v('HTTP_MAX_BODY', '1048576', 'Largest accepted HTTP request body in bytes (413 beyond).', int(1024, 64 * 1024 * 1024))!,
      corsOrigins: v('CORS_ORIGINS', '', 'Comma list of allowed CORS origins, or * for any. Empty: no CORS headers.', list) ?? [],
      trustProxy: v(
        'TRUST_PROXY',
        'false',
        'Behind a reverse proxy that appends X-Forwarded-For (the compose entry point): the last entry is the client address for the anonymous HTTP rate limit. Never when clients reach the node directly.',
        bool,
      )!,
      rateLimit: {
        perSecond: v(
          'HTTP_RATE_LIMIT_PER_SEC',
          '20',
          'HTTP requests per second per user (per client address when anonymous) on one node; 429 beyond.',
          int(1, 1_000_000),
        )!,
        burst: v('HTTP_RATE_LIMIT_BURST', '60', 'HTTP token bucket size per user or address.', int(1, 1_000_000))!,
      },
    },
    rooms: {
      historySize: v('ROOM_HISTORY_SIZE', '200', 'Recent events kept per room for resume (older resumes get room:gap).', int(1, 100_000))!,
      historyTtlSec: v(
        'ROOM_HISTORY_TTL_SEC',
        '86400',
        'Seconds an idle room keeps its seq counter and history (in Redis, or in process memory without REDIS_URL).',
        int(10, 30 * 86400),
      )!,
    },
    hotRooms: {
      stateIntervalMs: v(
        'ROOM_STATE_INTERVAL_MS',
        '250',
        'Least time between two frames of one keyed room state (viewer count, gift totals, top supporters, stream settings), per room and key, cluster-wide (250 = 4/s); the latest value always goes out.',
        int(20, 60_000),
      )!,
      topSupporters: v('ROOM_TOP_SUPPORTERS', '10', "Entries in a stream room's `livestream:top_supporters` frame.", int(1, 100))!,
      chatBudget: v(
        'ROOM_CHAT_BUDGET',
        '100',
        'Chat lines a stream room broadcasts per ROOM_CHAT_WINDOW_MS, cluster-wide (100 per 1000 ms = 100/s); above it lines are sampled fairly across senders (the sender gets `broadcast: false`).',
        int(1, 10_000_000),
      )!,
      chatWindowMs: v('ROOM_CHAT_WINDOW_MS', '1000', 'The window of the room chat budget (aligned to the Redis clock).', int(100, 3_600_000))!,
      joinSummaryThreshold: v(
        'ROOM_JOIN_SUMMARY_THRESHOLD',
        '200',
        'Viewers from which a stream room gets its joins and leaves as periodic `livestream:presence_summary` frames instead of one frame per viewer.',
        int(1, 10_000_000),
      )!,
      joinSummaryIntervalMs: v(
        'ROOM_JOIN_SUMMARY_INTERVAL_MS',
        '2000',
        'Period of the join/leave summaries of a large stream room, cluster-wide.',
        int(100, 60_000),
      )!,
      joinSummaryNotableMax: v(
        'ROOM_JOIN_SUMMARY_NOTABLE_MAX',
        '10',
        'Most notable users (followers or top supporters) named in one join summary.',
        int(0, 100),
      )!,
    },
    cluster: {
      heartbeatMs: v('NODE_HEARTBEAT_MS', '1000', 'How often a node renews its heartbeat and reaps dead nodes (viewer counts, presence).', int(100, 60_000))!,
      nodeTtlMs: v('NODE_TTL_MS', '4000', 'A node whose heartbeat is older than this is dead: its viewers and devices are removed.', int(500, 300_000))!,
    },
    shutdownTimeoutMs: v('SHUTDOWN_TIMEOUT_MS', '10000', 'Upper bound for graceful shutdown before the process exits anyway.', int(100, 300_000))!,
    serviceApiKeys: v('SERVICE_API_KEYS', '', 'Comma list of API keys for the server publish API (backend to livegate).', list) ?? [],
    auth: {
      accessTtlSec: v('AUTH_ACCESS_TTL_SEC', '900', 'Lifetime of access tokens issued by /api/auth (seconds).', int(30, 86_400))!,
      refreshTtlSec: v(
        'AUTH_REFRESH_TTL_SEC',
        '2592000',
        'Lifetime of refresh tokens issued by /api/auth (seconds; each use rotates the token).',
        int(60, 365 * 86_400),
      )!,
    },
    scheduler: {
      pollMs: v(
        'SCHEDULER_POLL_MS',
        '5000',
        'How often each node looks for scheduled content that is due (0 disables the poller on this node).',
        int(0, 3_600_000),
      )!,
    },
    devPayments: v('DEV_PAYMENTS', 'false', 'Enable the development payment provider (fake top-ups). Never in production.', bool)!,
    devTokens: v(
      'DEV_TOKENS',
      'false',
      'Enable POST /api/dev/token, which signs an HS256 token for any user id without a password (demo sign-in). Never in production.',
      bool,
    )!,
    demo: v(
      'DEMO',
      'false',
      'Serve the live-room demo page at /demo/ (built by npm run build; signs in through DEV_TOKENS). `npm start` turns it on; off in production.',
      bool,
    )!,
    bridge: {
      maxEventBytes: v(
        'BRIDGE_MAX_EVENT_BYTES',
        '65536',
        'Largest `data` (JSON bytes) of one server publish; larger is refused with 413.',
        int(64, 16 * 1024 * 1024),
      )!,
      maxBatch: v('BRIDGE_MAX_BATCH', '500', 'Most publishes in one batch request to /api/server/publish/batch.', int(1, 100_000))!,
      queryTimeoutMs: v(
        'BRIDGE_QUERY_TIMEOUT_MS',
        '1000',
        'How long a server-API cluster command (join/leave, disconnect, presence, occupancy) waits for the other nodes.',
        int(50, 60_000),
      )!,
      emitter: v('BRIDGE_EMITTER', 'true', 'With REDIS_URL: deliver events written by @socket.io/redis-emitter to livegate clients.', bool)!,
      emitterKey: v('BRIDGE_EMITTER_KEY', 'socket.io', 'The redis-emitter `key` option (Redis channel prefix) to listen to.', str)!,
      emitterUserPrefixes:
        v(
          'BRIDGE_EMITTER_USER_PREFIXES',
          'user:,notifications:',
          'Emitter room prefixes that address one user: `io.to("notifications:42")` reaches user 42\'s room.',
          list,
        ) ?? [],
    },
    webhooks: loadWebhookConfig(v),
    proxy: loadProxyConfig(v),
    overload: loadOverloadConfig(v, maxBackpressure),
    compat: {
      userPresenceEvents: v(
        'COMPAT_USER_PRESENCE_EVENTS',
        'false',
        'Also publish `user_online` / `user_offline` (payload: the bare user id) to presence rooms beside `presence:update`, for clients written for seed 004 (docs/events/compat.md).',
        bool,
      )!,
    },
    chat: {
      messageCacheSec: v(
        'CHAT_MESSAGE_CACHE_SEC',
        '259200',
        'How long a message stays in Redis for edits, reactions and retried sends (older ones are reloaded from MongoDB).',
        int(60, 90 * 86_400),
      )!,
      conversationCacheSec: v(
        'CHAT_CONVERSATION_CACHE_SEC',
        '604800',
        "How long an idle conversation's hot state (members, unread counts) stays in Redis.",
        int(60, 365 * 86_400),
      )!,
    },
    calls: {
      ringTimeoutMs: v(
        'CALL_RING_TIMEOUT_MS',
        '30000',
        'How long a call rings before the callees who did not answer count as missed (call ends `no_answer` if none did).',
        int(1000, 600_000),
      )!,
      reconnectGraceMs: v(
        'CALL_RECONNECT_GRACE_MS',
        '15000',
        'How long a party whose device in the call disconnected may re-attach (call:accept from any of their devices) before the call ends for them.',
        int(500, 600_000),
      )!,
      maxParties: v('CALL_MAX_PARTIES', '4', 'Most parties in one call, caller included (group calls are a mesh of peer connections).', int(2, 16))!,
      signalMaxBytes: v('CALL_SIGNAL_MAX_BYTES', '32768', 'Largest `data` of one call:signal (SDP, ICE candidate), in bytes of JSON.', int(256, 1024 * 1024))!,
      signalPerSec: v('CALL_SIGNAL_PER_SEC', '20', 'call:signal messages per second per connection (token bucket refill).', int(1, 10_000))!,
      signalBurst: v('CALL_SIGNAL_BURST', '100', 'call:signal burst per connection (ICE candidates arrive in bursts).', int(1, 100_000))!,
      sweepMs: v('CALL_SWEEP_MS', '250', 'How often each node claims the due call timers (ring timeout, reconnect grace) shared in Redis.', int(20, 10_000))!,
      turnSecret: v(
        'TURN_SECRET',
        undefined,
        'Shared secret of the TURN server (coturn `use-auth-secret` / `static-auth-secret`) for time-limited credentials.',
        str,
      ),
      turnUrls:
        v(
          'TURN_URLS',
          undefined,
          'TURN server URLs handed to clients (comma list), e.g. `turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349`.',
          urlList(['turn:', 'turns:']),
        ) ?? [],
      stunUrls:
        v('STUN_URLS', undefined, 'STUN server URLs handed to clients (comma list), e.g. `stun:stun.example.com:3478`.', urlList(['stun:', 'stuns:'])) ?? [],
      turnTtlMs: v('TURN_TTL_MS', '86400000', 'Lifetime of a TURN credential (the `expiry` in its username).', int(60_000, 7 * 86_400_000))!,
    },
    writeQueue: {
      stream: v('WRITE_QUEUE_STREAM', 'livegate:writes', 'Redis Stream key of the durable MongoDB write queue (shared by all nodes).', str)!,
      batchSize: v('WRITE_BATCH_SIZE', '500', 'Most queue entries the writer reads and applies as one batch (acknowledged together).', int(1, 10_000))!,
      maxBulkOps: v(
        'WRITE_MAX_BULK_OPS',
        '50',
        'Most ops in one MongoDB bulk write: a batch is sent per collection in chunks of this size, one after the other (FerretDB 1.24 deadlocks on an update of more than ~100 statements).',
        int(1, 10_000),
      )!,
      claimIdleMs: v(
        'WRITE_CLAIM_IDLE_MS',
        '30000',
        'A queued write left unacknowledged this long by a crashed writer is taken over by another node.',
        int(100, 3_600_000),
      )!,
      flushMs: v('WRITE_FLUSH_MS', '5000', 'At shutdown, how long the writer keeps applying queued writes before it exits.', int(0, 300_000))!,
      maxBackoffMs: v('WRITE_MAX_BACKOFF_MS', '5000', 'Longest pause between write attempts while MongoDB is unreachable.', int(10, 300_000))!,
      writeTimeoutMs: v('WRITE_TIMEOUT_MS', '10000', 'Upper bound for one bulk write; a write that takes longer is abandoned and retried.', int(100, 600_000))!,
    },
    benchMode: v(
      'BENCH_MODE',
      'false',
      'Enable the benchmark-only events bench:join / bench:publish and POST /api/bench/echo (bench/). Never in production.',
      bool,
    )!,
    money: {
      idempotencyTtlSec: v(
        'MONEY_IDEMPOTENCY_TTL_SEC',
        '604800',
        'How long a gift/credit idempotency key is remembered (a replay inside it returns the first result).',
        int(60, 90 * 86400),
      )!,
      outboxGraceMs: v(
        'MONEY_OUTBOX_GRACE_MS',
        '5000',
        'After this long, a money record whose writes were not confirmed queued is re-queued by any node.',
        int(500, 600_000),
      )!,
      outboxSweepMs: v('MONEY_OUTBOX_SWEEP_MS', '1000', 'How often each node looks for overdue money outbox entries.', int(50, 60_000))!,
      giftCoalesceMs: v('GIFT_COALESCE_MS', '150', 'Tick of the gift:sent coalescer: one frame per tick per sender and gift.', int(10, 5000))!,
      giftBatchMax: v(
        'GIFT_BATCH_MAX',
        '256',
        'Most gift:send requests applied by one gift-send.lua call; the sends that arrive while a batch is in Redis form the next one.',
        int(1, 1000),
      )!,
      giftComboWindowMs: v(
        'GIFT_COMBO_WINDOW_MS',
        '3000',
        'Longest gap between sends of one gift by one sender that still continues a combo.',
        int(100, 60_000),
      )!,
      catalogRefreshMs: v(
        'CATALOG_REFRESH_MS',
        '5000',
        'How often nodes check catalog:version in Redis and reload the catalogue when it changed.',
        int(100, 3_600_000),
      )!,
      pkPollMs: v('PK_POLL_MS', '250', 'How often each node checks for PK battles due to end.', int(20, 10_000))!,
      pkScoreIntervalMs: v(
        'PK_SCORE_INTERVAL_MS',
        '200',
        'Least time between two pk_battle:score frames of one battle in one room, cluster-wide (200 = 5/s); keyed room state like ROOM_STATE_INTERVAL_MS.',
        int(50, 10_000),
      )!,
      pkInviteTtlSec: v('PK_INVITE_TTL_SEC', '60', 'How long a PK invitation waits for an answer.', int(5, 3600))!,
      shoppingOrdersPerMinute: v(
        'SHOPPING_ORDERS_PER_MINUTE',
        '10',
        'Most new live-shopping orders one viewer may place in one stream per minute, cluster-wide (retries of a placed order do not count).',
        int(1, 10_000),
      )!,
      durability: v(
        'MONEY_DURABILITY',
        'aof',
        'aof: serve money only on a Redis that fsyncs every write to its append-only file (appendonly yes, appendfsync always, no eviction), checked at start and on every reconnect; none: serve it on any Redis, accepting that acked money operations are lost with Redis data (development, tests). docs/MONEY.md.',
        oneOf<MoneyDurability>('aof', 'none'),
      )!,
      reloadFenceMs: v(
        'MONEY_RELOAD_FENCE_MS',
        '11000',
        'With MONEY_DURABILITY=none: a wallet is reloaded from MongoDB only once Redis has been up this long, so no write read from a lost Redis can still land; keep it above WRITE_TIMEOUT_MS + 1000.',
        int(0, 600_000),
      )!,
    },
  };
  const { watchBytes, ambientMaxBytes, chatMaxBytes } = config.overload;
  if (!(watchBytes <= ambientMaxBytes && ambientMaxBytes <= chatMaxBytes && chatMaxBytes < config.ws.maxBackpressure)) {
    throw new ConfigError(
      'LANE_CHAT_MAX_BYTES',
      `need LANE_WATCH_BYTES <= LANE_AMBIENT_MAX_BYTES <= LANE_CHAT_MAX_BYTES < WS_MAX_BACKPRESSURE, got ${watchBytes}, ${ambientMaxBytes}, ${chatMaxBytes}, ${config.ws.maxBackpressure}`,
    );
  }
  if (config.cluster.nodeTtlMs < 2 * config.cluster.heartbeatMs) {
    throw new ConfigError('NODE_TTL_MS', `must be at least twice NODE_HEARTBEAT_MS (${config.cluster.heartbeatMs}), got ${config.cluster.nodeTtlMs}`);
  }
  return config;
}

export type MoneyDurability = 'aof' | 'none';

type V = <T>(name: string, fallback: string | undefined, description: string, parse: Parser<T>) => T | undefined;

function loadWebhookConfig(v: V): WebhookConfig {
  const url = v(
    'WEBHOOK_URL',
    undefined,
    'Receiver of outbound webhooks (http or https). Unset, and no WEBHOOK_URLS: webhooks are off.',
    urlList(['http:', 'https:']),
  )?.[0];
  const urls =
    v('WEBHOOK_URLS', '', 'Per-type receivers overriding WEBHOOK_URL, comma list of `type=url` (e.g. `gift.sent=https://pay.example/hooks`).', typeUrls) ?? {};
  const secret = v(
    'WEBHOOK_SECRET',
    undefined,
    'HMAC-SHA256 key signing webhook bodies (at least 16 characters); required when webhooks are on.',
    (raw, name) => {
      if (raw.length < 16) throw new ConfigError(name, 'must be at least 16 characters');
      return raw;
    },
  );
  if ((url || Object.keys(urls).length > 0) && !secret) throw new ConfigError('WEBHOOK_SECRET', 'must be set when WEBHOOK_URL or WEBHOOK_URLS is set');
  return {
    url,
    secret,
    urls,
    events: v('WEBHOOK_EVENTS', '', 'Comma list of webhook event types to deliver (see docs/BRIDGE.md). Empty: all types.', webhookTypes) ?? [],
    timeoutMs: v('WEBHOOK_TIMEOUT_MS', '5000', 'Timeout of one webhook delivery attempt.', int(100, 120_000))!,
    retryBaseMs: v('WEBHOOK_RETRY_BASE_MS', '1000', 'First retry delay of a failed webhook delivery; doubles per attempt (with jitter).', int(10, 3_600_000))!,
    retryMaxMs: v('WEBHOOK_RETRY_MAX_MS', '60000', 'Upper bound of the webhook retry delay.', int(10, 3_600_000))!,
    maxAttempts: v(
      'WEBHOOK_MAX_ATTEMPTS',
      '30',
      'Attempts before a webhook is moved to the dead-letter stream (about 25 minutes with the defaults).',
      int(1, 10_000),
    )!,
    queueMax: v(
      'WEBHOOK_QUEUE_MAX',
      '100000',
      'Most undelivered webhooks kept; beyond it new ones are refused and counted (livegate_webhook_emitted_total{outcome="queue_full"}).',
      int(10, 100_000_000),
    )!,
    concurrency: v('WEBHOOK_CONCURRENCY', '16', 'Deliveries in flight at once (each event source has at most one).', int(1, 1024))!,
  };
}

/** Lane thresholds default to fractions of WS_MAX_BACKPRESSURE (1/64, 1/16, 1/4: 16, 64, 256 KB at its default). */
function loadOverloadConfig(v: V, maxBackpressure: number): OverloadConfig {
  const bytes = int(0, 4 * 1024 * 1024 * 1024);
  const part = (divisor: number): string => String(Math.floor(maxBackpressure / divisor));
  return {
    checkMs: v('LANE_CHECK_MS', '100', 'How often socket send buffers are checked (lanes, skip markers) and node pressure is recomputed.', int(10, 10_000))!,
    watchBytes: v(
      'LANE_WATCH_BYTES',
      part(64),
      'Send-buffer bytes above which a socket leaves its uWS room topics and gets room frames one by one, shed by lane, until its buffer drains below it (default WS_MAX_BACKPRESSURE / 64).',
      bytes,
    )!,
    ambientMaxBytes: v(
      'LANE_AMBIENT_MAX_BYTES',
      part(16),
      'Send-buffer bytes above which ambient room frames (viewer counts, typing, presence) to a socket are skipped (default WS_MAX_BACKPRESSURE / 16).',
      bytes,
    )!,
    chatMaxBytes: v(
      'LANE_CHAT_MAX_BYTES',
      part(4),
      'Send-buffer bytes above which chat room frames to a socket are skipped (default WS_MAX_BACKPRESSURE / 4; control and money frames are never skipped).',
      bytes,
    )!,
    lagElevatedMs: v(
      'PRESSURE_LAG_ELEVATED_MS',
      '50',
      'Event-loop delay (p99 over LANE_CHECK_MS windows) at which the node is elevated: ambient publishes refused, ambient frames shed.',
      int(0, 60_000),
    )!,
    lagCriticalMs: v(
      'PRESSURE_LAG_CRITICAL_MS',
      '200',
      'Event-loop delay at which the node is critical: chat and ambient publishes refused with `overloaded`.',
      int(0, 60_000),
    )!,
    bufferedElevatedBytes: v('PRESSURE_BUFFERED_ELEVATED_BYTES', '134217728', 'Bytes buffered over all sockets of the node at which it is elevated.', bytes)!,
    bufferedCriticalBytes: v('PRESSURE_BUFFERED_CRITICAL_BYTES', '536870912', 'Bytes buffered over all sockets of the node at which it is critical.', bytes)!,
    retryAfterMs: v(
      'PRESSURE_RETRY_AFTER_MS',
      '1000',
      'Base retryAfterMs of a publish refused with `overloaded` (each reply adds up to as much again as jitter).',
      int(1, 600_000),
    )!,
    admitPerSec: v(
      'ADMISSION_PER_SEC',
      '2000',
      'New WebSocket connections a node admits per second (token bucket); the rest are closed with 4013 and a retry-after.',
      int(1, 1_000_000),
    )!,
    admitBurst: v('ADMISSION_BURST', '2000', 'Admission token bucket size (connections admitted at once after a quiet period).', int(1, 1_000_000))!,
    admitRetryAfterMs: v(
      'ADMISSION_RETRY_AFTER_MS',
      '250',
      'Least retry-after of a refused connection; refused connections get successive slots at ADMISSION_PER_SEC (a storm comes back spread at the admission rate) plus up to this much jitter.',
      int(1, 600_000),
    )!,
  };
}

/** An event name, or a prefix ending in `*` (`*` alone: every event no module registered). */
const PROXY_PATTERN = /^(?:[A-Za-z0-9_:.-]{1,64}|[A-Za-z0-9_:.-]{0,63}\*)$/;

function loadProxyConfig(v: V): ProxyConfig {
  const url = v(
    'PROXY_URL',
    undefined,
    "Endpoint of the app's backend that receives the events of PROXY_EVENTS (http or https; docs/BRIDGE.md). Unset: the event proxy is off.",
    urlList(['http:', 'https:']),
  )?.[0];
  const events =
    v(
      'PROXY_EVENTS',
      '',
      'Comma list of event names (`custom_event`) and prefixes (`app:*`) forwarded to PROXY_URL when no livegate handler has the name.',
      (raw, name) =>
        list(raw, name).map((pattern) => {
          if (!PROXY_PATTERN.test(pattern)) throw new ConfigError(name, `"${pattern}" is neither an event name nor a prefix ending in *`);
          return pattern;
        }),
    ) ?? [];
  const secret = v(
    'PROXY_SECRET',
    undefined,
    'HMAC-SHA256 key signing proxied requests (at least 16 characters, same recipe as the webhooks); required with PROXY_URL.',
    (raw, name) => {
      if (raw.length < 16) throw new ConfigError(name, 'must be at least 16 characters');
      return raw;
    },
  );
  if (url && !secret) throw new ConfigError('PROXY_SECRET', 'must be set when PROXY_URL is set');
  if (url && events.length === 0) throw new ConfigError('PROXY_EVENTS', 'must name at least one event or prefix when PROXY_URL is set');
  if (!url && events.length > 0) throw new ConfigError('PROXY_URL', 'must be set when PROXY_EVENTS is set');
  return {
    url,
    secret,
    events,
    timeoutMs: v('PROXY_TIMEOUT_MS', '5000', 'How long a proxied event waits for the backend; then the client gets `backend_timeout`.', int(50, 120_000))!,
    concurrency: v(
      'PROXY_CONCURRENCY',
      '256',
      'Proxied events in flight per node; beyond it an event is answered `overloaded` at once (nothing is queued).',
      int(1, 100_000),
    )!,
    maxReplyBytes: v('PROXY_MAX_REPLY_BYTES', '262144', 'Largest backend reply body read; a larger one is `backend_error`.', int(64, 16 * 1024 * 1024))!,
    breakerFailures: v(
      'PROXY_BREAKER_FAILURES',
      '5',
      'Consecutive backend failures (unreachable, 5xx, timeout) that open the circuit breaker: events are then answered `backend_unavailable` without a request.',
      int(1, 10_000),
    )!,
    breakerOpenMs: v(
      'PROXY_BREAKER_OPEN_MS',
      '10000',
      'How long the breaker stays open before one probe request is let through (half-open); its success closes the breaker, its failure opens it again.',
      int(10, 3_600_000),
    )!,
  };
}

const webhookType = (type: string, name: string): string => {
  if (!isWebhookType(type)) throw new ConfigError(name, `unknown webhook type "${type}"; known: ${WEBHOOK_TYPES.join(', ')}`);
  return type;
};
const webhookTypes: Parser<string[]> = (raw, name) => list(raw, name).map((t) => webhookType(t, name));
const typeUrls: Parser<Record<string, string>> = (raw, name) => {
  const out: Record<string, string> = {};
  for (const pair of list(raw, name)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(name, `"${pair}" is not type=url`);
    const [url] = urlList(['http:', 'https:'])(pair.slice(eq + 1), name);
    out[webhookType(pair.slice(0, eq).trim(), name)] = url!;
  }
  return out;
};

/** Every variable loadConfig reads, in order, with its default and description (no global state). */
export function configVariables(): VariableSpec[] {
  const seen: VariableSpec[] = [];
  loadConfig({ JWT_SECRET: 'x'.repeat(32) }, seen);
  return seen;
}

/** The README's configuration table (src/tools/config-table.ts writes it). */
export function variablesMarkdown(): string {
  const rows = configVariables().map((s) => `| \`${s.name}\` | ${s.default === undefined || s.default === '' ? '—' : `\`${s.default}\``} | ${s.description} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
