/**
 * Schema-first HTTP routes. `defineRoute(spec, handler)` takes TypeBox schemas for path params,
 * query, body and response; it compiles checks for the inputs, hands the handler typed and
 * validated values, and attaches the metadata /openapi.json is generated from. The router
 * (router.ts) does transport, auth and rate limiting before the handler runs.
 */
import './formats.js';
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { AppError, type ErrorCode } from '../../kernel/errors.js';
import type { Principal } from '../../kernel/session.js';
import { canonicalInput } from '../../kernel/wire.js';
import { isMongoUnavailable } from '../../store/mongo.js';
import type { AuthMode } from './guard.js';
import type { ApiLink, ApiMeta, HttpMethod, HttpRequestInfo, HttpResult, RouteDef } from './types.js';

type Empty = TObject<Record<never, never>>;

export interface RouteSpec<A extends AuthMode, P extends TSchema, Q extends TSchema, B extends TSchema, R extends TSchema> {
  method: HttpMethod;
  /** uWS pattern, e.g. /api/levels/:id */
  path: string;
  /** Stable name for generated clients (unique). */
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  auth: A;
  params?: P;
  query?: Q;
  body?: B;
  /** The body may be left out (the handler then sees `{}` with the schema's defaults); default false. */
  bodyOptional?: boolean;
  response: R;
  /** Success status (default 200). */
  status?: 200 | 201 | 202;
  errors?: ErrorCode[];
  /** Default application/json; any other type means the handler returns the body as a string. */
  contentType?: string;
  /** Default true; operational probes opt out. */
  rateLimit?: boolean;
  /** Do not log each request (probes, scrapes). */
  quiet?: boolean;
  /** Other statuses answered with a body of their own (e.g. /readyz's 503). */
  otherResponses?: Record<number, TSchema>;
  /** Follow-up operations fed from the success response (OpenAPI links, used by clients and schemathesis). */
  links?: Record<string, ApiLink>;
}

export interface RouteContext<A extends AuthMode, P extends TSchema, Q extends TSchema, B extends TSchema> {
  principal: A extends 'none' ? Principal | undefined : Principal;
  params: Static<P>;
  query: Static<Q>;
  body: Static<B>;
  request: HttpRequestInfo;
}

export type RouteHandler<A extends AuthMode, P extends TSchema, Q extends TSchema, B extends TSchema, R extends TSchema> = (
  ctx: RouteContext<A, P, Q, B>,
) => Static<R> | Promise<Static<R>>;

interface Input {
  schema: TSchema;
  check: TypeCheck<TSchema>;
}

const compile = (schema: TSchema | undefined): Input | undefined => (schema ? { schema, check: TypeCompiler.Compile(schema) } : undefined);

/**
 * JSON Schema counts string length in code points, JavaScript (and TypeBox) in UTF-16 units.
 * A maxLength failure that only exists in UTF-16 is dropped here; minLength is re-checked in
 * code points by `codePointMinimums` after TypeBox accepted the value.
 */
const codePoints = (s: string): number => [...s].length;

function realErrors(input: Input, value: unknown): ValueError[] {
  return [...input.check.Errors(value)].filter(
    (e) =>
      !(
        e.type === ValueErrorType.StringMaxLength &&
        typeof e.value === 'string' &&
        codePoints(e.value) <= ((e.schema as { maxLength?: number }).maxLength ?? Infinity)
      ),
  );
}

function codePointMinimums(schema: TSchema, value: unknown, path: string): string | undefined {
  const s = schema as { type?: unknown; minLength?: number; properties?: Record<string, TSchema>; items?: TSchema };
  if (typeof value === 'string' && s.minLength !== undefined && codePoints(value) < s.minLength)
    return `${path}: Expected string length greater or equal to ${s.minLength}`;
  if (s.properties && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, sub] of Object.entries(s.properties)) {
      const found = codePointMinimums(sub, (value as Record<string, unknown>)[key], `${path}/${key}`);
      if (found) return found;
    }
  }
  if (s.items && Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = codePointMinimums(s.items, item, `${path}/${i}`);
      if (found) return found;
    }
  }
  return undefined;
}

function rejectInvalid(where: 'params' | 'query' | 'body', input: Input, value: unknown): void {
  if (!input.check.Check(value)) {
    const first = realErrors(input, value)[0];
    if (first) throw new AppError('validation_failed', `${where}${first.path}: ${first.message}`);
  }
  const short = codePointMinimums(input.schema, value, where);
  if (short) throw new AppError('validation_failed', short);
}

/** Strict conversion of path and query strings: numbers only from numerals, booleans only from true/false. */
function fromString(schema: TSchema | undefined, raw: string | string[]): unknown {
  const s = (schema ?? {}) as { type?: unknown; items?: TSchema };
  if (Array.isArray(raw)) return s.type === 'array' ? raw.map((v) => fromString(s.items, v)) : raw[raw.length - 1];
  if (s.type === 'integer' || s.type === 'number') return /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : raw;
  if (s.type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (s.type === 'array') return [fromString(s.items, raw)];
  return raw;
}

/** Path params and query values arrive as strings; they are converted to the schema's types, then checked. */
function readStrings(input: Input | undefined, where: 'params' | 'query', raw: Record<string, string | string[]>): unknown {
  if (!input) return {};
  const properties = (input.schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) converted[key] = fromString(properties[key], value);
  const value = Value.Default(input.schema, converted);
  rejectInvalid(where, input, value);
  return value;
}

function queryObject(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const all = query.getAll(key);
    out[key] = all.length === 1 ? (all[0] ?? '') : all;
  }
  return out;
}

/** Syntax first: a body that is not JSON is a 400 whatever else is wrong with the request. */
function parseBody(input: Input | undefined, req: HttpRequestInfo): unknown {
  if (!input) return undefined;
  const type = req.headers['content-type'] ?? '';
  if (type !== '' && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) throw new AppError('bad_request', `expected an application/json body, got ${type}`);
  if (req.body.length === 0) return undefined;
  try {
    return JSON.parse(req.body.toString('utf8')) as unknown;
  } catch {
    throw new AppError('bad_request', 'body is not valid JSON');
  }
}

function checkBody(input: Input | undefined, parsed: unknown, optional: boolean): unknown {
  if (!input) return undefined;
  if (parsed === undefined && !optional) throw new AppError('validation_failed', 'body: a JSON body is required');
  // Only a missing body reads as {} (a JSON `null` body is a value, and checked as one).
  const value = Value.Default(input.schema, parsed === undefined ? {} : parsed);
  rejectInvalid('body', input, value);
  return value;
}

export function defineRoute<A extends AuthMode, R extends TSchema, P extends TSchema = Empty, Q extends TSchema = Empty, B extends TSchema = Empty>(
  spec: RouteSpec<A, P, Q, B, R>,
  handler: RouteHandler<A, P, Q, B, R>,
): RouteDef {
  const params = compile(spec.params);
  const query = compile(spec.query);
  const body = compile(spec.body);
  const status = spec.status ?? 200;
  const contentType = spec.contentType ?? 'application/json';
  const json = contentType === 'application/json';
  const declaredParams = [...spec.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
  const schemaParams = Object.keys((spec.params as { properties?: object } | undefined)?.properties ?? {});
  if (declaredParams.join(',') !== schemaParams.join(',')) {
    throw new Error(`${spec.operationId}: path params [${declaredParams}] and params schema [${schemaParams}] differ`);
  }

  const api: ApiMeta = {
    operationId: spec.operationId,
    summary: spec.summary,
    tags: [...spec.tags],
    auth: spec.auth,
    response: spec.response,
    status,
    errors: spec.errors ?? [],
    contentType,
    rateLimited: spec.rateLimit ?? true,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.params ? { params: spec.params } : {}),
    ...(spec.query ? { query: spec.query } : {}),
    ...(spec.body ? { body: spec.body } : {}),
    ...(spec.body && spec.bodyOptional ? { bodyOptional: true } : {}),
    ...(spec.otherResponses ? { otherResponses: spec.otherResponses } : {}),
    ...(spec.links ? { links: spec.links } : {}),
  };

  return {
    method: spec.method,
    path: spec.path,
    auth: spec.auth,
    rateLimit: api.rateLimited,
    ...(spec.quiet ? { quiet: true } : {}),
    api,
    handler: async (req): Promise<HttpResult> => {
      const parsed = parseBody(body, req);
      const ctx = {
        principal: req.principal,
        params: readStrings(params, 'params', req.params),
        query: readStrings(query, 'query', canonicalInput(queryObject(req.query), 'query') as Record<string, string | string[]>),
        body: checkBody(body, canonicalInput(parsed, 'body'), spec.bodyOptional ?? false),
        request: req,
      } as RouteContext<A, P, Q, B>;
      let result: Static<R>;
      try {
        result = await handler(ctx);
      } catch (err) {
        if (isMongoUnavailable(err)) throw new AppError('unavailable', 'the database is not reachable; retry');
        throw err;
      }
      if (json) return { status, body: result };
      return { status, raw: String(result), contentType };
    },
  };
}

/** The `{error: {code, message}}` body every failure has, HTTP and socket alike. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'stable error code (see the error table in docs/HTTP.md)' }),
        message: Type.String(),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'Error', additionalProperties: false },
);
