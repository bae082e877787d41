import type { Express, Request, Response } from 'express';
import { readCookie } from '../http/headers.js';
import { z } from 'zod';
import type { Mount } from '../app.js';
import { actorOf } from '../auth/principal.js';
import type { AppContext } from '../context.js';
import type { Api } from '../http/api.js';
import { toProblem } from '../http/errors.js';
import { requestLocale } from '../http/locale.js';
import { setSessionCookie } from '../session/index.js';
import { HOUR } from '../shared/clock.js';
import { notFound, ProblemError } from '../shared/errors.js';
import { findBySlug, type Tenant } from '../tenants/store.js';
import { finishLogin, LoginFailure, redirectUri, startLogin, type FailureReason } from './login.js';
import { discoveryUrl, IServProviders } from './oidc.js';
import { failurePage, FAILURES } from './pages.js';
import { DEFAULT_RULES, mappingRulesSchema, RESTRICTING_RULES } from './policy.js';
import { DEFAULT_SCOPES, describeConfig, loadRules, secretPlace } from './store.js';

/** Binds IServ's answer to the browser that started the login (see docs/iserv.md). */
export const LOGIN_COOKIE = 'sb_iserv_login';

const slugParams = z.object({ slug: z.string() });

/** https only, except where the service runs in development or test and says so (SEC-02). */
const baseUrlSchema = (allowHttp: boolean) =>
  z
    .url({ protocol: allowHttp ? /^https?$/ : /^https$/ })
    .transform((v, ctx) => {
      const url = new URL(v);
      if (url.search || url.hash || url.username || url.password) {
        ctx.addIssue({ code: 'custom', message: 'nur Schema, Host und ggf. Pfad, ohne Query, Fragment oder Zugangsdaten' });
        return z.NEVER;
      }
      return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
    })
    .describe('The school\'s IServ, e.g. `https://schule.example.de` (https; SEC-02)');

const configBody = (allowHttp: boolean) =>
  z
    .object({
      baseUrl: baseUrlSchema(allowHttp),
      clientId: z.string().trim().min(1).max(500).describe('„Client-ID“ from IServ'),
      clientSecret: z.string().min(1).max(2000).optional().describe('„Client-Geheimnis“ from IServ; required the first time; stored encrypted, never returned'),
      scopes: z
        .string()
        .trim()
        .regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, { message: 'durch Leerzeichen getrennte Bereiche' })
        .refine((s) => s.split(' ').includes('openid'), { message: 'muss „openid“ enthalten' })
        .default(DEFAULT_SCOPES),
      issuer: z
        .url({ protocol: allowHttp ? /^https?$/ : /^https$/ })
        .nullable()
        .default(null)
        .describe('Expected issuer, only needed when IServ has no discovery document and its issuer is not the base URL'),
    })
    .strict();

const configOut = z.object({
  baseUrl: z.string(),
  issuer: z.string().nullable(),
  clientId: z.string(),
  secretSet: z.literal(true).describe('The client secret is stored encrypted and never returned'),
  scopes: z.string(),
  redirectUri: z.string().describe('Enter this in IServ as the redirect URI'),
  loginUrl: z.string().describe('Where users start the sign-in (e.g. a link in IServ)'),
  discoveryUrl: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const mappingOut = z.object({
  rules: mappingRulesSchema,
  isDefault: z.boolean(),
  restrictingRules: mappingRulesSchema.describe('Always applied in addition to the rules (VC-08)'),
  updatedAt: z.string().nullable(),
});

/** IServ's REST routes and login pages; one discovery cache per app. */
export const iservMount: Mount = (app: Express, api: Api, ctx: AppContext) => {
  const allowHttp = ctx.config.env !== 'production';
  const providers = new IServProviders({
    allowHttp,
    cacheMs: HOUR,
    timeoutSeconds: 10,
    now: () => ctx.clock.now().getTime(),
    logger: ctx.logger,
  });
  registerIServApi(api, ctx, providers, allowHttp);
  registerIServPages(app, ctx, providers);
};

function present(ctx: AppContext, slug: string, row: NonNullable<Awaited<ReturnType<typeof describeConfig>>>) {
  return {
    baseUrl: row.base_url,
    issuer: row.issuer,
    clientId: row.client_id,
    secretSet: true as const,
    scopes: row.scopes,
    redirectUri: redirectUri(ctx.config.publicUrl, slug),
    loginUrl: `${ctx.config.publicUrl}/iserv/${slug}/login`,
    discoveryUrl: discoveryUrl(row.base_url).href,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function registerIServApi(api: Api, ctx: AppContext, providers: IServProviders, allowHttp: boolean): void {
  const { db, audit, clock, secrets } = ctx;
  const access = { operator: true, scopes: ['admin'] as const };

  api.route({
    method: 'put',
    path: '/tenants/{slug}/iserv',
    summary: 'Set up sign-in through the school\'s IServ (OpenID Connect); the client secret is stored encrypted',
    tag: 'iserv',
    access,
    params: slugParams,
    body: configBody(allowHttp),
    response: configOut,
    async handler({ tenant, body, principal }) {
      await db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('iserv_configs').select(['client_secret_sealed']).where('tenant_id', '=', tenant.id).forUpdate().executeTakeFirst();
        if (!body.clientSecret && !existing) {
          throw new ProblemError(422, 'validation-failed', 'Beim ersten Einrichten ist das Client-Geheimnis aus IServ nötig.', {
            extra: { errors: [{ in: 'body', field: 'clientSecret', message: 'erforderlich', code: 'invalid_type' }] },
          });
        }
        const sealed = body.clientSecret ? secrets.seal(body.clientSecret, secretPlace(tenant.id)) : existing!.client_secret_sealed;
        const now = clock.now();
        const values = { base_url: body.baseUrl, issuer: body.issuer, client_id: body.clientId, client_secret_sealed: sealed, scopes: body.scopes, updated_at: now };
        await trx
          .insertInto('iserv_configs')
          .values({ tenant_id: tenant.id, ...values, created_at: now })
          .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values))
          .execute();
        await audit.admin(trx, {
          tenantId: tenant.id,
          actor: actorOf(principal),
          action: existing ? 'iserv.config.replace' : 'iserv.config.create',
          objectType: 'iserv-config',
          objectId: tenant.id,
          ruleIds: ['RET-03'],
          details: { secretChanged: Boolean(body.clientSecret), scopes: body.scopes.split(' ').length, issuerSet: body.issuer !== null },
        });
      });
      providers.forget(tenant.id);
      return present(ctx, tenant.slug, (await describeConfig(db, tenant.id))!);
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/iserv',
    summary: 'Read the IServ sign-in setup (without the client secret) and the values to enter in IServ',
    tag: 'iserv',
    access,
    params: slugParams,
    response: configOut,
    async handler({ tenant }) {
      const row = await describeConfig(db, tenant.id);
      if (!row) throw notFound('Für diese Schule ist keine IServ-Anmeldung eingerichtet.');
      return present(ctx, tenant.slug, row);
    },
  });

  api.route({
    method: 'delete',
    path: '/tenants/{slug}/iserv',
    summary: 'Switch IServ sign-in off and remove the client secret; open logins end',
    tag: 'iserv',
    access,
    params: slugParams,
    status: 204,
    async handler({ tenant, principal }) {
      await db.transaction().execute(async (trx) => {
        const gone = await trx.deleteFrom('iserv_configs').where('tenant_id', '=', tenant.id).returning('tenant_id').executeTakeFirst();
        if (!gone) throw notFound('Für diese Schule ist keine IServ-Anmeldung eingerichtet.');
        await trx.deleteFrom('iserv_logins').where('tenant_id', '=', tenant.id).execute();
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'iserv.config.delete', objectType: 'iserv-config', objectId: tenant.id, ruleIds: ['RET-03'] });
      });
      providers.forget(tenant.id);
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/iserv/role-mapping',
    summary: 'Read how IServ roles and groups map to app roles (defaults until changed)',
    tag: 'iserv',
    access,
    params: slugParams,
    response: mappingOut,
    async handler({ tenant }) {
      const { rules, isDefault, updatedAt } = await loadRules(db, tenant.id);
      return { rules, isDefault, restrictingRules: RESTRICTING_RULES, updatedAt: updatedAt?.toISOString() ?? null };
    },
  });

  api.route({
    method: 'put',
    path: '/tenants/{slug}/iserv/role-mapping',
    summary: 'Replace the mapping of IServ roles/groups to app roles; restricting roles (VC-08) always stay',
    tag: 'iserv',
    access,
    params: slugParams,
    body: z.object({ rules: mappingRulesSchema.nullable().describe('null: back to the defaults') }).strict(),
    response: mappingOut,
    async handler({ tenant, body, principal }) {
      await db.transaction().execute(async (trx) => {
        const now = clock.now();
        if (body.rules === null) {
          await trx.deleteFrom('iserv_role_mappings').where('tenant_id', '=', tenant.id).execute();
        } else {
          const rules = JSON.stringify(body.rules);
          await trx
            .insertInto('iserv_role_mappings')
            .values({ tenant_id: tenant.id, rules, updated_at: now })
            .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ rules, updated_at: now }))
            .execute();
        }
        await audit.admin(trx, {
          tenantId: tenant.id,
          actor: actorOf(principal),
          action: body.rules === null ? 'iserv.role-mapping.reset' : 'iserv.role-mapping.update',
          objectType: 'iserv-role-mapping',
          objectId: tenant.id,
          ruleIds: ['RET-03'],
          details: { rules: body.rules?.length ?? DEFAULT_RULES.length },
        });
      });
      const { rules, isDefault, updatedAt } = await loadRules(db, tenant.id);
      return { rules, isDefault, restrictingRules: RESTRICTING_RULES, updatedAt: updatedAt?.toISOString() ?? null };
    },
  });
}

const slugPattern = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** SEC-03: a session cookie (no Max-Age/Expires), HttpOnly, Secure; Lax so IServ's top-level redirect carries it. */
function setLoginCookie(res: Response, slug: string, value: string): void {
  res.append('Set-Cookie', `${LOGIN_COOKIE}=${value}; Path=/iserv/${slug}/; HttpOnly; Secure; SameSite=Lax`);
}

function clearLoginCookie(res: Response, slug: string): void {
  res.append('Set-Cookie', `${LOGIN_COOKIE}=; Path=/iserv/${slug}/; HttpOnly; Secure; SameSite=Lax; Max-Age=0`);
}

/** The innermost error code behind a refusal, for operators. */
function causeCode(error: unknown): string | null {
  let e = error as { cause?: unknown; code?: unknown } | undefined;
  let code: string | null = null;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string') code = e.code;
    else if (typeof e.cause === 'string' && /^[A-Za-z_]+$/.test(e.cause)) code = e.cause;
    e = typeof e.cause === 'object' && e.cause !== null ? (e.cause as typeof e) : undefined;
  }
  return code;
}

function registerIServPages(app: Express, ctx: AppContext, providers: IServProviders): void {
  const fail = (req: Request, res: Response, reason: FailureReason, tenant: { id: string; slug: string } | null, error?: LoginFailure) => {
    // Codes only (e.g. OAUTH_JWT_CLAIM_COMPARISON_FAILED), never claims, codes or tokens.
    ctx.logger.info({ requestId: res.locals.requestId, tenantId: tenant?.id ?? null, reason, code: causeCode(error) }, 'iserv login refused');
    if (tenant) {
      ctx.audit.activity({ tenantId: tenant.id, action: 'iserv.login', objectType: 'session', outcome: 'deny', ruleIds: FAILURES[reason].ruleIds ?? [], details: { reason } });
    }
    const loginHref = tenant && reason !== 'not-configured' && reason !== 'insecure' ? `/iserv/${tenant.slug}/login` : null;
    const page = failurePage(reason, requestLocale(req), loginHref);
    res.status(page.status).type('html').send(page.body);
  };

  /** Anything else (database down, a secret that no longer opens): logged without details, a page all the same. */
  const broken = (req: Request, res: Response, error: unknown) => {
    const problem = toProblem(error, ctx.logger, res.locals.requestId as string | undefined);
    const page = failurePage('internal', requestLocale(req), null);
    res.status(problem.status >= 500 ? problem.status : 500).type('html').send(page.body);
  };

  const tenantOf = async (req: Request) => {
    const slug = String(req.params.slug ?? '');
    return slugPattern.test(slug) ? findBySlug(ctx.db, slug) : null;
  };

  app.get('/iserv/:slug/login', async (req, res) => {
    res.locals.routeTemplate = '/iserv/{slug}/login';
    res.set('Cache-Control', 'no-store');
    let tenant: Tenant | null = null;
    try {
      tenant = await tenantOf(req);
      if (!tenant) return fail(req, res, 'unknown-tenant', null);
      res.locals.tenantId = tenant.id;
      const started = await startLogin(ctx, providers, tenant);
      setLoginCookie(res, tenant.slug, started.browserSecret);
      res.redirect(303, started.location);
    } catch (error) {
      if (error instanceof LoginFailure) fail(req, res, error.reason, tenant, error);
      else broken(req, res, error);
    }
  });

  app.get('/iserv/:slug/callback', async (req, res) => {
    res.locals.routeTemplate = '/iserv/{slug}/callback';
    res.set('Cache-Control', 'no-store');
    let tenant: Tenant | null = null;
    try {
      tenant = await tenantOf(req);
      if (!tenant) return fail(req, res, 'unknown-tenant', null);
      res.locals.tenantId = tenant.id;
      const browserSecret = readCookie(req, LOGIN_COOKIE);
      clearLoginCookie(res, tenant.slug);
      const currentUrl = new URL(`${ctx.config.publicUrl}${req.originalUrl}`);
      const done = await finishLogin(ctx, providers, tenant, { currentUrl, browserSecret });
      ctx.audit.activity({
        tenantId: tenant.id,
        actorId: done.userId,
        action: 'iserv.login',
        objectType: 'session',
        outcome: 'ok',
        details: { roles: done.roles, groups: done.contextIds.length },
      });
      setSessionCookie(res, done.sessionToken);
      res.redirect(303, '/home');
    } catch (error) {
      if (error instanceof LoginFailure) fail(req, res, error.reason, tenant, error);
      else broken(req, res, error);
    }
  });
}
