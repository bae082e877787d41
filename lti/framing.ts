import type { RequestHandler } from 'express';
import type { AppContext } from '../src/context.js';
import { loadSession } from '../src/session/index.js';
import { setCspDirective } from '../src/http/headers.js';
import { cachedPlatformOrigins } from './platforms.js';

/**
 * CSP `frame-ancestors` for pages Moodle shows in its iframe: exactly the origins of the
 * session's tenant's registered, active platforms; without a session nothing may frame us.
 */
export function allowPlatformFraming(ctx: AppContext): RequestHandler {
  return async (req, res, next) => {
    try {
      const session = await loadSession(ctx.db, ctx.clock, req);
      const origins = session ? await cachedPlatformOrigins(ctx.db, session.tenantId) : [];
      setCspDirective(res, 'frame-ancestors', origins.length > 0 ? origins.join(' ') : "'none'");
      next();
    } catch (err) {
      next(err);
    }
  };
}
