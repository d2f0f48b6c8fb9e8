/**
 * The event proxy: an event no livegate module handles, named by PROXY_EVENTS, goes to the app's
 * backend; its reply becomes the ack (or a typed error), after the room operations it asks for are
 * applied to the sending connection. Bounded concurrency (beyond it `overloaded`, nothing queued),
 * a per-request timeout and a circuit breaker keep a slow or dead backend from holding sockets.
 */
import { randomUUID } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Logger } from 'pino';
import type { ProxyConfig } from '../../config.js';
import { fillPlaceholders, withPlaceholders } from '../../gateway/codecs/socketio.js';
import { AckArgs } from '../../gateway/codecs/types.js';
import type { HandlerContext } from '../../gateway/handler.js';
import { AppError, ERROR_CODES, type ErrorCode } from '../../kernel/errors.js';
import type { RoomHub } from '../../rooms/hub.js';
import { CircuitBreaker } from './breaker.js';
import { callBackend, type CallOutcome, type ProxyTarget } from './client.js';
import type { ProxyMetrics, ProxyOutcome } from './metrics.js';
import { ProxyRules } from './rules.js';
import { ProxyReply } from './schemas.js';

const replyCheck = TypeCompiler.Compile(ProxyReply);

const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

/** How each call outcome that is not an answer ends: the breaker's view and the client's error. */
const FAILURES: {
  [K in Exclude<CallOutcome['kind'], 'answered'>]: { breaker: 'failure' | 'success'; error: (o: Extract<CallOutcome, { kind: K }>) => AppError };
} = {
  timeout: { breaker: 'failure', error: () => new AppError('backend_timeout', 'the backend did not answer in time') },
  unreachable: { breaker: 'failure', error: () => new AppError('backend_unavailable', 'the backend is unreachable') },
  server_error: { breaker: 'failure', error: (o) => new AppError('backend_unavailable', `the backend answered ${o.status}`) },
  // The backend is up but answers outside the contract: a bug to fix there, not an outage.
  bad_reply: { breaker: 'success', error: (o) => new AppError('backend_error', `the backend's reply is outside the contract: ${o.reason}`) },
};

/** The body's `data`, `args` and `attachments`: binaries (Socket.IO attachments) become placeholders and base64. */
function forwardArgs(data: unknown, args: readonly unknown[]): { data: unknown; args: unknown[]; attachments?: string[] } {
  const binaries: Uint8Array[] = [];
  const out = withPlaceholders([...args], binaries) as unknown[];
  if (binaries.length === 0) return { data, args: out };
  const first = args.length > 0 ? out[0] : data;
  return { data: first, args: out, attachments: binaries.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')) };
}

/**
 * What the client is acked with: `ackArgs` (several arguments) or `ack`, their placeholders filled
 * with the attachments (bytes for Socket.IO clients, the base64 text itself elsewhere).
 */
function ackOf(reply: ProxyReply, binary: boolean): unknown {
  if (reply.ack !== undefined && reply.ackArgs !== undefined) return new AppError('backend_error', "the backend's reply has both ack and ackArgs");
  let values: unknown[] = reply.ackArgs ?? [reply.ack ?? null];
  const attachments = reply.attachments ?? [];
  if (attachments.length > 0) {
    const filled = binary
      ? fillPlaceholders(
          values,
          attachments.map((text) => Buffer.from(text, 'base64')),
        )
      : fillPlaceholders(values, attachments);
    if (typeof filled === 'string') return new AppError('backend_error', `the backend's reply is outside the contract: attachments: ${filled}`);
    values = filled;
  }
  if (reply.ackArgs === undefined) return values[0];
  return binary ? new AckArgs(values) : values;
}

export interface ProxyDeps {
  config: ProxyConfig & { url: string; secret: string };
  nodeId: string;
  hub: RoomHub;
  metrics: ProxyMetrics;
  log: Logger;
}

export class EventProxy {
  readonly rules: ProxyRules;
  readonly breaker: CircuitBreaker;
  private inFlight = 0;
  private readonly target: ProxyTarget;

  constructor(private readonly deps: ProxyDeps) {
    const { config, metrics, log } = deps;
    this.rules = new ProxyRules(config.events);
    this.target = { url: config.url, secret: config.secret, timeoutMs: config.timeoutMs, maxReplyBytes: config.maxReplyBytes };
    this.breaker = new CircuitBreaker(config.breakerFailures, config.breakerOpenMs, (to) => {
      metrics.breakerMoved(to);
      (to === 'open' ? log.warn : log.info).call(log, { breaker: to }, `event proxy breaker ${to}`);
    });
  }

  claims(event: string): boolean {
    return this.rules.match(event) !== undefined;
  }

  async handle(ctx: HandlerContext, event: string, data: unknown, args: readonly unknown[]): Promise<unknown> {
    const rule = this.rules.match(event) ?? event;
    const count = (outcome: ProxyOutcome): void => this.deps.metrics.events.inc({ rule, outcome });
    if (this.inFlight >= this.deps.config.concurrency) {
      count('overloaded');
      throw new AppError('overloaded', `${this.deps.config.concurrency} proxied events are in flight on this node; retry shortly`);
    }
    const admission = this.breaker.admit();
    if (!admission.ok) {
      count('circuit_open');
      throw new AppError('backend_unavailable', `the backend is failing; not tried again for ${admission.retryInMs} ms`);
    }
    const { session } = ctx;
    const stop = this.deps.metrics.duration.startTimer({ rule });
    this.inFlight++;
    this.deps.metrics.inFlight.inc();
    const forwarded = forwardArgs(data, args);
    let outcome: CallOutcome;
    try {
      outcome = await callBackend(this.target, {
        id: randomUUID(),
        event,
        ...forwarded,
        userId: session.userId,
        role: session.role,
        connectionId: session.connectionId,
        nodeId: this.deps.nodeId,
        dialect: session.dialect,
        sentAt: new Date().toISOString(),
      });
    } finally {
      this.inFlight--;
      this.deps.metrics.inFlight.dec();
      stop();
    }
    if (outcome.kind !== 'answered') {
      const failure = FAILURES[outcome.kind] as { breaker: 'failure' | 'success'; error: (o: CallOutcome) => AppError };
      this.breaker[failure.breaker]();
      count(outcome.kind);
      const error = failure.error(outcome);
      ctx.log.warn({ event, outcome: outcome.kind, reason: 'reason' in outcome ? outcome.reason : undefined }, 'proxied event failed');
      throw error;
    }
    this.breaker.success();
    const reply = this.parse(outcome);
    if (reply instanceof AppError) {
      count(reply.code === 'backend_error' ? 'bad_reply' : 'error_reply');
      throw reply;
    }
    const ack = ackOf(reply, session.dialect === 'sio');
    if (ack instanceof AppError) {
      count('bad_reply');
      throw ack;
    }
    try {
      await this.apply(ctx, reply);
    } catch (err) {
      count('apply_failed');
      ctx.log.warn({ event, err: (err as Error).message }, 'applying a proxied reply failed');
      throw new AppError('unavailable', 'the room operations of the reply could not all be applied; retry');
    }
    count('acked');
    return ack;
  }

  /** The reply, or the typed error it names (or `backend_error` when it is outside the contract). */
  private parse(outcome: Extract<CallOutcome, { kind: 'answered' }>): ProxyReply | AppError {
    const body = outcome.body;
    if (!replyCheck.Check(body)) {
      const first = replyCheck.Errors(body).First();
      return new AppError('backend_error', `the backend's reply is outside the contract: ${first?.path || '/'}: ${first?.message ?? 'invalid'}`);
    }
    if (body.error) {
      const { code, message } = body.error;
      if (!isErrorCode(code)) return new AppError('backend_error', `the backend named an unknown error code "${code.slice(0, 64)}"`);
      return new AppError(code, message ?? code);
    }
    // A 4xx must name its error: an answer without one is not an ack.
    if (outcome.status >= 400) return new AppError('backend_error', `the backend answered ${outcome.status} without an error`);
    return body;
  }

  /** Leaves, then joins (their bus subscriptions live), then publishes in order: all before the ack. */
  private async apply(ctx: HandlerContext, reply: ProxyReply): Promise<void> {
    const { hub, metrics } = this.deps;
    for (const room of reply.leave ?? []) {
      ctx.leave(room);
      metrics.actions.inc({ kind: 'leave' });
    }
    for (const room of reply.join ?? []) {
      ctx.join(room);
      metrics.actions.inc({ kind: 'join' });
    }
    await Promise.all((reply.join ?? []).map((room) => hub.ready(room)));
    for (const item of reply.publish ?? []) {
      await hub.publish(item.room, item.event, item.data ?? null);
      metrics.actions.inc({ kind: 'publish' });
    }
  }
}
