/* global console */
// The live-room demo page (`npm run build`): demo/src/main.ts bundled with @livegate/client by esbuild
// into dist/demo/app.js, beside index.html and style.css; the gateway serves them at /demo/ (DEMO=true).
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'demo');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: join(out, 'app.js'),
  tsconfig: join(here, 'tsconfig.json'),
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) copyFileSync(join(here, file), join(out, file));
const gz = gzipSync(readFileSync(join(out, 'app.js')), { level: 9 }).length;
console.log(`demo: dist/demo/app.js ${(gz / 1024).toFixed(1)} KB gzipped`);
