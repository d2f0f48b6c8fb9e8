import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { CircuitBreaker, type BreakerState } from '../../src/handlers/proxy/breaker.js';
import { ProxyRules } from '../../src/handlers/proxy/rules.js';

describe('event proxy circuit breaker', () => {
  const make = () => {
    let now = 1_000;
    const moves: BreakerState[] = [];
    const breaker = new CircuitBreaker(
      3,
      500,
      (to) => moves.push(to),
      () => now,
    );
    return { breaker, moves, advance: (ms: number) => (now += ms) };
  };

  it('opens after N consecutive failures only; a success resets the count', () => {
    const { breaker, moves } = make();
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.admit()).toEqual({ ok: false, retryInMs: 500 });
    expect(moves).toEqual(['open']);
  });

  it('lets exactly one probe through when half-open; its failure reopens, its success closes', () => {
    const { breaker, moves, advance } = make();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(200);
    expect(breaker.admit()).toEqual({ ok: false, retryInMs: 300 });
    advance(300);
    expect(breaker.admit()).toEqual({ ok: true, probe: true });
    expect(breaker.admit().ok).toBe(false);
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.admit().ok).toBe(false);
    advance(500);
    expect(breaker.admit()).toEqual({ ok: true, probe: true });
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.admit()).toEqual({ ok: true, probe: false });
    expect(moves).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });
});

describe('PROXY_EVENTS rules', () => {
  it('matches exact names and prefixes, the longest prefix first', () => {
    const rules = new ProxyRules(['custom_event', 'app:*', 'app:admin:*']);
    expect(rules.match('custom_event')).toBe('custom_event');
    expect(rules.match('custom_event2')).toBeUndefined();
    expect(rules.match('app:score')).toBe('app:*');
    expect(rules.match('app:admin:ban')).toBe('app:admin:*');
    expect(rules.match('other')).toBeUndefined();
    expect(new ProxyRules(['*']).match('anything')).toBe('*');
  });
});

describe('proxy configuration', () => {
  const base = { JWT_SECRET: 'x'.repeat(32) };
  it('is off by default and refuses half a setup', () => {
    expect(loadConfig(base).proxy.url).toBeUndefined();
    expect(() => loadConfig({ ...base, PROXY_URL: 'http://127.0.0.1:1/x', PROXY_EVENTS: 'app:*' })).toThrow(/PROXY_SECRET/);
    expect(() => loadConfig({ ...base, PROXY_URL: 'http://127.0.0.1:1/x', PROXY_SECRET: 's'.repeat(16) })).toThrow(/PROXY_EVENTS/);
    expect(() => loadConfig({ ...base, PROXY_EVENTS: 'app:*' })).toThrow(/PROXY_URL/);
    expect(() => loadConfig({ ...base, PROXY_URL: 'http://127.0.0.1:1/x', PROXY_SECRET: 's'.repeat(16), PROXY_EVENTS: 'app:*:x' })).toThrow(/PROXY_EVENTS/);
    const ok = loadConfig({ ...base, PROXY_URL: 'http://127.0.0.1:1/x', PROXY_SECRET: 's'.repeat(16), PROXY_EVENTS: 'app:*, custom_event' });
    expect(ok.proxy).toMatchObject({ events: ['app:*', 'custom_event'], timeoutMs: 5000, concurrency: 256, breakerFailures: 5, breakerOpenMs: 10000 });
  });
});
