import { describe, expect, it } from 'vitest';
import { decodeJson, decodeMsgpack, jsonEncoder, msgpack, msgpackEncoder } from '../../src/gateway/codecs/native.js';
import { parseSioFrame, sioEncoder } from '../../src/gateway/codecs/socketio.js';
import { TokenBucket } from '../../src/gateway/rate-limit.js';

describe('native codec', () => {
  it('decodes the same envelope from JSON and msgpack', () => {
    const envelope = { event: 'message:send', id: 7, data: { text: 'hi' } };
    const fromJson = decodeJson(JSON.stringify(envelope));
    const fromPack = decodeMsgpack(msgpack.pack(envelope));
    expect(fromJson).toEqual({ ok: true, request: { event: 'message:send', ackId: 7, data: { text: 'hi' } } });
    expect(fromPack).toEqual(fromJson);
  });

  it('keeps the request id on envelope errors so the client can match them', () => {
    const result = decodeJson('{"id": "abc", "event": ""}');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.ackId).toBe('abc');
  });

  it('encodes room events with room and seq, acks and errors', () => {
    expect(JSON.parse(jsonEncoder.event('e', { a: 1 }, { room: 'r', seq: 3 }) as string)).toEqual({ event: 'e', data: { a: 1 }, room: 'r', seq: 3 });
    expect(msgpack.unpack(msgpackEncoder.ack(1, { ok: true }) as Uint8Array)).toEqual({ ack: 1, data: { ok: true } });
    expect(JSON.parse(jsonEncoder.error(undefined, { code: 'internal', message: 'x' }) as string)).toEqual({ error: { code: 'internal', message: 'x' } });
  });
});

describe('Socket.IO packets', () => {
  it('parses CONNECT with auth, EVENT with ack id, pong and DISCONNECT', () => {
    expect(parseSioFrame('40{"token":"t"}')).toEqual({ kind: 'connect', nsp: '/', auth: { token: 't' } });
    expect(parseSioFrame('4212["message:send",{"text":"hi"}]')).toEqual({
      kind: 'event',
      nsp: '/',
      ackId: 12,
      args: ['message:send', { text: 'hi' }],
      attachments: 0,
    });
    expect(parseSioFrame('42/chat,3["x"]')).toEqual({ kind: 'event', nsp: '/chat', ackId: 3, args: ['x'], attachments: 0 });
    expect(parseSioFrame('452-/chat,7["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')).toMatchObject({
      kind: 'event',
      nsp: '/chat',
      ackId: 7,
      attachments: 2,
    });
    expect(parseSioFrame('3')).toEqual({ kind: 'pong' });
    expect(parseSioFrame('41')).toEqual({ kind: 'disconnect', nsp: '/' });
  });

  it('prints acks with the single result argument, events with exactly their data, binaries as attachments', () => {
    expect(sioEncoder.ack(5, { a: 1 })).toBe('435[{"a":1}]');
    expect(sioEncoder.error(5, { code: 'forbidden', message: 'no' })).toBe('435[{"error":{"code":"forbidden","message":"no"}}]');
    expect(sioEncoder.event('e', 1, { room: 'r', seq: 2 })).toBe('42["e",1]');
    const bytes = Buffer.from([1, 2]);
    expect(sioEncoder.ack(5, { f: bytes })).toEqual(['461-5[{"f":{"_placeholder":true,"num":0}}]', bytes]);
  });

  it('refuses oversized ack ids and unknown types', () => {
    expect(parseSioFrame('42' + '9'.repeat(20) + '["x"]').kind).toBe('invalid');
    expect(parseSioFrame('7').kind).toBe('invalid');
  });
});

describe('token bucket', () => {
  it('allows a burst, then refills at the configured rate', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)].every((r) => r.ok)).toBe(true);
    expect(bucket.take(0)).toEqual({ ok: false, retryAfterMs: 100 });
    expect(bucket.take(100).ok).toBe(true);
    expect(bucket.take(100).ok).toBe(false);
    expect(bucket.take(10_000).ok).toBe(true);
  });
});
