/**
 * The event contract: /asyncapi.json describes every event the node registers, passes the official
 * AsyncAPI parser, and the client SDK's generated types are what the generator makes of it now.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_PATH, renderClientTypes } from '../../src/tools/client-types.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';
import { ROOT } from '../support/services.js';

type Json = Record<string, unknown>;

/** The one event whose payload and ack are any value by design (a round-trip check of an encoding). */
const ANY_VALUE = new Set(['session:echo']);

/**
 * Not client events: Socket.IO protocol frames, the send labels of the connection's metrics, and the
 * cluster's control messages on rooms only nodes watch (revocations, bridge commands and answers).
 */
const NOT_EVENTS = /^(sio:|eio:)|^(ack|error|revoke|command|answer)$/;

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [readFileSync(join(dir, e.name), 'utf8')] : [],
  );

/**
 * Event names the server code sends, found in the source: the literal event of a publish / send /
 * emit call, a connection's `emit(event, ...)`, and the `event` of an outgoing `{room, event, data}`
 * step (calls). Comments are dropped; webhook types (`a.b`) do not match the event-name pattern.
 */
function sentInSource(): Set<string> {
  const found = new Set<string>();
  for (const text of ['src/gateway', 'src/handlers'].flatMap((d) => sources(join(ROOT, d)))) {
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(/\b(?:publish|send|publishToUser|emit|announce)\(\s*[^'"`;()]*(?:\([^()]*\)[^'"`;()]*)?,\s*'([A-Za-z_]+(?::[A-Za-z_]+)*)'/g))
      found.add(m[1]!);
    for (const m of code.matchAll(/\.emit\(\s*'([A-Za-z_]+(?::[A-Za-z_]+)*)'/g)) found.add(m[1]!);
    for (const m of code.matchAll(/\{\s*room:[^{}]*?event:\s*'([A-Za-z_:]+)'/g)) found.add(m[1]!);
    // Keyed room state (core.roomState): the reader returns the frame `{event, data, version}`.
    for (const m of code.matchAll(/\{\s*event:\s*'([A-Za-z_]+(?::[A-Za-z_]+)*)',\s*data:/g)) found.add(m[1]!);
  }
  return new Set([...found].filter((e) => !NOT_EVENTS.test(e)));
}

describe('GET /asyncapi.json and the generated client types', () => {
  let gw: GatewayProcess;
  let doc: Json;
  beforeAll(async () => {
    // Memory mode, like the generator (npm run generate:client).
    gw = await startGateway();
    const res = await fetch(`${gw.http}/asyncapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Json;
  });
  afterAll(async () => {
    await gw?.stop();
  });

  // The official parser (spectral rules) is CPU-bound: seconds on a shared box for a document of ~180 messages.
  it('is a valid AsyncAPI 3.0 document (official parser, no errors)', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('/')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    expect(document?.operations().length).toBe(Object.keys(doc['operations'] as Json).length);
  }, 120_000);

  it('has a send operation for every event the node registers, and the events the SDK relies on', async () => {
    const listening = await gw.waitForLog((l) => l.msg === 'listening');
    const registered = (listening['events'] as string[]).slice().sort();
    const ops = doc['operations'] as Record<string, { action: string; title: string; reply?: unknown }>;
    const sent = Object.values(ops)
      .filter((o) => o.action === 'send')
      .map((o) => o.title)
      .sort();
    expect(sent).toEqual(registered);
    const received = Object.values(ops)
      .filter((o) => o.action === 'receive')
      .map((o) => o.title);
    expect(received).toEqual(expect.arrayContaining(['session:ready', 'session:expiring', 'session:reconnect', 'room:gap', 'livestream:chat', 'gift:sent']));
    const messages = (doc['components'] as { messages: Record<string, Json> }).messages;
    expect(messages['gift.send.request']).toMatchObject({ 'x-livegate-idempotency-key': 'idempotencyKey' });
    expect(messages['message.send.request']).toMatchObject({ 'x-livegate-idempotency-key': 'clientId' });
  });

  it('declares every ack and every server event: no undeclared payload, every event the code sends is described', () => {
    expect(JSON.stringify(doc)).not.toContain('x-livegate-undeclared');
    const messages = (doc['components'] as { messages: Record<string, { name: string; payload: Json }> }).messages;
    const empty = Object.values(messages)
      .filter((m) => Object.keys(m.payload).length === 0 || Object.keys(m.payload).every((k) => k === 'description'))
      .map((m) => m.name)
      .filter((name) => !ANY_VALUE.has(name.replace(/ ack$/, '')));
    expect(empty).toEqual([]);
    const ops = doc['operations'] as Record<string, { action: string; title: string }>;
    const received = new Set(
      Object.values(ops)
        .filter((o) => o.action === 'receive')
        .map((o) => o.title),
    );
    const sent = sentInSource();
    // The scan itself finds the events of every kind of call site (room, user, device room, connection).
    expect([...sent]).toEqual(
      expect.arrayContaining(['livestream:chat', 'message:new', 'call:ringing', 'call:signal', 'session:ready', 'pk_battle:score', 'level:up']),
    );
    expect([...sent].filter((e) => !received.has(e))).toEqual([]);
  });

  it('the generated client types have no `unknown` payload or ack (but the any-value echo)', () => {
    const generated = renderClientTypes(doc);
    const requests = generated.slice(generated.indexOf('export interface Requests'), generated.indexOf('export interface IdempotencyFields'));
    const loose = [...requests.matchAll(/^ {2}"([^"]+)": \{\n {4}data: ([^\n]+);\n {4}ack: ([^\n]+);/gm)]
      .filter(([, , data, ack]) => data === 'unknown' || ack === 'unknown')
      .map(([, event]) => event);
    expect(loose).toEqual([...ANY_VALUE]);
    expect(requests).toMatch(/"call:invite": \{/);
    expect(requests).not.toMatch(/^ {2}"[^"]+": unknown;$/m);
  });

  it('the committed clients/js/src/generated/events.ts is what `npm run generate:client` makes now', () => {
    const committed = readFileSync(join(ROOT, GENERATED_PATH), 'utf8');
    expect(committed, 'stale: run `npm run generate:client`').toBe(renderClientTypes(doc));
  });
});
