/**
 * The OpenAPI 3.1 document, generated from the same RouteDefs the router mounts, so it lists
 * exactly the routes served. Schemas carrying a TypeBox `$id` become named components
 * (`#/components/schemas/<id>`), which gives generated clients (Flutter) stable model names.
 * The socket events' schemas ride along under `x-livegate-events` (event -> {payload, ack}).
 */
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { ERROR_CODES, type ErrorCode } from '../../kernel/errors.js';
import type { EventContract } from '../handler.js';
import type { AuthMode } from './guard.js';
import { ErrorResponse, defineRoute } from './route.js';
import type { RouteDef, ApiMeta } from './types.js';

type Json = Record<string, unknown>;

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

const METHOD: Record<RouteDef['method'], string> = { get: 'get', post: 'post', put: 'put', patch: 'patch', del: 'delete' };

const SECURITY: Record<AuthMode, Json[]> = {
  none: [],
  user: [{ bearerAuth: [] }],
  admin: [{ bearerAuth: [] }],
  service: [{ apiKey: [] }, { bearerAuth: [] }],
};

const AUTH_NOTE: Record<AuthMode, string> = {
  none: 'No authentication.',
  user: 'Bearer token of a user (or admin).',
  admin: 'Bearer token with role `admin`.',
  service: 'An API key from SERVICE_API_KEYS (X-API-Key or Authorization: Bearer <key>), or a Bearer token with role `service`.',
};

/** Error codes an operation can answer, implied by its auth and inputs plus the ones it declares. */
export function impliedErrors(api: ApiMeta): ErrorCode[] {
  const codes = new Set<ErrorCode>(api.errors);
  if (api.auth !== 'none') codes.add('unauthorized');
  if (api.auth !== 'none') codes.add('forbidden');
  if (api.params || api.query || api.body) codes.add('validation_failed');
  if (api.body) {
    codes.add('bad_request');
    codes.add('payload_too_large');
  }
  if (api.rateLimited) codes.add('rate_limited');
  return [...codes];
}

export class Components {
  readonly schemas: Record<string, Json> = {};
  private readonly seen = new Map<string, string>();

  /** A JSON copy of the schema with every `$id` sub-schema hoisted into components. */
  ref(schema: TSchema): Json {
    return this.walk(JSON.parse(JSON.stringify(schema)) as Json);
  }

  private walk(node: Json): Json {
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) out[key] = this.walkValue(value);
    const id = out['$id'];
    if (typeof id !== 'string') return out;
    delete out['$id'];
    const text = JSON.stringify(out);
    const previous = this.seen.get(id);
    if (previous !== undefined && previous !== text) throw new Error(`two different schemas use $id "${id}"`);
    this.seen.set(id, text);
    this.schemas[id] = out;
    return { $ref: `#/components/schemas/${id}` };
  }

  private walkValue(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.walkValue(v));
    if (value !== null && typeof value === 'object') return this.walk(value as Json);
    return value;
  }
}

const openApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(components: Components, schema: TSchema | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const json = components.ref(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, prop]) => {
    const { description, ...rest } = prop;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      schema: rest,
      ...(typeof description === 'string' ? { description } : {}),
    };
  });
}

function errorResponses(components: Components, api: ApiMeta): Record<string, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of impliedErrors(api)) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  byStatus.set(503, [...(byStatus.get(503) ?? []), 'unavailable']);
  const out: Record<string, Json> = {};
  for (const [status, schema] of Object.entries(api.otherResponses ?? {})) {
    byStatus.delete(Number(status));
    out[status] = { description: `status ${status}`, content: { [api.contentType]: { schema: components.ref(schema) } } };
  }
  for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    const unique = [...new Set(codes)];
    out[String(status)] = {
      description: unique.map((c) => `\`${c}\`: ${ERROR_CODES[c].description}`).join(' '),
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      ...(status === 429 ? { headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'string' } } } } : {}),
    };
  }
  return out;
}

function operation(components: Components, route: RouteDef, api: ApiMeta): Json {
  const params = [...parameters(components, api.params, 'path'), ...parameters(components, api.query, 'query')];
  return {
    operationId: api.operationId,
    summary: api.summary,
    description: [api.description, AUTH_NOTE[api.auth]].filter(Boolean).join('\n\n'),
    tags: api.tags,
    security: SECURITY[api.auth],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(api.body ? { requestBody: { required: !api.bodyOptional, content: { 'application/json': { schema: components.ref(api.body) } } } } : {}),
    responses: {
      [String(api.status)]: {
        description: 'success',
        content: { [api.contentType]: { schema: components.ref(api.response) } },
        ...(api.links ? { links: api.links } : {}),
      },
      ...errorResponses(components, api),
    },
    ...(route.auth === 'admin' ? { 'x-livegate-role': 'admin' } : {}),
    ...(api.rateLimited ? {} : { 'x-livegate-rate-limited': false }),
  };
}

/** A route mounted without defineRoute: described minimally and flagged, so the gap is visible. */
function undocumented(route: RouteDef): Json {
  const id = `${METHOD[route.method]}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`;
  return {
    operationId: id,
    summary: `${route.method.toUpperCase()} ${route.path} (not described: mounted without defineRoute)`,
    'x-livegate-undocumented': true,
    responses: { default: { description: 'undocumented' } },
  };
}

/** The socket events: payload (and ack, when declared) schemas, with `$id` schemas shared with the routes. */
function eventContracts(components: Components, events: Readonly<Record<string, EventContract>>): Json {
  const out: Json = {};
  for (const [event, { payload, ack }] of Object.entries(events)) {
    out[event] = { payload: components.ref(payload), ack: components.ref(ack) };
  }
  return out;
}

export function buildOpenApi(routes: RouteDef[], info: OpenApiInfo, events: Readonly<Record<string, EventContract>> = {}): Json {
  const components = new Components();
  components.ref(ErrorResponse);
  const paths: Record<string, Record<string, Json>> = {};
  const operationIds = new Set<string>();
  const tags = new Set<string>();
  for (const route of routes) {
    const path = openApiPath(route.path);
    const item = (paths[path] ??= {});
    const method = METHOD[route.method];
    if (item[method]) throw new Error(`route ${method.toUpperCase()} ${route.path} is defined twice`);
    const op = route.api ? operation(components, route, route.api) : undocumented(route);
    const opId = op['operationId'] as string;
    if (operationIds.has(opId)) throw new Error(`operationId "${opId}" is used twice`);
    operationIds.add(opId);
    for (const tag of route.api?.tags ?? []) tags.add(tag);
    item[method] = op;
  }
  for (const route of routes) {
    for (const [name, link] of Object.entries(route.api?.links ?? {})) {
      if (!operationIds.has(link.operationId)) throw new Error(`link ${name} of ${route.api?.operationId} names unknown operation "${link.operationId}"`);
    }
  }
  const socketEvents = eventContracts(components, events);
  const errorSchema = components.schemas['Error'] as { properties: { error: { properties: { code: Json } } } };
  errorSchema.properties.error.properties.code = { type: 'string', enum: Object.keys(ERROR_CODES), description: 'stable error code' };
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    // The socket side of the same contract (docs/PROTOCOL.md): what each event takes and acks.
    'x-livegate-events': socketEvents,
    components: {
      schemas: components.schemas,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from /api/auth/login or from the backend issuer.' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Service key (backend to livegate).' },
      },
    },
  };
}

/** `GET /openapi.json`, describing `routes` and itself. Built once, at start (a bad schema fails the start). */
export function openApiRoute(routes: readonly RouteDef[], info: OpenApiInfo, events: Readonly<Record<string, EventContract>> = {}): RouteDef {
  const served = [...routes];
  let document: Json = {};
  const self: RouteDef = defineRoute(
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'getOpenApiDocument',
      summary: 'This OpenAPI 3.1 document',
      tags: ['operations'],
      auth: 'none',
      rateLimit: false,
      quiet: true,
      response: Type.Object({ openapi: Type.String(), info: Type.Object({}), paths: Type.Object({}) }, { additionalProperties: true }),
    },
    (): { openapi: string; info: object; paths: object } => document as { openapi: string; info: object; paths: object },
  );
  document = buildOpenApi([...served, self], info, events);
  return self;
}
