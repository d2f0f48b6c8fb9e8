import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { startGateway } from '../support/gateway.js';
import { ROOT } from '../support/services.js';

/** Every event a node registers is documented in docs/PROTOCOL.md or docs/events/*.md. */
describe('event documentation', () => {
  it('documents every registered client event', async () => {
    const gw = await startGateway({ REDIS_URL: inject('redisUrl'), MONGO_URL: inject('mongoUrl') });
    const events = (await gw.waitForLog((l) => l.msg === 'listening'))['events'] as string[];
    await gw.stop();
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
