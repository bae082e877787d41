import { randomBytes } from 'node:crypto';
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import type { Api } from '../src/http/api.js';
import { actorOf } from '../src/auth/principal.js';
import type { AppContext } from '../src/context.js';
import { hashToken } from '../src/crypto/secrets.js';
import { requestLocale } from '../src/http/locale.js';
import { HOUR } from '../src/shared/clock.js';
import { ProblemError } from '../src/shared/errors.js';
import { findById } from '../src/tenants/store.js';
import { html, layout } from '../src/web/html.js';
import { errorPage } from './pages.js';
import { insertPlatform, newToolKeyPair } from './platforms.js';
import type { Lti } from './provider.js';

export const REGISTRATION_TOKEN_TTL_MS = 24 * HOUR;
const TOOL_CONFIG = 'https://purl.imsglobal.org/spec/lti-tool-configuration';
const NRPS_SCOPE = 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly';

const openidConfiguration = z.object({
  issuer: z.url(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  registration_endpoint: z.url(),
  'https://purl.imsglobal.org/spec/lti-platform-configuration': z.object({ product_family_code: z.string().optional() }).loose().optional(),
});

const registrationAnswer = z.object({
  client_id: z.string().min(1),
  [TOOL_CONFIG]: z.object({ deployment_id: z.string().min(1).optional() }).loose().optional(),
});

/** What the tool asks the platform for: names only, no e-mail (data minimisation, VC-12). */
export function toolRegistration(publicUrl: string) {
  return {
    application_type: 'web',
    response_types: ['id_token'],
    grant_types: ['implicit', 'client_credentials'],
    initiate_login_uri: `${publicUrl}/lti/login`,
    redirect_uris: [`${publicUrl}/lti/launch`],
    client_name: 'Schulbrücke',
    jwks_uri: `${publicUrl}/lti/keys`,
    token_endpoint_auth_method: 'private_key_jwt',
    scope: NRPS_SCOPE,
    [TOOL_CONFIG]: {
      domain: new URL(publicUrl).host,
      target_link_uri: `${publicUrl}/lti/launch`,
      claims: ['iss', 'sub', 'name', 'given_name', 'family_name'],
      messages: [{ type: 'LtiDeepLinkingRequest', target_link_uri: `${publicUrl}/lti/launch`, label: 'Konferenzraum anlegen' }],
      description: 'Videokonferenzen (BigBlueButton, Jitsi) nach den Nutzungsregeln der Schule',
    },
  };
}

async function fetchJson(url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json', ...(init.headers ?? {}) } });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

export function registerDynamicRegistration(app: Express, api: Api, ctx: AppContext, lti: Lti): void {
  api.route({
    method: 'get',
    path: '/tenants/{slug}/lti/registration-url',
    summary: 'A one-time, expiring URL for LTI Dynamic Registration; the platform registered with it belongs to this tenant',
    tag: 'lti',
    access: { scopes: ['admin'] },
    params: z.object({ slug: z.string() }),
    response: z.object({ url: z.string(), expiresAt: z.string() }),
    async handler({ tenant, principal }) {
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(ctx.clock.now().getTime() + REGISTRATION_TOKEN_TTL_MS);
      await ctx.db.transaction().execute(async (trx) => {
        await trx.insertInto('lti_registration_tokens').values({ token_hash: hashToken(token), tenant_id: tenant.id, created_at: ctx.clock.now(), expires_at: expiresAt }).execute();
        await ctx.audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'lti.registration-url.create', objectType: 'tenant', objectId: tenant.id });
      });
      return { url: `${ctx.config.publicUrl}/lti/register?rt=${token}`, expiresAt: expiresAt.toISOString() };
    },
  });

  app.get('/lti/register', async (req: Request, res: Response) => {
    res.locals.routeTemplate = '/lti/register';
    const q = req.query as Record<string, unknown>;
    const rt = typeof q.rt === 'string' ? q.rt : '';
    const configUrl = typeof q.openid_configuration === 'string' ? q.openid_configuration : '';
    const registrationToken = typeof q.registration_token === 'string' ? q.registration_token : undefined;
    if (!rt || !configUrl) {
      errorPage(req, res, 400, 'Diese Registrierungsadresse ist unvollständig. Bitte erzeugen Sie in der Schulbrücke eine neue und fügen Sie sie in Moodle unter „Tools verwalten“ ein.');
      return;
    }
    // One use only: the token is spent before anything else happens, so a registration can never land twice or in another tenant.
    const spent = await ctx.db
      .updateTable('lti_registration_tokens')
      .set({ used_at: ctx.clock.now() })
      .where('token_hash', '=', hashToken(rt))
      .where('used_at', 'is', null)
      .where('expires_at', '>', ctx.clock.now())
      .returning('tenant_id')
      .executeTakeFirst();
    const tenant = spent ? await findById(ctx.db, spent.tenant_id) : null;
    if (!tenant) {
      errorPage(req, res, 403, 'Diese Registrierungsadresse ist abgelaufen oder wurde schon verwendet. Bitte erzeugen Sie in der Schulbrücke eine neue.', { ruleIds: ['ACC-04'] });
      return;
    }
    try {
      const config = openidConfiguration.parse(await fetchJson(configUrl));
      if (!configUrl.startsWith(config.issuer)) throw new Error('openid_configuration is not under the issuer');
      const keys = await newToolKeyPair();
      const answer = registrationAnswer.parse(
        await fetchJson(config.registration_endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(registrationToken ? { authorization: `Bearer ${registrationToken}` } : {}) },
          body: JSON.stringify(toolRegistration(ctx.config.publicUrl)),
        }),
      );
      const deploymentId = answer[TOOL_CONFIG]?.deployment_id;
      const active = tenant.settings.identity.autoActivatePlatforms;
      const product = config['https://purl.imsglobal.org/spec/lti-platform-configuration']?.product_family_code ?? 'LTI';
      const platform = await ctx.db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('lti_platforms').select('id').where('issuer', '=', config.issuer).where('client_id', '=', answer.client_id).executeTakeFirst();
        if (existing) throw new ProblemError(409, 'conflict', 'already registered');
        const row = await insertPlatform(trx, lti.store, ctx.clock, {
          tenantId: tenant.id,
          issuer: config.issuer,
          clientId: answer.client_id,
          deploymentIds: deploymentId ? [deploymentId] : [],
          name: `${product} ${new URL(config.issuer).host}`,
          authEndpoint: config.authorization_endpoint,
          tokenEndpoint: config.token_endpoint,
          jwksUrl: config.jwks_uri,
          active,
          registeredBy: 'dynamic',
        }, keys);
        await ctx.audit.admin(trx, { tenantId: tenant.id, actor: 'lti-dynamic-registration', action: 'lti.platform.register', objectType: 'lti_platform', objectId: row.id, details: { active } });
        return row;
      });
      const locale = requestLocale(req);
      const body = html`<h1>Registrierung abgeschlossen</h1>
<p>Die Schulbrücke ist in Ihrer Lernplattform eingetragen (Client-ID ${platform.client_id}).</p>
<p>${active
        ? 'Die Plattform ist sofort freigeschaltet.'
        : 'Die Plattform ist noch nicht freigeschaltet: Die Administration der Schule aktiviert sie in der Schulbrücke. Aktivieren Sie das Tool außerdem in Moodle unter „Tools verwalten“.'}</p>`;
      res.status(200).type('html').send(layout({ title: 'Registrierung abgeschlossen', locale, body, scripts: ['lti-register-close.js'] }));
    } catch (err) {
      ctx.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'lti dynamic registration failed');
      const conflict = err instanceof ProblemError && err.status === 409;
      errorPage(
        req,
        res,
        conflict ? 409 : 502,
        conflict
          ? 'Diese Lernplattform ist mit dieser Client-ID schon registriert.'
          : 'Die Registrierung bei der Lernplattform ist fehlgeschlagen. Bitte erzeugen Sie eine neue Registrierungsadresse und versuchen Sie es erneut.',
      );
    }
  });
}
