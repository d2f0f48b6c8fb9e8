/** The browser bundle with the msgpack codec: everything of the package plus `msgpack`. */
export * from './index.js';
export { msgpack } from './msgpack.js';
