/** The shapes the HTTP layer shares: a route, its request and result, and its OpenAPI metadata. */
import type { TSchema } from '@sinclair/typebox';
import type { ErrorCode } from '../../kernel/errors.js';
import type { Principal } from '../../kernel/session.js';
import type { AuthMode } from './guard.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'del';

export interface HttpRequestInfo {
  method: string;
  /** The route pattern, e.g. /api/wallets/:id (the metric label). */
  route: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  headers: Record<string, string>;
  remoteAddress: string;
  /** Raw body bytes (empty for GET). */
  body: Buffer;
  /** The authenticated caller (routes with auth other than 'none'). */
  principal?: Principal;
}

export interface HttpResult {
  status: number;
  body?: unknown;
  /** Preformatted body (e.g. /metrics text); sent as is. */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type HttpHandler = (req: HttpRequestInfo) => Promise<HttpResult> | HttpResult;

export interface RouteDef {
  method: HttpMethod;
  path: string;
  handler: HttpHandler;
  /** Do not log each request (health probes, metrics scrapes). */
  quiet?: boolean;
  /** Who may call it (default 'none'); checked by the guard before the handler runs. */
  auth?: AuthMode;
  /** Count against the caller's rate limit (default true). */
  rateLimit?: boolean;
  /** OpenAPI metadata; set by defineRoute (route.ts). */
  api?: ApiMeta;
}

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
  /** The body may be left out (it then reads as `{}` with the schema's defaults). */
  bodyOptional?: boolean;
  response: TSchema;
  status: number;
  /** Error codes this operation may answer besides the ones its auth and schemas imply. */
  errors: ErrorCode[];
  contentType: string;
  rateLimited: boolean;
  /** Other statuses this operation answers with a body of its own (not the Error shape). */
  otherResponses?: Record<number, TSchema>;
  links?: Record<string, ApiLink>;
}

/** An OpenAPI link: which operation can follow this one, fed from the response (`$response.body#/id`). */
export interface ApiLink {
  operationId: string;
  parameters: Record<string, string>;
  description?: string;
}
