import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../../src/kernel/signature.js';

const SECRET = 'whsec-0123456789abcdef';
const BODY = JSON.stringify({ id: 'e1', type: 'user.online', source: 'user:alice', createdAt: '2026-01-01T00:00:00Z', data: { userId: 'alice' } });
const NOW = 1_800_000_000;

describe('webhook signatures', () => {
  it('accepts the body it signed, within the tolerance window', () => {
    const header = signWebhook(SECRET, BODY, NOW);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, BODY, header, { now: NOW })).toEqual({ ok: true, timestamp: NOW });
    expect(verifyWebhookSignature(SECRET, Buffer.from(BODY), header, { now: NOW + 299 }).ok).toBe(true);
  });

  it('detects a tampered body', () => {
    const header = signWebhook(SECRET, BODY, NOW);
    const tampered = BODY.replace('alice', 'mallory');
    expect(verifyWebhookSignature(SECRET, tampered, header, { now: NOW })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(SECRET, BODY + ' ', header, { now: NOW })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('detects a wrong secret', () => {
    const header = signWebhook('another-secret-abcdef', BODY, NOW);
    expect(verifyWebhookSignature(SECRET, BODY, header, { now: NOW })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a replayed (old) timestamp and one from the future, even with a valid HMAC', () => {
    const header = signWebhook(SECRET, BODY, NOW);
    expect(verifyWebhookSignature(SECRET, BODY, header, { now: NOW + 301 })).toEqual({ ok: false, reason: 'too_old' });
    expect(verifyWebhookSignature(SECRET, BODY, header, { now: NOW + 30, toleranceSec: 10 })).toEqual({ ok: false, reason: 'too_old' });
    expect(verifyWebhookSignature(SECRET, BODY, header, { now: NOW - 301 })).toEqual({ ok: false, reason: 'in_future' });
  });

  it('refuses a re-dated replay: the timestamp is part of the signed text', () => {
    const old = signWebhook(SECRET, BODY, NOW - 3600);
    const redated = old.replace(`t=${NOW - 3600}`, `t=${NOW}`);
    expect(verifyWebhookSignature(SECRET, BODY, redated, { now: NOW })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses missing and malformed headers', () => {
    expect(verifyWebhookSignature(SECRET, BODY, undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyWebhookSignature(SECRET, BODY, 'garbage', { now: NOW })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyWebhookSignature(SECRET, BODY, `t=${NOW}`, { now: NOW })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyWebhookSignature(SECRET, BODY, `t=${NOW},v1=zz`, { now: NOW })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts any of several v1 signatures (secret rotation)', () => {
    const oldSig = signWebhook('old-secret-abcdef0123', BODY, NOW).split(',')[1]!;
    const header = `${signWebhook(SECRET, BODY, NOW)},${oldSig}`;
    expect(verifyWebhookSignature(SECRET, BODY, header, { now: NOW }).ok).toBe(true);
    expect(verifyWebhookSignature('old-secret-abcdef0123', BODY, header, { now: NOW }).ok).toBe(true);
  });
});
