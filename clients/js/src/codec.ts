/** Frame encodings of the native `/ws` dialect. JSON is built in; msgpack is `@livegate/client/msgpack`. */

/** What goes over the socket: text for JSON, bytes for msgpack. */
export type WireData = string | ArrayBuffer | Uint8Array;

export interface Codec {
  /** The `encoding` query value the server is asked for. */
  readonly name: 'json' | 'msgpack';
  encode(frame: object): WireData;
  decode(data: WireData): unknown;
}

const text = new TextDecoder();

export const json: Codec = {
  name: 'json',
  encode: (frame) => JSON.stringify(frame),
  decode: (data) => JSON.parse(typeof data === 'string' ? data : text.decode(data)) as unknown,
};
