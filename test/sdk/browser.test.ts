/**
 * The same client code in Node and in Debian's Chromium (headless, driven by playwright-core): the
 * browser loads the built bundles (dist/browser, JSON and msgpack) from a local page and runs the
 * scenario of scenario.ts against a real gateway.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LivegateClient } from '../../clients/js/src/index.js';
import { msgpack } from '../../clients/js/src/msgpack.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { ROOT } from '../support/services.js';
import { scenario, type ScenarioInput, type ScenarioResult } from './scenario.js';

const BUNDLES = join(ROOT, 'clients', 'js', 'dist', 'browser');
const CHROMIUM = '/usr/bin/chromium';

let gw: GatewayProcess;
let host: LivegateClient;
let page: Server;
let pageUrl: string;
let browser: Browser;
let streamId: string;

beforeAll(async () => {
  gw = await startGateway({ REDIS_URL: inject('redisUrl') });
  host = new LivegateClient({ urls: gw.ws, token: await makeToken({ sub: `host-${process.pid}` }) });
  await host.connect();
  streamId = `browser-${Date.now()}`;
  await host.request('livestream:start', { title: 'browser test', streamId });
  page = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    if (name === '') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>sdk</title>');
    else if (/^livegate-client(-msgpack)?\.min\.js$/.test(name))
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(join(BUNDLES, name)));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  const address = page.address();
  pageUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  page?.close();
  host?.close();
  await gw?.stop();
});

async function input(format: ScenarioInput['format'], who: string): Promise<ScenarioInput> {
  return { url: gw.ws, token: await makeToken({ sub: who }), streamId, format };
}

function expectScenario(result: ScenarioResult, who: string, format: string): void {
  expect(result).toMatchObject({
    userId: who,
    joinedViewers: expect.any(Number),
    chat: { text: `hello from ${format}`, room: `live:${streamId}` },
    errorCode: 'unknown_event',
    states: ['connecting', 'connected', 'disconnected'],
  });
  expect(result.chat.seq).toBe(result.ackSeq);
}

describe.each(['json', 'msgpack'] as const)('the client scenario over %s', (format) => {
  it('runs in Node', async () => {
    const who = `node-${format}-${process.pid}`;
    const result = await scenario(LivegateClient as never, { json: 'json', msgpack }, await input(format, who));
    expectScenario(result, who, format);
  });

  it('runs in Chromium from the browser bundle', async () => {
    const who = `chromium-${format}-${process.pid}`;
    const tab = await browser.newPage();
    try {
      await tab.goto(pageUrl);
      const bundle = format === 'json' ? 'livegate-client.min.js' : 'livegate-client-msgpack.min.js';
      // A string, so the test runner's module transform does not rewrite the page's dynamic import.
      const script = `(async () => {
        const mod = await import('/${bundle}');
        const run = (${scenario.toString()});
        return run(mod.LivegateClient, { json: 'json', msgpack: mod.msgpack }, ${JSON.stringify(await input(format, who))});
      })()`;
      const result = (await tab.evaluate(script)) as ScenarioResult;
      expect(await tab.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
      expectScenario(result, who, format);
    } finally {
      await tab.close();
    }
  });
});
