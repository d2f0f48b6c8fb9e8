/**
 * A real WebRTC call through livegate's signaling: two pages in Debian's Chromium, each signed in as
 * a different user on a different gateway node, set up an RTCPeerConnection with call:invite /
 * call:accept / call:signal and exchange a message over a data channel; the caller hangs up, both
 * pages see call:ended, and the call record is stored in MongoDB through the write queue.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Db } from 'mongodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chatEnv, openDb, uid, waitUntil } from '../support/chat.js';
import { makeToken, startGateway, type GatewayProcess } from '../support/gateway.js';
import { CALL_PAGE } from './webrtc-page.js';

interface CallResult {
  callId: string;
  reply: string;
  connectionState: string;
}

describe('a WebRTC call between two browsers on two nodes', () => {
  const dbName = uid('calls-webrtc');
  let nodes: GatewayProcess[] = [];
  let db: Db;
  let closeDb: () => Promise<void>;
  let server: Server;
  let pageUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    const env = chatEnv(inject('redisUrl'), inject('mongoUrl'), dbName);
    nodes = await Promise.all([startGateway(env), startGateway(env)]);
    ({ db, close: closeDb } = await openDb(inject('mongoUrl'), dbName));
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(CALL_PAGE));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await Promise.all(nodes.map((n) => n.stop()));
    await db?.dropDatabase();
    await closeDb?.();
  });

  const openPage = async (node: GatewayProcess, userId: string): Promise<Page> => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(pageUrl);
    const ready = await page.evaluate(([ws, token]) => (globalThis as unknown as { lg: PageApi }).lg.connect(ws, token), [
      node.ws,
      await makeToken({ sub: userId }),
    ] as const);
    expect(ready).toMatchObject({ userId });
    return page;
  };

  it('connects the peers, carries a data channel message, and ends on hangup for both', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const [pageA, pageB] = await Promise.all([openPage(nodes[0]!, alice), openPage(nodes[1]!, bob)]);
    const nodeA = await pageA.evaluate(() => (globalThis as unknown as { lg: PageApi }).lg.events.find((f) => f.event === 'session:ready')?.data);
    const nodeB = await pageB.evaluate(() => (globalThis as unknown as { lg: PageApi }).lg.events.find((f) => f.event === 'session:ready')?.data);
    expect((nodeA as { nodeId: string }).nodeId).not.toBe((nodeB as { nodeId: string }).nodeId);

    const conversation = await pageA.evaluate(
      (userId) => (globalThis as unknown as { lg: PageApi }).lg.request('conversation:create', { type: 'private', userId }),
      bob,
    );
    await pageB.evaluate(() => (globalThis as unknown as { lg: PageApi }).lg.answerCalls());
    const result = (await pageA.evaluate(([cid, text]) => (globalThis as unknown as { lg: PageApi }).lg.call(cid, text), [
      (conversation as { id: string }).id,
      'hello over WebRTC',
    ] as const)) as CallResult;
    expect(result.reply).toBe('echo: hello over WebRTC');
    expect(result.connectionState).toBe('connected');
    expect(await pageB.evaluate(() => (globalThis as unknown as { lg: PageApi }).lg.received)).toEqual(['hello over WebRTC']);

    await pageA.evaluate((callId) => (globalThis as unknown as { lg: PageApi }).lg.request('call:hangup', { callId }), result.callId);
    const [endedA, endedB] = await Promise.all([
      pageA.evaluate(
        (callId) => (globalThis as unknown as { lg: PageApi }).lg.waitFor('call:ended', (e) => (e as { callId: string }).callId === callId),
        result.callId,
      ),
      pageB.evaluate(
        (callId) => (globalThis as unknown as { lg: PageApi }).lg.waitFor('call:ended', (e) => (e as { callId: string }).callId === callId),
        result.callId,
      ),
    ]);
    expect(endedA).toMatchObject({ callId: result.callId, reason: 'hangup' });
    expect(endedB).toMatchObject({ callId: result.callId, reason: 'hangup' });
    expect((endedB as { durationMs: number }).durationMs).toBeGreaterThan(0);
    // The callee's peer connection closed with the call.
    expect(await pageB.evaluate(() => (globalThis as unknown as { lg: PageApi }).lg.pc?.signalingState)).toBe('closed');

    const record = await waitUntil(
      'the call record',
      async () => (await db.collection('calls').findOne({ _id: result.callId as never, status: 'ended' })) ?? undefined,
    );
    expect(record).toMatchObject({ callerId: alice, participants: [alice, bob], media: 'audio', endReason: 'hangup' });
    expect(record['answeredAt']).toBeInstanceOf(Date);
    expect(record['endedAt']).toBeInstanceOf(Date);
    expect(record['durationMs']).toBeGreaterThan(0);
    const message = await waitUntil(
      'the call message',
      async () => (await db.collection('messages').findOne({ type: 'call', 'call.callId': result.callId })) ?? undefined,
    );
    expect(message).toMatchObject({ senderId: alice, call: { callId: result.callId, endReason: 'hangup', media: 'audio' } });
  }, 90_000);
});

/** What the test page puts on its window (the test tsconfig has no DOM types). */
interface PageApi {
  events: Array<{ event: string; data: unknown }>;
  received: string[];
  pc?: { signalingState: string };
  connect(url: string, token: string): Promise<unknown>;
  request(event: string, data: unknown): Promise<unknown>;
  waitFor(event: string, match?: (data: unknown) => boolean, ms?: number): Promise<unknown>;
  answerCalls(): void;
  call(conversationId: string, text: string): Promise<CallResult>;
}
