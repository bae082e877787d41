import express, { type Express } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { registerTokenRoutes } from './auth/routes.js';
import { authenticateToken, bearerToken } from './auth/tokens.js';
import { registerBackendRoutes } from './backends/routes.js';
import type { AppContext } from './context.js';
import { Api } from './http/api.js';
import { notFoundHandler, problemHandler, requireJsonBody, sendProblem } from './http/errors.js';
import { observe } from './http/observe.js';
import { openApiDocument } from './http/openapi.js';
import { registerOpsRoutes } from './ops/routes.js';
import { ProblemError } from './shared/errors.js';
import { mountAssets } from './web/assets.js';
import { registerTenantRoutes } from './tenants/routes.js';
import { findBySlug } from './tenants/store.js';

export const API_VERSION = '1.0.0';

/** Hook for modules that serve more than the REST API (LTI, pages); called before the fallbacks. */
export type Mount = (app: Express, api: Api, ctx: AppContext) => void;

export function createApp(ctx: AppContext, mounts: Mount[] = []): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy);
  app.set('query parser', 'simple');

  app.use(observe(ctx.logger, ctx.audit, ctx.metrics));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true }, // SEC-02
      referrerPolicy: { policy: 'no-referrer' },
      xFrameOptions: false, // framing is decided by CSP frame-ancestors (LTI pages allow the platforms)
    }),
  );

  registerOpsRoutes(app, ctx);
  mountAssets(app);

  const api = new Api({
    authenticate: async (req) => {
      const token = bearerToken(req.headers.authorization);
      return token ? authenticateToken(ctx.db, ctx.clock, ctx.operatorTokenHash, token) : null;
    },
    findTenant: (slug, includeDeleted) => findBySlug(ctx.db, slug, includeDeleted),
  });
  registerTenantRoutes(api, ctx);
  registerTokenRoutes(api, ctx);
  registerBackendRoutes(api, ctx);

  for (const mount of mounts) mount(app, api, ctx);

  api.router.get('/openapi.json', (req, res) => {
    res.locals.routeTemplate = '/api/v1/openapi.json';
    res.json(openApiDocument(api.specs, ctx.config.publicUrl, API_VERSION));
  });

  app.use(
    '/api/v1',
    // Credential guessing is slowed down: failed authentications per client are limited.
    rateLimit({
      windowMs: 15 * 60_000,
      limit: 50,
      skipSuccessfulRequests: true,
      requestWasSuccessful: (_req, res) => res.statusCode !== 401,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      handler: (req, res) => sendProblem(req, res, new ProblemError(429, 'rate-limited', 'Zu viele fehlgeschlagene Anmeldungen; bitte später erneut versuchen.')),
    }),
    requireJsonBody,
    express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }),
    api.router,
  );

  app.use(notFoundHandler);
  app.use(problemHandler(ctx.logger));
  return app;
}
