/**
 * GET /demo/ and its two assets: the live-room demo page, bundled by `npm run build` into dist/demo/
 * (demo/ in the repository). Mounted always (so it is documented), 404 unless DEMO=true.
 */
import { Type } from '@sinclair/typebox';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { AppError } from '../../kernel/errors.js';

/** One file of the page: the URL path it is served at, its name in dist/demo/, its content type. */
interface Asset {
  path: string;
  file: string;
  contentType: string;
  operationId: string;
  summary: string;
}

export const DEMO_ASSETS: readonly Asset[] = [
  { path: '/demo', file: 'index.html', contentType: 'text/html', operationId: 'getDemo', summary: 'The live-room demo page (404 unless DEMO=true)' },
  { path: '/demo/', file: 'index.html', contentType: 'text/html', operationId: 'getDemoIndex', summary: 'The live-room demo page (404 unless DEMO=true)' },
  {
    path: '/demo/app.js',
    file: 'app.js',
    contentType: 'text/javascript',
    operationId: 'getDemoScript',
    summary: "The demo page's script (bundled with @livegate/client)",
  },
  { path: '/demo/style.css', file: 'style.css', contentType: 'text/css', operationId: 'getDemoStyle', summary: "The demo page's style sheet" },
];

/** `files(name)`: the asset's text, undefined when the build has not made it. */
export function demoRoutes(opts: { enabled: boolean; files: (file: string) => string | undefined }): RouteDef[] {
  return DEMO_ASSETS.map((asset) =>
    defineRoute(
      {
        method: 'get',
        path: asset.path,
        operationId: asset.operationId,
        summary: asset.summary,
        tags: ['dev'],
        auth: 'none',
        contentType: asset.contentType,
        response: Type.String(),
        errors: ['not_found', 'unavailable'],
      },
      () => {
        if (!opts.enabled) throw new AppError('not_found', 'the demo is off (DEMO=false)');
        const text = opts.files(asset.file);
        if (text === undefined) throw new AppError('unavailable', `dist/demo/${asset.file} is missing: run npm run build`);
        return text;
      },
    ),
  );
}
