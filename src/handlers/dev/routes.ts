/** POST /api/dev/token: demo sign-in. Mounted always (so it is documented), refused unless DEV_TOKENS=true. */
import type { Logger } from 'pino';
import { defineRoute } from '../../gateway/http/route.js';
import type { RouteDef } from '../../gateway/http/types.js';
import { AppError } from '../../kernel/errors.js';
import { DevToken, DevTokenRequest } from './schemas.js';
import type { DevTokenSigner } from './service.js';

export function devRoutes(opts: { enabled: boolean; signer: DevTokenSigner; log: Logger }): RouteDef[] {
  const { enabled, signer, log } = opts;
  return [
    defineRoute(
      {
        method: 'post',
        path: '/api/dev/token',
        operationId: 'issueDevToken',
        summary: 'Development only: a user token for any user id, no password (403 unless DEV_TOKENS=true)',
        description: 'For demos and local development. The token is HS256, signed with JWT_SECRET, role `user`, valid 12 hours.',
        tags: ['dev'],
        auth: 'none',
        body: DevTokenRequest,
        response: DevToken,
        status: 201,
        errors: ['forbidden', 'unavailable'],
      },
      async ({ body }) => {
        if (!enabled) throw new AppError('forbidden', 'development tokens are off (DEV_TOKENS=false)');
        const issued = await signer.sign(body.userId, body.name ?? body.userId);
        log.info({ userId: body.userId }, 'development token issued');
        return issued;
      },
    ),
  ];
}
