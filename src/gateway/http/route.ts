/**
 * Schema-first HTTP routes. `defineRoute(spec, handler)` takes TypeBox schemas for path params,
 * query, body and response; it compiles checks for the inputs, hands the handler typed and
 * validated values, and attaches the metadata /openapi.json is generated from. The router
 * (router.ts) does transport, auth and rate limiting before the handler runs.
 */
import './formats.js';
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { Principal } from '../auth.js';
import { AppError, type ErrorCode } from '../errors.js';
import type { AuthMode } from './guard.js';
import type { HttpMethod, HttpRequestInfo, HttpResult, RouteDef } from './router.js';

/** Everything the OpenAPI document needs to describe one operation. */
export interface ApiMeta {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  auth: AuthMode;
  params?: TSchema;
  query?: TSchema;
  body?: TSchema;
  response: TSchema;
  status: number;
  /** Error codes this operation may answer besides the ones its auth and schemas imply. */
  errors: ErrorCode[];
  contentType: string;
  rateLimited: boolean;
  /** Other statuses this operation answers with a body of its own (not the Error shape). */
  otherResponses?: Record<number, TSchema>;
}

type Empty = TObject<{}>;

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

function rejectInvalid(where: 'params' | 'query' | 'body', input: Input, value: unknown): void {
  if (input.check.Check(value)) return;
  const first = input.check.Errors(value).First();
  throw new AppError('validation_failed', `${where}${first?.path ?? ''}: ${first?.message ?? 'invalid value'}`);
}

/** Path params and query values arrive as strings; they are converted to the schema's types, then checked. */
function readStrings(input: Input | undefined, where: 'params' | 'query', raw: Record<string, string | string[]>): unknown {
  if (!input) return {};
  const value = Value.Default(input.schema, Value.Convert(input.schema, raw));
  rejectInvalid(where, input, value);
  return value;
}

function queryObject(query: URLSearchParams, schema: TSchema | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const properties = (schema as { properties?: Record<string, { type?: string }> } | undefined)?.properties ?? {};
  for (const key of new Set(query.keys())) {
    out[key] = properties[key]?.type === 'array' ? query.getAll(key) : (query.get(key) ?? '');
  }
  return out;
}

function readBody(input: Input | undefined, req: HttpRequestInfo): unknown {
  if (!input) return undefined;
  const type = req.headers['content-type'] ?? '';
  if (type !== '' && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) throw new AppError('bad_request', `expected an application/json body, got ${type}`);
  let value: unknown;
  if (req.body.length === 0) value = undefined;
  else {
    try {
      value = JSON.parse(req.body.toString('utf8'));
    } catch {
      throw new AppError('bad_request', 'body is not valid JSON');
    }
  }
  if (value === undefined) throw new AppError('validation_failed', 'body: a JSON body is required');
  value = Value.Default(input.schema, value);
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
    ...(spec.otherResponses ? { otherResponses: spec.otherResponses } : {}),
  };

  return {
    method: spec.method,
    path: spec.path,
    auth: spec.auth,
    rateLimit: api.rateLimited,
    ...(spec.quiet ? { quiet: true } : {}),
    api,
    handler: async (req): Promise<HttpResult> => {
      const ctx = {
        principal: req.principal,
        params: readStrings(params, 'params', req.params),
        query: readStrings(query, 'query', queryObject(req.query, spec.query)),
        body: readBody(body, req),
        request: req,
      } as RouteContext<A, P, Q, B>;
      const result = await handler(ctx);
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
