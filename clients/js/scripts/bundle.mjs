/* global console, process */
// Browser bundles of @livegate/client (ESM, minified), built from dist/ by `npm run build`.
// Prints each bundle's minified and gzipped size; fails when the JSON bundle is over its budget.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET_GZIP_BYTES = 15 * 1024;

const bundles = [
  { name: 'livegate-client.min.js', entry: 'dist/index.js', budget: BUDGET_GZIP_BYTES },
  { name: 'livegate-client-msgpack.min.js', entry: 'dist/browser-msgpack.js' },
];

let failed = false;
for (const bundle of bundles) {
  const outfile = join(root, 'dist', 'browser', bundle.name);
  await build({
    entryPoints: [join(root, bundle.entry)],
    outfile,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'warning',
  });
  const code = readFileSync(outfile);
  const gzip = gzipSync(code, { level: 9 }).length;
  const over = bundle.budget !== undefined && gzip > bundle.budget;
  failed ||= over;
  const budget = bundle.budget === undefined ? '' : ` (budget ${(bundle.budget / 1024).toFixed(1)} KB${over ? ', OVER' : ''})`;
  console.log(`@livegate/client ${bundle.name}: ${(code.length / 1024).toFixed(1)} KB minified, ${(gzip / 1024).toFixed(1)} KB gzipped${budget}`);
}
if (failed) process.exit(1);
