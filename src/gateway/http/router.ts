/**
 * A thin HTTP layer on uWS: a table of routes, each an async function from a copied request
 * to a result. It keeps the uWS rules in one place: onAborted before any await, request data
 * copied synchronously, body chunks copied, writes corked, nothing written after an abort.
 */
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { AppError, toErrorBody } from '../../kernel/errors.js';
import type { InFlight } from '../inflight.js';
import type { GatewayMetrics } from '../metrics.js';
import { clientAddress } from './client-address.js';
import type { HttpGuard } from './guard.js';
import { endResponse, requested } from './persistence.js';
import type { HttpRequestInfo, HttpResult, RouteDef } from './types.js';

export interface RouterOptions {
  maxBody: number;
  corsOrigins: string[];
  /** Take the client address from X-Forwarded-For (TRUST_PROXY). */
  trustProxy?: boolean;
  metrics: GatewayMetrics;
  log: Logger;
  guard: HttpGuard;
  /** Requests being handled, so shutdown can let them finish. */
  inflight: InFlight;
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  402: '402 Payment Required',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  422: '422 Unprocessable Entity',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  502: '502 Bad Gateway',
  503: '503 Service Unavailable',
  504: '504 Gateway Timeout',
};

const statusLine = (status: number): string => STATUS_TEXT[status] ?? `${status} Status`;

export function mountRoutes(app: TemplatedApp, routes: RouteDef[], opts: RouterOptions): void {
  const methodsByPath = new Map<string, string[]>();
  for (const route of routes) {
    const paramNames = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
    app[route.method](route.path, (res, req) => serve(res, req, route, paramNames, opts));
    const methods = methodsByPath.get(route.path) ?? [];
    methods.push(route.method === 'del' ? 'DELETE' : route.method.toUpperCase());
    methodsByPath.set(route.path, methods);
  }
  // A known path with a method it does not serve: 405 with Allow (uWS prefers method routes over any).
  for (const [path, methods] of methodsByPath) {
    const allow = [...methods, 'OPTIONS'].join(', ');
    app.any(path, (res, req) => {
      if (req.getMethod() === 'options') {
        preflight(res, req, opts.corsOrigins);
        return;
      }
      const method = req.getCaseSensitiveMethod();
      const persistence = requested(req.getHeader('connection'));
      res.cork(() => {
        res.writeStatus('405 Method Not Allowed').writeHeader('allow', allow).writeHeader('content-type', 'application/json');
        endResponse(res, persistence, JSON.stringify({ error: { code: 'bad_request', message: `${method} is not allowed on ${path}; allowed: ${allow}` } }));
      });
      opts.metrics.httpDuration.observe({ method, route: path, status: '405' }, 0);
    });
  }
  app.options('/*', (res, req) => preflight(res, req, opts.corsOrigins));
  app.any('/*', (res, req) => {
    const path = req.getUrl();
    const method = req.getCaseSensitiveMethod();
    const persistence = requested(req.getHeader('connection'));
    res.cork(() => {
      res.writeStatus('404 Not Found').writeHeader('content-type', 'application/json');
      endResponse(res, persistence, JSON.stringify({ error: { code: 'not_found', message: `no route ${method} ${path}` } }));
    });
    opts.metrics.httpDuration.observe({ method, route: 'unmatched', status: '404' }, 0);
  });
}

function preflight(res: HttpResponse, req: HttpRequest, allowed: string[]): void {
  const origin = req.getHeader('origin');
  const persistence = requested(req.getHeader('connection'));
  res.cork(() => {
    res.writeStatus('204 No Content');
    writeCors(res, origin, allowed);
    res.writeHeader('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
    res.writeHeader('access-control-allow-headers', 'authorization, content-type, x-api-key, idempotency-key');
    res.writeHeader('access-control-max-age', '600');
    endResponse(res, persistence);
  });
}

function writeCors(res: HttpResponse, origin: string, allowed: string[]): void {
  if (!origin || allowed.length === 0) return;
  if (allowed.includes('*')) res.writeHeader('access-control-allow-origin', '*');
  else if (allowed.includes(origin)) res.writeHeader('access-control-allow-origin', origin).writeHeader('vary', 'origin');
}

function serve(res: HttpResponse, req: HttpRequest, route: RouteDef, paramNames: string[], opts: RouterOptions): void {
  const started = process.hrtime.bigint();
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  // Everything from req must be copied now: it is invalid after this function returns.
  const headers: Record<string, string> = {};
  req.forEach((k, v) => {
    headers[k] = v;
  });
  const params: Record<string, string> = {};
  let badParam = false;
  paramNames.forEach((name, i) => {
    const raw = req.getParameter(i) ?? '';
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      badParam = true;
      params[name] = raw;
    }
  });
  const info: Omit<HttpRequestInfo, 'body'> = {
    method: req.getCaseSensitiveMethod(),
    route: route.path,
    path: req.getUrl(),
    query: new URLSearchParams(req.getQuery() ?? ''),
    params,
    headers,
    remoteAddress: clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), headers['x-forwarded-for'], opts.trustProxy ?? false),
  };

  // The body of a refused request may be left unread: then the connection cannot carry another one.
  let bodyUnread = false;
  const finish = (result: HttpResult): void => {
    const status = result.status;
    const asked = requested(headers['connection']);
    const persistence = asked === 'keep' && bodyUnread ? 'server_close' : asked;
    if (!aborted) {
      res.cork(() => {
        res.writeStatus(statusLine(status));
        writeCors(res, headers['origin'] ?? '', opts.corsOrigins);
        for (const [k, v] of Object.entries(result.headers ?? {})) res.writeHeader(k, v);
        if (result.raw !== undefined) {
          res.writeHeader('content-type', result.contentType ?? 'text/plain; charset=utf-8');
          endResponse(res, persistence, result.raw);
        } else if (result.body === undefined || status === 204) {
          endResponse(res, persistence);
        } else {
          res.writeHeader('content-type', 'application/json');
          endResponse(res, persistence, JSON.stringify(result.body));
        }
      });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    opts.metrics.httpDuration.observe({ method: info.method, route: route.path, status: String(status) }, seconds);
    if (!route.quiet) {
      opts.log.info({ method: info.method, route: route.path, path: info.path, status, ms: Math.round(seconds * 1e4) / 10, aborted }, 'http');
    }
  };

  const fail = (err: unknown): void => {
    const body = toErrorBody(err, (e) => opts.log.error({ err: e, route: route.path }, 'http handler failed'));
    opts.metrics.errors.inc({ code: body.code });
    const status = err instanceof AppError ? err.status : 500;
    const headersOut: Record<string, string> = {};
    // Any refusal that knows when to come back (rate_limited, overloaded) says so in Retry-After too.
    if (err instanceof AppError && err.retryAfterMs !== undefined) headersOut['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    else if (body.code === 'rate_limited') headersOut['retry-after'] = '1';
    if (body.code === 'unauthorized') headersOut['www-authenticate'] = 'Bearer';
    finish({ status, body: { error: body }, headers: headersOut });
  };

  const run = (body: Buffer): void => {
    if (badParam) {
      fail(new AppError('bad_request', 'a path segment is not valid percent-encoding'));
      return;
    }
    void opts.inflight.track(
      opts.guard
        .admit(route.auth ?? 'none', headers, info.remoteAddress, route.rateLimit ?? true)
        .then((principal) => route.handler(principal ? { ...info, body, principal } : { ...info, body }))
        .then(finish, fail),
    );
  };

  if (route.method === 'get' || route.method === 'del') {
    run(Buffer.alloc(0));
    return;
  }
  readBody(res, opts.maxBody, (outcome) => {
    if (outcome instanceof AppError) {
      bodyUnread = true;
      fail(outcome);
    } else run(outcome);
  });
}

/** Collects the body, copying each chunk (uWS reuses the buffer); stops early past `max`. */
function readBody(res: HttpResponse, max: number, done: (body: Buffer | AppError) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  res.onData((chunk, isLast) => {
    if (tooLarge) return;
    size += chunk.byteLength;
    if (size > max) {
      tooLarge = true;
      done(new AppError('payload_too_large', `body exceeds ${max} bytes`));
      return;
    }
    chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) done(Buffer.concat(chunks));
  });
}
