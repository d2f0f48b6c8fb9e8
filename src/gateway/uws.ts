/**
 * Loads uWebSockets.js and refuses to run on its fallback. The republished build we depend on
 * silently swaps in a slow ws-based shim when the native addon fails to load; a gateway (or a
 * benchmark) on that shim would be lying about what it is.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as UwsTypes from 'uWebSockets.js';

const require = createRequire(import.meta.url);

export class NativeBinaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NativeBinaryError';
  }
}

export type Uws = typeof UwsTypes;

export function loadNativeUws(): Uws {
  const entry = require.resolve('uWebSockets.js');
  const binary = join(dirname(entry), '..', 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  let native: Uws;
  try {
    native = require(binary) as Uws;
  } catch (err) {
    throw new NativeBinaryError(
      `uWebSockets.js native binary did not load (${binary}): ${(err as Error).message}. ` +
        'livegate refuses to run on the JavaScript fallback. Use a Node.js version with a matching binary (Node 20: ABI 115).',
    );
  }
  const exported = require('uWebSockets.js') as Uws;
  if (exported !== native) {
    throw new NativeBinaryError(
      'uWebSockets.js loaded its JavaScript fallback instead of the native binary (is UWS_USE_FALLBACK set?). livegate refuses to run on it.',
    );
  }
  return native;
}
