import express, { type Request, type Response } from 'express';
import { readCookie } from '../src/http/headers.js';
import { z } from 'zod';
import type { Mount } from '../src/app.js';
import { actorOf } from '../src/auth/principal.js';
import type { AppContext } from '../src/context.js';
import type { Api } from '../src/http/api.js';
import { APP_ROLES } from '../src/identity/roles.js';
import { setSessionCookie } from '../src/session/index.js';
import { ProblemError } from '../src/shared/errors.js';
import { registerDeepLinkingPages } from './deep-linking.js';
import { JwksCache } from './jwks.js';
import { beginLogin, completeLaunch, LaunchError, verifyLaunch, type LoginRequest } from './launch.js';
import { errorPage, originOf } from './pages.js';
import { deletePlatform, insertPlatform, newToolKeyPair, platformOfTenant, platformsOfTenant, setPlatformActive, type PlatformRow } from './platforms.js';
import { effectiveMapping } from './policy.js';
import { ltiFor, type Lti } from './provider.js';
import { registerDynamicRegistration } from './registration.js';
import { registerRosterRoutes } from './nrps.js';

export const STATE_COOKIE_PREFIX = 'sb_lti_state_';

const platformIn = z
  .object({
    issuer: z.url({ protocol: /^https?$/ }).describe('`iss` of the platform, e.g. https://moodle.schule.de'),
    clientId: z.string().trim().min(1).max(255),
    deploymentIds: z.array(z.string().trim().min(1).max(255)).min(1).max(50),
    authEndpoint: z.url({ protocol: /^https?$/ }),
    tokenEndpoint: z.url({ protocol: /^https?$/ }),
    jwksUrl: z.url({ protocol: /^https?$/ }),
    name: z.string().trim().min(1).max(200),
  })
  .strict();

const platformOut = z.object({
  id: z.uuid(),
  issuer: z.string(),
  clientId: z.string(),
  deploymentIds: z.array(z.string()),
  name: z.string(),
  authEndpoint: z.string(),
  tokenEndpoint: z.string(),
  jwksUrl: z.string(),
  active: z.boolean(),
  registeredBy: z.enum(['static', 'dynamic']),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function presentPlatform(p: PlatformRow): z.infer<typeof platformOut> {
  return {
    id: p.id,
    issuer: p.issuer,
    clientId: p.client_id,
    deploymentIds: p.deployment_ids,
    name: p.name,
    authEndpoint: p.auth_endpoint,
    tokenEndpoint: p.token_endpoint,
    jwksUrl: p.jwks_url,
    active: p.active,
    registeredBy: p.registered_by as 'static' | 'dynamic',
    createdAt: p.created_at.toISOString(),
    updatedAt: p.updated_at.toISOString(),
  };
}

const slugParams = z.object({ slug: z.string() });
const platformParams = z.object({ slug: z.string(), id: z.string() });
const roleMapping = z.record(z.string().trim().min(1).max(300), z.array(z.enum(APP_ROLES)).max(APP_ROLES.length));

/** The state cookie of this browser: one per login (several iframes may launch at once). */
function stateFromCookies(req: Request, state: unknown): string | null {
  if (typeof state !== 'string' || !/^[A-Za-z0-9_-]{10,64}$/.test(state)) return null;
  return readCookie(req, `${STATE_COOKIE_PREFIX}${state}`) === '1' ? state : null;
}

function sendLaunchError(req: Request, res: Response, ctx: AppContext, err: unknown, action: string): void {
  if (err instanceof LaunchError) {
    if (err.platform) {
      ctx.audit.activity({ tenantId: err.platform.tenant_id, action, objectType: 'lti_platform', objectId: err.platform.id, outcome: 'deny', ruleIds: ['VC-01'], details: { code: err.code } });
    }
    errorPage(req, res, err.status, err.detail, { frameOrigin: err.platform ? originOf(err.platform.issuer) : undefined, ruleIds: ['VC-01'] });
    return;
  }
  ctx.logger.error({ err }, 'lti request failed');
  errorPage(req, res, 500, 'Ein interner Fehler ist aufgetreten. Bitte später erneut versuchen.');
}

export function registerLtiPages(app: express.Express, ctx: AppContext, lti: Lti, jwks: JwksCache): void {
  const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });

  const login = async (req: Request, res: Response) => {
    res.locals.routeTemplate = '/lti/login';
    const source = (req.method === 'POST' ? req.body : req.query) as Record<string, unknown>;
    const pick = (k: keyof LoginRequest) => (typeof source?.[k] === 'string' ? (source[k] as string) : undefined);
    try {
      const { redirect, state } = await beginLogin(ctx, lti, {
        iss: pick('iss'),
        login_hint: pick('login_hint'),
        target_link_uri: pick('target_link_uri'),
        lti_message_hint: pick('lti_message_hint'),
        client_id: pick('client_id'),
        lti_deployment_id: pick('lti_deployment_id'),
      });
      // SEC-03: a session cookie (no Max-Age/Expires), only for /lti, partitioned for Moodle's iframe.
      res.append('Set-Cookie', `${STATE_COOKIE_PREFIX}${state}=1; Path=/lti; HttpOnly; Secure; SameSite=None; Partitioned`);
      res.redirect(302, redirect);
    } catch (err) {
      sendLaunchError(req, res, ctx, err, 'lti.login');
    }
  };
  app.get('/lti/login', login);
  app.post('/lti/login', form, login);

  app.post('/lti/launch', form, async (req: Request, res: Response) => {
    res.locals.routeTemplate = '/lti/launch';
    const body = (req.body ?? {}) as { id_token?: unknown; state?: unknown };
    if (typeof body.state === 'string' && /^[A-Za-z0-9_-]{10,64}$/.test(body.state)) {
      res.append('Set-Cookie', `${STATE_COOKIE_PREFIX}${body.state}=; Path=/lti; HttpOnly; Secure; SameSite=None; Partitioned; Max-Age=0`);
    }
    try {
      const verified = await verifyLaunch(ctx, lti, jwks, body, stateFromCookies(req, body.state));
      const outcome = await completeLaunch(ctx, verified);
      res.locals.tenantId = outcome.tenantId;
      setSessionCookie(res, outcome.sessionToken);
      res.redirect(303, outcome.location);
    } catch (err) {
      sendLaunchError(req, res, ctx, err, 'lti.launch');
    }
  });

  // The tool's JWKS is served by ltijs itself, its express app mounted into ours (serverless):
  // only GET /lti/keys reaches it; its login and launch handling is not used (see launch.ts).
  app.use('/lti/keys', (req: Request, res: Response, next) => {
    res.locals.routeTemplate = '/lti/keys';
    if (req.method !== 'GET' || (req.path !== '/' && req.path !== '')) {
      errorPage(req, res, 404, 'Nicht gefunden.');
      return;
    }
    res.set('Cache-Control', 'public, max-age=300');
    next();
  });
  app.use('/lti/keys', lti.provider.app as unknown as express.Express);
}

export function registerLtiApi(api: Api, ctx: AppContext, lti: Lti): void {
  const { db, clock, audit } = ctx;

  api.route({
    method: 'post',
    path: '/tenants/{slug}/platforms',
    summary: 'Register an LTI 1.3 platform (e.g. Moodle) for this tenant (static registration)',
    tag: 'lti',
    access: { scopes: ['admin'] },
    params: slugParams,
    body: platformIn,
    status: 201,
    response: platformOut,
    errors: [409],
    async handler({ tenant, body, principal, res }) {
      const keys = await newToolKeyPair();
      const row = await db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('lti_platforms').select('id').where('issuer', '=', body.issuer).where('client_id', '=', body.clientId).executeTakeFirst();
        // ACC-04: one registration belongs to one tenant; the answer does not say whose it is.
        if (existing) throw new ProblemError(409, 'conflict', 'Diese Plattform (issuer und client_id) ist bereits registriert.', { ruleIds: ['ACC-04'] });
        const created = await insertPlatform(trx, lti.store, clock, { ...body, tenantId: tenant.id, active: true, registeredBy: 'static' }, keys);
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'lti.platform.create', objectType: 'lti_platform', objectId: created.id });
        return created;
      });
      res.location(`/api/v1/tenants/${tenant.slug}/platforms/${row.id}`);
      return presentPlatform(row);
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/platforms',
    summary: "List this tenant's LTI platforms",
    tag: 'lti',
    access: { scopes: ['admin'] },
    params: slugParams,
    response: z.object({ items: z.array(platformOut) }),
    async handler({ tenant }) {
      return { items: (await platformsOfTenant(db, tenant.id)).map(presentPlatform) };
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/platforms/{id}',
    summary: 'Read one LTI platform',
    tag: 'lti',
    access: { scopes: ['admin'] },
    params: platformParams,
    response: platformOut,
    async handler({ tenant, params }) {
      const row = await platformOfTenant(db, tenant.id, params.id);
      if (!row) throw new ProblemError(404, 'not-found', 'Keine solche Plattform bei dieser Schule.', { ruleIds: ['ACC-04'] });
      return presentPlatform(row);
    },
  });

  api.route({
    method: 'patch',
    path: '/tenants/{slug}/platforms/{id}',
    summary: 'Activate or deactivate a platform (dynamically registered ones start inactive)',
    tag: 'lti',
    access: { scopes: ['admin'] },
    params: platformParams,
    body: z.object({ active: z.boolean() }).strict(),
    response: platformOut,
    async handler({ tenant, params, body, principal }) {
      const row = await db.transaction().execute(async (trx) => {
        const found = await platformOfTenant(trx, tenant.id, params.id);
        if (!found) throw new ProblemError(404, 'not-found', 'Keine solche Plattform bei dieser Schule.', { ruleIds: ['ACC-04'] });
        const updated = await setPlatformActive(trx, lti.store, clock, found, body.active);
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: body.active ? 'lti.platform.activate' : 'lti.platform.deactivate', objectType: 'lti_platform', objectId: found.id });
        return updated;
      });
      return presentPlatform(row);
    },
  });

  api.route({
    method: 'delete',
    path: '/tenants/{slug}/platforms/{id}',
    summary: 'Remove a platform registration (its launches stop at once)',
    tag: 'lti',
    access: { scopes: ['admin'] },
    params: platformParams,
    status: 204,
    async handler({ tenant, params, principal }) {
      await db.transaction().execute(async (trx) => {
        const found = await platformOfTenant(trx, tenant.id, params.id);
        if (!found) throw new ProblemError(404, 'not-found', 'Keine solche Plattform bei dieser Schule.', { ruleIds: ['ACC-04'] });
        await deletePlatform(trx, found);
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'lti.platform.delete', objectType: 'lti_platform', objectId: found.id });
      });
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/lti/role-mapping',
    summary: 'The effective mapping of LTI role URIs to app roles (defaults plus this tenant’s changes)',
    tag: 'lti',
    access: { scopes: ['admin'] },
    params: slugParams,
    response: z.object({ mapping: roleMapping, overrides: roleMapping }),
    async handler({ tenant }) {
      const stored = await db.selectFrom('lti_role_mappings').select('mapping').where('tenant_id', '=', tenant.id).executeTakeFirst();
      return { mapping: effectiveMapping(stored?.mapping), overrides: stored?.mapping ?? {} };
    },
  });

  api.route({
    method: 'put',
    path: '/tenants/{slug}/lti/role-mapping',
    summary: 'Set this tenant’s changes to the role mapping (entries replace the default for that URI; {} restores the defaults)',
    tag: 'lti',
    access: { scopes: ['admin'] },
    params: slugParams,
    body: z.object({ overrides: roleMapping }).strict(),
    response: z.object({ mapping: roleMapping, overrides: roleMapping }),
    async handler({ tenant, body, principal }) {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('lti_role_mappings')
          .values({ tenant_id: tenant.id, mapping: JSON.stringify(body.overrides), updated_at: clock.now() })
          .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ mapping: JSON.stringify(body.overrides), updated_at: clock.now() }))
          .execute();
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'lti.role-mapping.update', objectType: 'tenant', objectId: tenant.id });
      });
      return { mapping: effectiveMapping(body.overrides), overrides: body.overrides };
    },
  });
}

/** Per app: one ltijs provider on this app's store, one JWKS cache. */
export const ltiMount: Mount = (app, api, ctx) => {
  const lti = ltiFor(ctx);
  const jwks = new JwksCache(ctx.clock);
  registerLtiPages(app, ctx, lti, jwks);
  registerDeepLinkingPages(app, ctx, lti);
  registerDynamicRegistration(app, api, ctx, lti);
  registerLtiApi(api, ctx, lti);
  registerRosterRoutes(app, api, ctx);
};
