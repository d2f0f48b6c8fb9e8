import { decode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { exactIntegers, msgpackEncoder } from '../../src/gateway/codecs/native.js';

/** A strict reading: int64/uint64 come back as bigint, float64 as number; `strict` then refuses any float where an integer is expected. */
const strict = (frame: unknown): unknown => decode(frame as Uint8Array, { useBigInt64: true });

/** The msgpack type byte written right before the 8 bytes of `value` (0xd3 int64, 0xcf uint64, 0xcb float64). */
function typeByteOf(frame: Uint8Array, value: bigint): number | undefined {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  for (let i = 1; i + 8 <= frame.length; i++) {
    if (view.getBigUint64(i) === BigInt.asUintN(64, value)) return frame[i - 1];
  }
  return undefined;
}

describe('msgpack integers on /ws', () => {
  const seq = 1_763_772_000_123_456; // above 2^32 (and 2^50): what a room seq looks like
  const frame = msgpackEncoder.event(
    'gift:sent',
    { coins: 5_000_000_000, negative: -5_000_000_000, ratio: 0.5, small: 7, nested: [{ at: 2 ** 40 }] },
    { room: 'user:1', seq },
  );

  it('encodes integers above 32 bits as int64/uint64, never float64', () => {
    const bytes = frame as Uint8Array;
    // int64 (0xd3) below 2^63, uint64 (0xcf) above; float64 (0xcb) never.
    for (const value of [BigInt(seq), 5_000_000_000n, -5_000_000_000n, 2n ** 40n]) expect(typeByteOf(bytes, value), String(value)).toBe(0xd3);
    expect(typeByteOf(msgpackEncoder.ack(1, { big: 2 ** 63 + 2 ** 20 }) as Uint8Array, 2n ** 63n + 2n ** 20n)).toBe(0xcf);
  });

  it('decodes exactly with a strict decoder (bigint for 64-bit integers; floats stay floats)', () => {
    expect(strict(frame)).toEqual({
      event: 'gift:sent',
      data: { coins: 5_000_000_000n, negative: -5_000_000_000n, ratio: 0.5, small: 7, nested: [{ at: 2n ** 40n }] },
      room: 'user:1',
      seq: BigInt(seq),
    });
    const ack = strict(msgpackEncoder.ack(9, { balance: 2 ** 53 - 1 })) as { data: { balance: unknown } };
    expect(ack.data.balance).toBe(BigInt(2 ** 53 - 1));
  });

  it('leaves values without wide integers untouched (same reference), and non-integers alone', () => {
    const plain = { a: [1, 2, { b: 'x' }], c: 1.5, d: 2 ** 31, e: new Date(0) };
    expect(exactIntegers(plain)).toBe(plain);
    expect(exactIntegers(1e300)).toBe(1e300);
    expect(exactIntegers(2 ** 64)).toBe(2 ** 64); // beyond uint64: stays a float
    expect(exactIntegers(-(2 ** 63))).toBe(-(2n ** 63n));
  });
});
