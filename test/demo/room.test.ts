/**
 * The live-room demo end to end in Debian's Chromium (headless, playwright-core): one gateway with
 * Redis, MongoDB and DEMO / DEV_TOKENS / DEV_PAYMENTS on, serving /demo/; two hosts and two viewers in
 * separate browser contexts (phone-sized). Each step saves a screenshot under .artifacts/demo/ (not
 * committed). Ends with the gateway restarted under the open pages, which recover by themselves.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gatewayEnv, startMoneyEnv, type MoneyEnv } from '../money/support.js';
import { startGateway } from '../support/gateway.js';
import { restartablePort, ROOT } from '../support/services.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, '.artifacts', 'demo');
const WAIT_MS = 15_000;

/** `document` inside page functions (the test is compiled without the DOM library). */
interface PageDocument {
  querySelector(selector: string): { textContent: string | null } | null;
}

const tag = Math.random().toString(36).slice(2, 8);
const ids = { host: `host-${tag}`, rival: `rival-${tag}`, v1: `ann-${tag}`, v2: `bob-${tag}` };

let env: MoneyEnv;
let port: number;
let base: string;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pages: Record<keyof typeof ids, Page> = {} as Record<keyof typeof ids, Page>;
let step = 0;

async function shot(page: Page, name: string): Promise<void> {
  step += 1;
  await page.screenshot({ path: join(SHOTS, `${String(step).padStart(2, '0')}-${name}.png`) });
}

/** Waits until the element's text satisfies `test` (a regular expression on the whole text). */
async function waitText(page: Page, selector: string, test: RegExp, timeout = WAIT_MS): Promise<string> {
  await page.waitForFunction(
    ([sel, source, flags]) => {
      const node = (globalThis as unknown as { document: PageDocument }).document.querySelector(sel as string);
      return node !== null && new RegExp(source as string, flags as string).test(node.textContent ?? '');
    },
    [selector, test.source, test.flags],
    { timeout },
  );
  return (await page.textContent(selector)) ?? '';
}

async function balance(page: Page): Promise<number> {
  return Number(((await page.textContent('#balance')) ?? '').replace(/,/g, ''));
}

async function open(who: keyof typeof ids): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${base}/demo/`);
  await page.fill('#signin-name', ids[who]);
  await page.click('#signin-form button');
  await page.waitForSelector('body[data-ready="true"]', { timeout: WAIT_MS });
  pages[who] = page;
  return page;
}

async function goLive(page: Page, title: string): Promise<void> {
  await page.fill('#golive-title', title);
  await page.click('#golive-form button');
  await waitText(page, '#room-title', new RegExp(title));
}

async function joinStreamOf(page: Page, hostId: string): Promise<void> {
  await page.click(`#streams li[data-host="${hostId}"]`, { timeout: WAIT_MS });
  await page.waitForSelector('#room:not([hidden])');
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  port = await restartablePort();
  env = await startMoneyEnv(inject('mongoUrl'), 1, { PORT: String(port), DEMO: 'true', DEV_TOKENS: 'true', DEV_PAYMENTS: 'true' });
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await env?.close();
});

describe('the live-room demo in Chromium', { timeout: 60_000 }, () => {
  it('is served at /demo/ with its script and styles', async () => {
    const html = await fetch(`${base}/demo/`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('/demo/app.js');
    const js = await fetch(`${base}/demo/app.js`);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect((await js.text()).length).toBeGreaterThan(1000);
  });

  it("a host goes live and two viewers see the stream, the exact count and the host's presence", async () => {
    const host = await open('host');
    await goLive(host, `Room ${tag}`);
    await shot(host, 'host-live');
    const rival = await open('rival');
    await goLive(rival, `Rival ${tag}`);

    for (const who of ['v1', 'v2'] as const) {
      const page = await open(who);
      await page.waitForSelector(`#streams li[data-host="${ids.host}"]`, { timeout: WAIT_MS });
      if (who === 'v1') await shot(page, 'viewer-stream-list');
      await joinStreamOf(page, ids.host);
    }
    for (const page of [host, pages.v1, pages.v2]) await waitText(page, '#viewers', /^2$/);
    expect(await pages.v1.textContent('#room-title')).toBe(`Room ${tag}`);
    // Presence: hidden until the viewer follows the host, then the host's dot is online.
    await pages.v1.waitForSelector('#room-host-dot[data-status="hidden"]', { timeout: WAIT_MS });
    await pages.v1.click('#follow');
    await pages.v1.waitForSelector('#room-host-dot[data-status="online"]', { timeout: WAIT_MS });
    await shot(pages.v2, 'viewer-count');
  });

  it('chat goes both ways', async () => {
    await pages.v1.fill('#chat-text', 'hello host!');
    await pages.v1.press('#chat-text', 'Enter');
    await waitText(pages.host, '#chat', /hello host!/);
    await pages.host.fill('#chat-text', 'welcome, everyone');
    await pages.host.press('#chat-text', 'Enter');
    for (const page of [pages.v1, pages.v2]) await waitText(page, '#chat', /welcome, everyone/);
    await waitText(pages.v2, '#chat', /hello host!/);
    await shot(pages.v2, 'chat');
  });

  it("a viewer's gifts move both balances and animate as one combo in every viewer's page", async () => {
    const { v1, v2, host } = pages;
    await waitText(host, '#balance', /^\d/);
    const hostBefore = await balance(host);
    await waitText(v1, '#balance', /^\d/);
    await v1.click('#topup');
    await waitText(v1, '#balance', /^[1-9]/);
    const before = await balance(v1);
    await v1.waitForSelector('#gift-buttons button[data-gift="heart"]');
    for (let i = 0; i < 3; i++) await v1.click('#gift-buttons button[data-gift="heart"]');
    await waitText(v1, '#balance', new RegExp(`^${(before - 15).toLocaleString('en')}$`));
    for (const page of [v1, v2, host]) {
      await page.waitForSelector('[data-testid="gift-burst"][data-count="3"]', { state: 'attached', timeout: WAIT_MS });
    }
    // One combo: the frames folded into a single banner, not three.
    expect(await v2.locator('[data-testid="gift-burst"]').count()).toBe(1);
    await shot(v2, 'gift-combo');
    await host.waitForFunction(
      (was) => Number(((globalThis as unknown as { document: PageDocument }).document.querySelector('#balance')?.textContent ?? '').replace(/,/g, '')) > was,
      hostBefore,
      {
        timeout: WAIT_MS,
      },
    );
    await shot(host, 'host-earned');
  });

  it('a PK battle scores and ends with a winner', async () => {
    const { host, rival, v1, v2 } = pages;
    await host.waitForSelector(`#pk-opponent option[value="${ids.rival}"]`, { state: 'attached', timeout: WAIT_MS });
    await host.selectOption('#pk-opponent', ids.rival);
    await host.fill('#pk-duration', '8');
    await host.press('#pk-duration', 'Enter');
    await rival.waitForSelector('#pk-invite:not([hidden])', { timeout: WAIT_MS });
    await shot(rival, 'pk-invite');
    await rival.click('#pk-accept');
    for (const page of [host, v1, v2]) await page.waitForSelector('#pk:not([hidden])', { timeout: WAIT_MS });
    await waitText(v2, '#pk-timer', /^0:0[1-8]$/);
    await v1.click('#gift-buttons button[data-gift="coffee"]');
    for (const page of [v1, v2, host]) await waitText(page, '#pk-score1', /^10$/);
    expect(await v2.textContent('#pk-score2')).toBe('0');
    await shot(v2, 'pk-scoring');
    for (const page of [v1, v2, host]) await waitText(page, '#pk-result', new RegExp(`${ids.host} wins`), 20_000);
    await waitText(rival, '#pk-result', new RegExp(`${ids.host} wins`));
    expect(await v2.textContent('#pk-timer')).toBe('0:00');
    await shot(v2, 'pk-winner');
  });

  it('a 1:1 chat shows typing, then unread, then read', async () => {
    const { v1, v2 } = pages;
    await v1.click('#tab-inbox');
    await v1.fill('#dm-user', ids.v2);
    await v1.click('#dm-start button');
    await waitText(v1, '#dm-peer', new RegExp(ids.v2));
    await v1.waitForSelector(`#dm-dot[data-status="online"]`, { timeout: WAIT_MS });
    await v1.fill('#dm-text', 'psst, private');
    await v1.press('#dm-text', 'Enter');
    await waitText(v1, '#dm-seen', /Sent/);
    await waitText(v2, '#unread-total', /^1$/);
    await shot(v2, 'dm-unread-badge');
    await v2.click('#tab-inbox');
    await waitText(v2, `#conversations li[data-peer="${ids.v1}"] [data-testid="unread"]`, /^1$/);
    await shot(v2, 'dm-inbox');
    await v2.click(`#conversations li[data-peer="${ids.v1}"]`);
    await waitText(v2, '#dm-messages', /psst, private/);
    await waitText(v1, '#dm-seen', /Seen/);
    await v2.waitForSelector('#unread-total', { state: 'hidden' });
    await v2.type('#dm-text', 'hi ann');
    await waitText(v1, '#dm-typing', new RegExp(`${ids.v2} is typing`));
    await shot(v1, 'dm-seen-typing');
    await v2.press('#dm-text', 'Enter');
    await waitText(v1, '#dm-messages', /hi ann/);
  });

  it('the pages recover by themselves when the gateway restarts under them', async () => {
    const { host, v1, v2 } = pages;
    await env.gateways[0]!.stop();
    for (const page of [host, v1, v2]) await page.waitForSelector('#conn:not([data-state="connected"])', { timeout: WAIT_MS });
    await shot(v1, 'gateway-down');
    env.gateways[0] = await startGateway(
      gatewayEnv(env.redis.url, env.mongoUrl, env.dbName, { PORT: String(port), DEMO: 'true', DEV_TOKENS: 'true', DEV_PAYMENTS: 'true' }),
    );
    for (const page of [host, v1, v2]) await page.waitForSelector('#conn[data-state="connected"]', { timeout: 20_000 });
    // The viewers were rejoined by the client SDK; the host re-entered its room.
    await waitText(host, '#viewers', /^2$/, 20_000);
    await v2.click('#tab-live');
    await pages.host.fill('#chat-text', 'we are back');
    await pages.host.press('#chat-text', 'Enter');
    for (const page of [v1, v2]) await waitText(page, '#chat', /we are back/);
    await v2.fill('#chat-text', 'still here');
    await v2.press('#chat-text', 'Enter');
    await waitText(host, '#chat', /still here/);
    await shot(v2, 'recovered');
  });
});
