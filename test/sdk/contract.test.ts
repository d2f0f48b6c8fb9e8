/**
 * The event contract: /asyncapi.json describes every event the node registers, passes the official
 * AsyncAPI parser, and the client SDK's generated types are what the generator makes of it now.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_PATH, renderClientTypes } from '../../src/tools/client-types.js';
import { startGateway, type GatewayProcess } from '../support/gateway.js';
import { ROOT } from '../support/services.js';

type Json = Record<string, unknown>;

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

  it('is a valid AsyncAPI 3.0 document (official parser, no errors)', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('/')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    expect(document?.operations().length).toBe(Object.keys(doc['operations'] as Json).length);
  });

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
    expect(messages['livestream.join.ack']).not.toHaveProperty('x-livegate-undeclared');
  });

  it('the committed clients/js/src/generated/events.ts is what `npm run generate:client` makes now', () => {
    const committed = readFileSync(join(ROOT, GENERATED_PATH), 'utf8');
    expect(committed, 'stale: run `npm run generate:client`').toBe(renderClientTypes(doc));
  });
});
