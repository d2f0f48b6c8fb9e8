import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = { JWT_SECRET: 'x'.repeat(32) };

describe('bridge and webhook configuration', () => {
  it('has webhooks off and the emitter on by default', () => {
    const config = loadConfig(base);
    expect(config.webhooks).toMatchObject({ url: undefined, secret: undefined, events: [], urls: {}, maxAttempts: 30, queueMax: 100_000 });
    expect(config.bridge).toMatchObject({ emitter: true, emitterKey: 'socket.io', emitterUserPrefixes: ['user:', 'notifications:'], maxEventBytes: 65536 });
  });

  it('parses types, per-type URLs and requires a secret with a receiver', () => {
    const config = loadConfig({
      ...base,
      WEBHOOK_URL: 'https://hooks.example/in',
      WEBHOOK_SECRET: 's'.repeat(16),
      WEBHOOK_EVENTS: 'gift.sent, user.online',
      WEBHOOK_URLS: 'gift.sent=https://pay.example/gifts',
    });
    expect(config.webhooks.events).toEqual(['gift.sent', 'user.online']);
    expect(config.webhooks.urls).toEqual({ 'gift.sent': 'https://pay.example/gifts' });
    expect(() => loadConfig({ ...base, WEBHOOK_URL: 'https://hooks.example/in' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, WEBHOOK_URL: 'https://h.example', WEBHOOK_SECRET: 'short' })).toThrow(/at least 16/);
  });

  it('refuses unknown webhook types and malformed URLs', () => {
    const on = { ...base, WEBHOOK_URL: 'https://h.example', WEBHOOK_SECRET: 's'.repeat(16) };
    expect(() => loadConfig({ ...on, WEBHOOK_EVENTS: 'user.online,user.exploded' })).toThrow(/unknown webhook type "user.exploded"/);
    expect(() => loadConfig({ ...on, WEBHOOK_URLS: 'gift.sent' })).toThrow(/is not type=url/);
    expect(() => loadConfig({ ...on, WEBHOOK_URLS: 'nope=https://h.example' })).toThrow(/unknown webhook type/);
    expect(() => loadConfig({ ...base, WEBHOOK_URL: 'ftp://h.example', WEBHOOK_SECRET: 's'.repeat(16) })).toThrow(/must use http: or https:/);
  });
});
