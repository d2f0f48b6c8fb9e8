/**
 * A call's side effects (the `call` message, missed-call notifications) are committed with the
 * change that owes them and cleared once performed: when the committer fails to perform them (or
 * dies), the sweep of any node performs them after TIMER_LEASE_MS, once cleared never again.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CallsConfig } from '../../src/config.js';
import { MemoryCallStore } from '../../src/handlers/calls/calls-memory.js';
import { CallService, TIMER_LEASE_MS } from '../../src/handlers/calls/service.js';
import type { ChatService } from '../../src/handlers/chat/service.js';
import type { Notifier } from '../../src/handlers/notifications/service.js';
import type { Session } from '../../src/kernel/session.js';
import type { RoomHub } from '../../src/rooms/hub.js';
import type { Documents } from '../../src/store/documents.js';
import type { WriteQueue } from '../../src/store/write-queue.js';

const config: CallsConfig = {
  ringTimeoutMs: 30_000,
  reconnectGraceMs: 10_000,
  maxParties: 4,
  signalMaxBytes: 4096,
  signalPerSec: 10,
  signalBurst: 10,
  sweepMs: 50,
  turnSecret: undefined,
  turnUrls: [],
  stunUrls: [],
  turnTtlMs: 60_000,
};
const session = (userId: string): Session => ({ userId, connectionId: `c-${userId}`, nodeId: 'n1', role: 'user', dialect: 'json' });

describe('call side effects', () => {
  it('are retried by the sweep when the committer could not perform them, and performed once cleared', async () => {
    const notified: string[] = [];
    const posted: string[] = [];
    let failNext = true;
    const notifier = {
      notify: async (userId: string, input: { type: string; key?: string }) => {
        if (failNext) {
          failNext = false;
          throw new Error('notifications down');
        }
        notified.push(`${userId}:${input.type}:${input.key}`);
        return undefined;
      },
    } as unknown as Notifier;
    const chat = {
      get: async () => ({ members: [{ userId: 'alice' }, { userId: 'bob' }] }),
      postCall: async (_caller: string, conversationId: string, call: { callId: string }) => {
        posted.push(`${conversationId}:${call.callId}`);
        return { id: 'm', conversationId, createdAt: new Date().toISOString() };
      },
    } as unknown as ChatService;
    const hub = { send: () => undefined } as unknown as RoomHub;
    const queue = { enqueue: async () => undefined, enqueueGuarded: async () => true } as unknown as WriteQueue;
    const store = new MemoryCallStore();
    const calls = new CallService({
      store,
      hub,
      queue,
      documents: { configured: false } as unknown as Documents,
      chat,
      notifier,
      log: pino({ level: 'silent' }),
      config,
      nodeAlive: async () => true,
    });

    const callId = calls.newCallId();
    await calls.invite(session('alice'), callId, 'conv', 'audio');
    await calls.cancel(session('alice'), callId);
    // The committer tried (the notification failed, the message went out) and left the debt in place.
    await expect.poll(async () => (await store.get(callId))?.effects, { timeout: 5000 }).toMatchObject({ message: true, missed: ['bob'] });
    expect(notified).toEqual([]);
    expect(posted).toEqual(['conv:' + callId]);

    // Not due before its lease: the sweep leaves it.
    await calls.sweep(Date.now());
    expect(notified).toEqual([]);
    // Due: any node's sweep performs it (again: each effect is idempotent by the callId) and clears it.
    await calls.sweep(Date.now() + TIMER_LEASE_MS + 1);
    expect(notified).toEqual([`bob:missed_call:call:${callId}:missed`]);
    expect(posted).toEqual(['conv:' + callId, 'conv:' + callId]);
    expect((await store.get(callId))?.effects).toBeUndefined();
    await calls.sweep(Date.now() + 2 * TIMER_LEASE_MS + 2);
    expect(notified).toHaveLength(1);
    expect(posted).toHaveLength(2);
  });
});
