/**
 * The wire convention (docs/PROTOCOL.md, "Wire convention") checked on every schema a node serves:
 * each HTTP route's path params, query, body and responses, and each socket event's payload and ack
 * (published in /openapi.json under `x-livegate-events`, straight from the handler registry). The
 * event pages and the protocol documents are read for the old spellings too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { http } from '../support/http.js';
import { ROOT } from '../support/services.js';

type Json = Record<string, unknown>;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
interface Doc {
  paths: Record<
    string,
    Record<string, { parameters?: Array<{ name: string; in: string; schema: Json }>; requestBody?: Json; responses: Record<string, Json> }>
  >;
  components: { schemas: Record<string, Json> };
  'x-livegate-events'?: Record<string, { payload: Json; ack?: Json }>;
}

/**
 * Instants not named `<x>At`: the seed models' own names (seed 000: Gift, Coupon, ScheduledContent,
 * StreamProvider), kept as the apps know them, and the cut of a revocation (`issuedBefore`). The same
 * list is in docs/PROTOCOL.md.
 */
const NAMED_INSTANTS = new Set(['availableFrom', 'availableUntil', 'validFrom', 'validUntil', 'scheduledFor', 'lastHealthCheck', 'issuedBefore']);
/** A time range's bounds (`GET /api/scheduling/calendar?from&to`); elsewhere `from`/`to` name users. */
const RANGE_BOUNDS = new Set(['from', 'to']);
const isInstantName = (name: string): boolean => /[a-z]At$/.test(name) || NAMED_INSTANTS.has(name);
/** Old or ambiguous time names: `ts`, `time`, `timestamp`, `serverTime`, `date`, `startDate`... */
const BAD_TIME_NAME = /^(ts|at|time|timestamp|date|datetime|when)$|[a-z](Time|Timestamp|Ts|Date)$/;
/** A duration spelled without its unit in milliseconds. */
const DURATION_NAME =
  /(^|[a-z])(duration|Duration|timeout|Timeout|interval|Interval|delay|Delay|ttl|Ttl|expiresIn|ExpiresIn|retryAfter|RetryAfter)$|[a-z](Sec|Secs|Seconds|Minutes|Mins|Hours|Days)$/;
/** The one name of the stream; other spellings are input aliases (src/kernel/wire.ts), never in a schema. */
const OTHER_STREAM_NAMES = new Set(['streamId', 'stream_id', 'liveId']);

/** A schema reduced to what the rules look at: its non-null alternatives. */
function alternatives(schema: Json, resolve: (s: Json) => Json): Json[] {
  const s = resolve(schema);
  const anyOf = (s['anyOf'] ?? s['oneOf']) as Json[] | undefined;
  if (anyOf) return anyOf.flatMap((a) => alternatives(a, resolve)).filter((a) => a['type'] !== 'null');
  return [s];
}

function fieldProblems(name: string, schema: Json, resolve: (s: Json) => Json): string[] {
  const problems: string[] = [];
  const alts = alternatives(schema, resolve);
  const isDateTime = (a: Json): boolean => a['type'] === 'string' && a['format'] === 'date-time';
  if (OTHER_STREAM_NAMES.has(name)) problems.push(`"${name}": the stream is "livestreamId"`);
  if (BAD_TIME_NAME.test(name)) problems.push(`"${name}": an instant is an ISO string named <something>At; an event's own time is "sentAt"`);
  if (DURATION_NAME.test(name)) problems.push(`"${name}": a duration is integer milliseconds in a field ending in Ms`);
  if (isInstantName(name) && !alts.every(isDateTime)) problems.push(`"${name}": an instant is a string with format date-time (ISO 8601 UTC)`);
  if (!isInstantName(name) && !RANGE_BOUNDS.has(name) && alts.some(isDateTime)) problems.push(`"${name}": a date-time field is named <something>At`);
  if (/Ms$/.test(name) && !alts.every((a) => a['type'] === 'integer')) problems.push(`"${name}": a ...Ms field is an integer`);
  const described = alts.some((a) => typeof a['description'] === 'string' && /since the (unix )?epoch/i.test(a['description']));
  if (described && !isInstantName(name)) problems.push(`"${name}": epoch times go on the wire as ISO strings named <something>At`);
  if (described && isInstantName(name)) problems.push(`"${name}": described as epoch milliseconds`);
  return problems;
}

/** Every named field under a schema (properties at any depth, through $refs, arrays and unions). */
function walk(schema: unknown, where: string, resolve: (s: Json) => Json, out: string[], seen: Set<unknown> = new Set()): void {
  if (schema === null || typeof schema !== 'object' || seen.has(schema)) return;
  if (Array.isArray(schema)) {
    for (const s of schema) walk(s, where, resolve, out, seen);
    return;
  }
  const s = resolve(schema as Json);
  seen.add(schema);
  seen.add(s);
  for (const [name, prop] of Object.entries((s['properties'] ?? {}) as Record<string, Json>)) {
    for (const p of fieldProblems(name, prop, resolve)) out.push(`${where}: ${p}`);
    walk(prop, `${where}.${name}`, resolve, out, seen);
  }
  for (const key of ['items', 'anyOf', 'oneOf', 'allOf', 'additionalProperties', 'patternProperties']) {
    const child = s[key];
    if (key === 'patternProperties' && child && typeof child === 'object') walk(Object.values(child), where, resolve, out, seen);
    else walk(child, where, resolve, out, seen);
  }
}

function conventionProblems(doc: Doc): { problems: string[] } {
  const resolve = (s: Json): Json => {
    const ref = s['$ref'];
    if (typeof ref !== 'string') return s;
    const target = doc.components.schemas[ref.replace('#/components/schemas/', '')];
    if (!target) throw new Error(`dangling ${ref}`);
    return target;
  };
  const problems: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const at = `${method.toUpperCase()} ${path}`;
      for (const p of op.parameters ?? []) {
        for (const problem of fieldProblems(p.name, p.schema, resolve)) problems.push(`${at} ${p.in} ${problem}`);
        walk(p.schema, `${at} ${p.in} ${p.name}`, resolve, problems);
      }
      const body = (op.requestBody?.['content'] as Record<string, { schema: Json }> | undefined)?.['application/json']?.schema;
      walk(body, `${at} body`, resolve, problems);
      for (const [status, response] of Object.entries(op.responses)) {
        for (const content of Object.values((response['content'] ?? {}) as Record<string, { schema: Json }>)) {
          walk(content.schema, `${at} ${status}`, resolve, problems);
        }
      }
    }
  }
  for (const [event, { payload, ack }] of Object.entries(doc['x-livegate-events'] ?? {})) {
    walk(payload, `${event} payload`, resolve, problems);
    walk(ack, `${event} ack`, resolve, problems);
  }
  return { problems };
}

describe('the wire convention', () => {
  let gw: GatewayProcess;
  let doc: Doc;

  beforeAll(async () => {
    gw = await startGateway({ REDIS_URL: inject('redisUrl'), MONGO_URL: inject('mongoUrl'), MONGO_DB: `wire_${process.pid}` });
    const res = await http(gw, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body as Doc;
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('publishes every registered event with its payload schema', async () => {
    const listening = await gw.waitForLog((l) => l.msg === 'listening');
    const events = listening['events'] as string[];
    expect(events.length).toBeGreaterThan(40);
    expect(Object.keys(doc['x-livegate-events'] ?? {}).sort()).toEqual([...events].sort());
  });

  it('holds on every route and event schema the node serves', () => {
    const { problems } = conventionProblems(doc);
    expect([...new Set(problems)]).toEqual([]);
  });

  it('catches each kind of break (the rules are not vacuous)', () => {
    const sample: Doc = {
      paths: {},
      components: { schemas: {} },
      'x-livegate-events': {
        'x:bad': {
          payload: {
            type: 'object',
            properties: {
              streamId: { type: 'string' },
              ts: { type: 'integer' },
              at: { type: 'string', format: 'date-time' },
              serverTime: { type: 'string', format: 'date-time' },
              startedAt: { type: 'integer', description: 'milliseconds since the Unix epoch' },
              endsAt: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
              duration: { type: 'integer' },
              ttlSec: { type: 'integer' },
              waitMs: { type: 'string' },
              nested: { type: 'array', items: { type: 'object', properties: { timestamp: { type: 'string' } } } },
            },
          },
        },
        'x:good': {
          payload: {
            type: 'object',
            properties: {
              livestreamId: { type: 'string' },
              sentAt: { type: 'string', format: 'date-time' },
              endedAt: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
              validUntil: { type: 'string', format: 'date-time' },
              durationMs: { type: 'integer' },
            },
          },
        },
      },
    };
    const { problems } = conventionProblems(sample);
    const named = (field: string): boolean => problems.some((p) => p.includes(`"${field}"`));
    for (const field of ['streamId', 'ts', 'at', 'serverTime', 'startedAt', 'endsAt', 'duration', 'ttlSec', 'waitMs', 'timestamp'])
      expect(named(field), field).toBe(true);
    expect(problems.filter((p) => p.startsWith('x:good'))).toEqual([]);
  });

  it('accepts streamId as an input alias of livestreamId, on sockets and HTTP, and answers livestreamId', async () => {
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    const token = await makeToken({ sub: `alias-host-${tag}` });
    const socket = await NativeClient.connect(gw.ws, { token });
    const started = await socket.request('livestream:start', { title: 'alias', streamId: `alias-${tag}` });
    expect(started.error).toBeUndefined();
    expect(started.data).toMatchObject({ livestreamId: `alias-${tag}`, startedAt: expect.stringMatching(ISO) });
    expect(started.data).not.toHaveProperty('streamId');
    const both = await socket.request('livestream:chat', { streamId: `alias-${tag}`, livestreamId: 'other', text: 'hi' });
    expect(both.error?.code).toBe('validation_failed');
    expect(both.error?.message).toContain('/streamId and /livestreamId');
    const same = await socket.request('livestream:chat', { streamId: `alias-${tag}`, livestreamId: `alias-${tag}`, text: 'hi' });
    expect(same.data).toMatchObject({ livestreamId: `alias-${tag}` });
    expect((await socket.request('livestream:end', { livestreamId: `alias-${tag}` })).error).toBeUndefined();
    await socket.close();

    const created = await http<Json>(gw, 'POST', '/api/livestreams', { token, body: { title: 'alias', streamId: `alias-http-${tag}` } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ livestreamId: `alias-http-${tag}`, createdAt: expect.stringMatching(ISO), startedAt: null });
    expect(created.body).not.toHaveProperty('streamId');
  });

  it('is what the protocol pages say: no old spelling left in them', () => {
    const dir = join(ROOT, 'docs', 'events');
    // compat.md quotes the old clients' calls as they were written (the aliases it documents).
    const events = readdirSync(dir).filter((f) => f !== 'compat.md');
    const pages = [join(ROOT, 'docs', 'PROTOCOL.md'), join(ROOT, 'docs', 'HTTP.md'), ...events.map((f) => join(dir, f))];
    const old = /\b(serverTime|clientTime|streamId|lastSeen)\b|[{,]\s*(ts|timestamp|at)\s*[,}?]/;
    const stale: string[] = [];
    for (const page of pages) {
      readFileSync(page, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          // The convention itself names the accepted input alias and the old names it replaced.
          if (old.test(line) && !/alias|formerly|was `/.test(line)) stale.push(`${page.slice(ROOT.length + 1)}:${i + 1}: ${line.trim().slice(0, 120)}`);
        });
    }
    expect(stale).toEqual([]);
  });
});
