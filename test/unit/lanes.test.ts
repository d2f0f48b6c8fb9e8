/**
 * The lane table and the shed rules (src/gateway/lanes.ts, pressure.ts, skips.ts): every declared
 * server event has its lane written down, money and battle frames are never sheddable, and the
 * thresholds and levels decide exactly as docs/PROTOCOL.md says.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { GATEWAY_EVENTS } from '../../src/gateway/events.js';
import { EVENT_LANES, directLane, laneOf, requestLane } from '../../src/gateway/lanes.js';
import { PressureMonitor, ShedPolicy } from '../../src/gateway/pressure.js';
import { SkipLedger } from '../../src/gateway/skips.js';
import { CHAT_EVENTS } from '../../src/handlers/chat/schemas.js';
import { GIFT_EVENTS } from '../../src/handlers/gifts/schemas.js';
import { LIVESTREAM_EVENTS } from '../../src/handlers/livestream/schemas.js';

const overload = (env: Record<string, string> = {}) => loadConfig({ JWT_SECRET: 'x'.repeat(32), ...env }).overload;

describe('lane table', () => {
  it('gives every declared server event an explicit lane', () => {
    const declared = Object.keys({ ...GATEWAY_EVENTS, ...LIVESTREAM_EVENTS, ...GIFT_EVENTS, ...CHAT_EVENTS });
    expect(declared.filter((event) => !(event in EVENT_LANES))).toEqual([]);
  });

  it('never puts money, battle, wallet or session frames in a sheddable lane', () => {
    for (const [event, lane] of Object.entries(EVENT_LANES)) {
      if (/^(gift|pk_battle|wallet|payment|payout|session|room):/.test(event))
        expect([event, lane]).toEqual([event, expect.stringMatching(/^(control|money)$/)]);
    }
    expect(laneOf('gift:sent')).toBe('money');
    expect(laneOf('pk_battle:score')).toBe('money');
    expect(laneOf('room:skipped')).toBe('control');
  });

  it('makes unlisted room frames chat, unlisted direct frames control, unlisted requests never refused', () => {
    expect(laneOf('app:custom')).toBe('chat');
    expect(directLane('ack')).toBe('control');
    expect(directLane('eio:pong')).toBe('control');
    expect(directLane('livestream:viewers')).toBe('ambient');
    expect(requestLane('gift:send')).toBeUndefined();
    expect(requestLane('livestream:chat')).toBe('chat');
    expect(requestLane('typing')).toBe('ambient');
  });
});

describe('shed policy', () => {
  it('sheds by the socket buffer: ambient over its threshold, chat over its own, money and control never', () => {
    const config = overload({ LANE_AMBIENT_MAX_BYTES: '100', LANE_CHAT_MAX_BYTES: '1000', LANE_WATCH_BYTES: '10' });
    const policy = new ShedPolicy(config, new PressureMonitor(config));
    expect(policy.sheds('ambient', 100)).toBe(false);
    expect(policy.sheds('ambient', 101)).toBe(true);
    expect(policy.sheds('chat', 1000)).toBe(false);
    expect(policy.sheds('chat', 1001)).toBe(true);
    expect(policy.sheds('money', Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(policy.sheds('control', Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('refuses and sheds by node level: elevated ambient, critical chat too', () => {
    const config = overload({
      PRESSURE_LAG_ELEVATED_MS: '60000',
      PRESSURE_LAG_CRITICAL_MS: '60000',
      PRESSURE_BUFFERED_ELEVATED_BYTES: '100',
      PRESSURE_BUFFERED_CRITICAL_BYTES: '200',
    });
    const pressure = new PressureMonitor(config);
    const policy = new ShedPolicy(config, pressure);
    expect(pressure.update(99)).toBe('normal');
    expect([policy.refuses('ambient'), policy.refuses('chat'), policy.shedsEverywhere('ambient')]).toEqual([false, false, false]);
    expect(pressure.update(100)).toBe('elevated');
    expect([policy.refuses('ambient'), policy.refuses('chat'), policy.shedsEverywhere('ambient'), policy.sheds('ambient', 0)]).toEqual([
      true,
      false,
      true,
      true,
    ]);
    expect(pressure.update(200)).toBe('critical');
    expect([policy.refuses('chat'), policy.refuses('money'), policy.refuses(undefined), policy.shedsEverywhere('chat')]).toEqual([true, false, false, false]);
    const retry = policy.retryAfterMs();
    expect(retry).toBeGreaterThanOrEqual(config.retryAfterMs);
    expect(retry).toBeLessThan(2 * config.retryAfterMs);
    pressure.stop();
  });

  it('derives the lane thresholds from WS_MAX_BACKPRESSURE and refuses an order that cannot work', () => {
    expect(overload({ WS_MAX_BACKPRESSURE: '65536' })).toMatchObject({ watchBytes: 1024, ambientMaxBytes: 4096, chatMaxBytes: 16384 });
    expect(() => overload({ WS_MAX_BACKPRESSURE: '65536', LANE_CHAT_MAX_BYTES: '65536' })).toThrow(/LANE_CHAT_MAX_BYTES/);
    expect(() => overload({ LANE_WATCH_BYTES: '70000', LANE_AMBIENT_MAX_BYTES: '60000' })).toThrow(/LANE_WATCH_BYTES <= LANE_AMBIENT_MAX_BYTES/);
  });
});

describe('skip ledger', () => {
  it('keeps one contiguous run per room with counts per lane, taken once', () => {
    const ledger = new SkipLedger();
    ledger.add('r', 10, 'chat');
    ledger.add('r', 11, 'ambient');
    ledger.add('r', 12, 'chat');
    ledger.add('other', 5, 'ambient');
    expect(ledger.take('r')).toEqual({ room: 'r', fromSeq: 10, toSeq: 12, counts: { chat: 2, ambient: 1 } });
    expect(ledger.take('r')).toBeUndefined();
    ledger.merge('other', { fromSeq: 3, toSeq: 4, counts: { chat: 1, ambient: 1 } });
    expect(ledger.take('other')).toEqual({ room: 'other', fromSeq: 3, toSeq: 5, counts: { chat: 1, ambient: 2 } });
    expect(ledger.size).toBe(0);
  });
});
