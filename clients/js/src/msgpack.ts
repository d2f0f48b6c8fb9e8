/**
 * The msgpack codec: `new LivegateClient({ urls, token, format: msgpack })`. A separate entry so the
 * JSON-only bundle does not carry a msgpack library. Plain maps, as the server sends them.
 */
import { Packr } from 'msgpackr';
import type { Codec, WireData } from './codec.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

const bytes = (data: WireData): Uint8Array =>
  typeof data === 'string' ? new TextEncoder().encode(data) : data instanceof Uint8Array ? data : new Uint8Array(data);

export const msgpack: Codec = {
  name: 'msgpack',
  encode: (frame) => packr.pack(frame),
  // session:ready can arrive as JSON text before the server settled the encoding (docs/PROTOCOL.md).
  decode: (data) => (typeof data === 'string' ? (JSON.parse(data) as unknown) : packr.unpack(bytes(data))),
};
