import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { startGateway } from '../support/gateway.js';
import { ROOT } from '../support/services.js';

/** Every event a node registers, and every server event it declares, is documented in docs/PROTOCOL.md or docs/events/*.md. */
describe('event documentation', () => {
  it('documents every registered client event and every declared server event', async () => {
    const gw = await startGateway({ REDIS_URL: inject('redisUrl'), MONGO_URL: inject('mongoUrl') });
    const registered = (await gw.waitForLog((l) => l.msg === 'listening'))['events'] as string[];
    const asyncapi = (await (await fetch(`${gw.http}/asyncapi.json`)).json()) as { operations: Record<string, { action: string; title: string }> };
    await gw.stop();
    const serverEvents = Object.values(asyncapi.operations)
      .filter((o) => o.action === 'receive')
      .map((o) => o.title);
    expect(serverEvents.length).toBeGreaterThan(30);
    const events = [...new Set([...registered, ...serverEvents])];
    const dir = join(ROOT, 'docs', 'events');
    const docs = [
      readFileSync(join(ROOT, 'docs', 'PROTOCOL.md'), 'utf8'),
      ...(existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')) : []),
    ].join('\n');
    const undocumented = events.filter((e) => !docs.includes('`' + e + '`'));
    expect(events.length).toBeGreaterThan(0);
    expect(undocumented).toEqual([]);
  });
});
