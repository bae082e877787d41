import { randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { sql } from 'kysely';
import type { AppContext } from '../src/context.js';
import type { AppRole } from '../src/identity/index.js';
import { newSessionRecord } from '../src/session/index.js';
import { tenantSettingsSchema } from '../src/tenants/settings.js';
import type { JwksCache } from './jwks.js';
import { contextType, effectiveMapping, landingPath, mapRoles } from './policy.js';
import { insertNonceSql, LTI_COLLECTIONS } from './documents.js';
import type { PlatformRow } from './platforms.js';
import type { Lti } from './provider.js';

export const CLAIM = 'https://purl.imsglobal.org/spec/lti/claim/';
const DL_SETTINGS = 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings';
const NRPS = 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice';

/** A refused launch: status and a German sentence for the error page; `code` goes to the activity log. */
export class LaunchError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly platform?: PlatformRow,
  ) {
    super(code);
  }
}

export interface LoginRequest {
  iss?: string;
  login_hint?: string;
  target_link_uri?: string;
  lti_message_hint?: string;
  client_id?: string;
  lti_deployment_id?: string;
}

/** A platform that may launch: registered, active, and (when named) with this deployment. */
export function assertUsable(platform: PlatformRow | null, deploymentId: string | undefined): PlatformRow {
  if (!platform) throw new LaunchError(404, 'unknown-platform', 'Diese Lernplattform ist bei der Schulbrücke nicht registriert. Bitte wenden Sie sich an die Administration Ihrer Schule.');
  if (!platform.active) {
    throw new LaunchError(403, 'inactive-platform', 'Diese Lernplattform ist registriert, aber von der Schule noch nicht freigeschaltet. Bitte wenden Sie sich an die Administration Ihrer Schule.', platform);
  }
  if (deploymentId !== undefined && !platform.deployment_ids.includes(deploymentId)) {
    throw new LaunchError(404, 'unknown-deployment', 'Diese Einbindung (Deployment) der Lernplattform ist der Schulbrücke nicht bekannt. Bitte wenden Sie sich an die Administration Ihrer Schule.', platform);
  }
  return platform;
}

/** OIDC third-party-initiated login: remember state and nonce, send the browser to the platform. */
export async function beginLogin(ctx: AppContext, _lti: Lti, q: LoginRequest): Promise<{ redirect: string; state: string }> {
  if (!q.iss || !q.client_id) throw new LaunchError(400, 'missing-parameters', 'Die Anfrage der Lernplattform ist unvollständig (iss und client_id fehlen).');
  if (!q.login_hint) throw new LaunchError(400, 'missing-parameters', 'Die Anfrage der Lernplattform ist unvollständig (login_hint fehlt).');
  const state = randomBytes(24).toString('base64url');
  const nonce = randomBytes(24).toString('base64url');
  // One round trip: read the platform and, only if it may launch, record the state (ltijs's `state` collection, 10 min).
  const now = ctx.clock.now();
  const doc = JSON.stringify({ state, nonce, iss: q.iss, clientId: q.client_id, query: {} });
  const result = await sql<PlatformRow>`
    with p as (select * from lti_platforms where issuer = ${q.iss} and client_id = ${q.client_id}),
    ins as (
      insert into lti_documents (collection, doc, sealed, created_at, expires_at)
      select 'state', ${doc}::jsonb, null, ${now}, ${new Date(now.getTime() + LTI_COLLECTIONS.state)}
      from p where p.active and (${q.lti_deployment_id ?? null}::text is null or ${q.lti_deployment_id ?? null}::text = any(p.deployment_ids))
      returning id
    )
    select p.* from p left join ins on true`.execute(ctx.db);
  const platform = assertUsable(result.rows[0] ?? null, q.lti_deployment_id);
  const url = new URL(platform.auth_endpoint);
  const params: Record<string, string> = {
    scope: 'openid',
    response_type: 'id_token',
    response_mode: 'form_post',
    prompt: 'none',
    client_id: platform.client_id,
    redirect_uri: `${ctx.config.publicUrl}/lti/launch`,
    login_hint: q.login_hint,
    state,
    nonce,
  };
  if (q.lti_message_hint) params.lti_message_hint = q.lti_message_hint;
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { redirect: url.toString(), state };
}

/** What the launch needs of the platform's school: read together with the state. */
interface LaunchTenant {
  settings: unknown;
  mapping: unknown;
}

/** Deletes the state (single use) and returns it with the platform it was issued for and that platform's (live) school. */
async function takeState(ctx: AppContext, state: string): Promise<{ state: Record<string, unknown>; platform: PlatformRow | null; tenant: LaunchTenant | null } | null> {
  const now = ctx.clock.now();
  const result = await sql<PlatformRow & { state_doc: Record<string, unknown>; sb_tenant_settings: unknown; sb_tenant_live: boolean | null; sb_role_mapping: unknown }>`
    with taken as (
      delete from lti_documents
      where collection = 'state' and (doc->>'state') = ${state} and (expires_at is null or expires_at > ${now})
      returning doc
    )
    select taken.doc as state_doc, p.*, t.settings as sb_tenant_settings, (t.id is not null and t.deleted_at is null) as sb_tenant_live, rm.mapping as sb_role_mapping
    from taken
    left join lti_platforms p on p.issuer = taken.doc->>'iss' and p.client_id = taken.doc->>'clientId'
    left join tenants t on t.id = p.tenant_id
    left join lti_role_mappings rm on rm.tenant_id = p.tenant_id`.execute(ctx.db);
  const row = result.rows[0];
  if (!row) return null;
  const { state_doc, sb_tenant_settings, sb_tenant_live, sb_role_mapping, ...platform } = row;
  return {
    state: state_doc,
    platform: platform.id ? (platform as PlatformRow) : null,
    tenant: sb_tenant_live ? { settings: sb_tenant_settings, mapping: sb_role_mapping } : null,
  };
}

export interface VerifiedLaunch {
  platform: PlatformRow;
  /** The platform's school as read with the state; null when it is gone (deleted). */
  tenant: LaunchTenant | null;
  claims: JWTPayload & Record<string, unknown>;
}

/**
 * Validates the id_token the platform posted: state (single use, bound to the browser),
 * signature with the platform's cached JWKS, iss/aud/azp/exp/iat, nonce (replay refused),
 * deployment and the LTI core claims. The nonce's single use is enforced by completeLaunch,
 * atomically with the launch's writes.
 */
export async function verifyLaunch(ctx: AppContext, lti: Lti, jwks: JwksCache, body: { id_token?: unknown; state?: unknown }, cookieState: string | null): Promise<VerifiedLaunch> {
  if (typeof body.id_token !== 'string' || typeof body.state !== 'string') {
    throw new LaunchError(400, 'missing-token', 'Die Lernplattform hat keinen Anmeldenachweis gesendet. Bitte starten Sie die Aktivität erneut.');
  }
  // The state is spent and its platform read in one round trip.
  const taken = await takeState(ctx, body.state);
  const saved = taken?.state;
  if (!taken || !saved) throw new LaunchError(400, 'invalid-state', 'Die Anmeldung ist abgelaufen oder wurde schon verwendet. Bitte starten Sie die Aktivität in der Lernplattform erneut.');
  if (cookieState !== body.state) {
    throw new LaunchError(400, 'state-cookie-mismatch', 'Die Anmeldung gehört nicht zu diesem Browser. Bitte starten Sie die Aktivität in der Lernplattform erneut.');
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(body.id_token);
    unverified = decodeJwt(body.id_token);
  } catch {
    throw new LaunchError(400, 'malformed-token', 'Der Anmeldenachweis der Lernplattform ist beschädigt.');
  }
  if (header.alg !== 'RS256') throw new LaunchError(401, 'invalid-token', 'Der Anmeldenachweis ist nicht mit RS256 signiert.');
  const iss = String(saved.iss);
  const clientId = String(saved.clientId);
  const deploymentId = unverified[`${CLAIM}deployment_id`];
  const platform = assertUsable(taken.platform, typeof deploymentId === 'string' ? deploymentId : '');

  let claims: JWTPayload & Record<string, unknown>;
  try {
    const key = await jwks.keyFor(platform.jwks_url, header.kid);
    const verified = await jwtVerify(body.id_token, key, {
      issuer: iss,
      audience: clientId,
      algorithms: ['RS256'],
      currentDate: ctx.clock.now(),
      maxTokenAge: '5m',
      clockTolerance: 5,
      requiredClaims: ['exp', 'iat', 'sub', 'nonce'],
    });
    claims = verified.payload as JWTPayload & Record<string, unknown>;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new LaunchError(401, 'token-expired', 'Der Anmeldenachweis ist abgelaufen. Bitte starten Sie die Aktivität in der Lernplattform erneut.', platform);
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      throw new LaunchError(401, `claim-${err.claim}`, `Der Anmeldenachweis ist nicht für die Schulbrücke ausgestellt (Prüfung „${err.claim}“ fehlgeschlagen).`, platform);
    }
    if (err instanceof joseErrors.JOSEError) throw new LaunchError(401, 'invalid-signature', 'Die Signatur des Anmeldenachweises ist ungültig.', platform);
    throw new LaunchError(502, 'jwks-unavailable', 'Die Schlüssel der Lernplattform sind gerade nicht abrufbar. Bitte später erneut versuchen.', platform);
  }
  // OIDC: with several audiences the authorised party must be us; when present, always.
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if ((aud.length > 1 || claims.azp !== undefined) && claims.azp !== clientId) {
    throw new LaunchError(401, 'claim-azp', 'Der Anmeldenachweis ist nicht für die Schulbrücke ausgestellt (Prüfung „azp“ fehlgeschlagen).', platform);
  }
  if (claims.nonce !== saved.nonce) throw new LaunchError(401, 'claim-nonce', 'Der Anmeldenachweis gehört nicht zu dieser Anmeldung (nonce).', platform);
  // Replay (a nonce already used) is refused by completeLaunch: the nonce is recorded in the
  // same statement as the launch's writes, which happen only when it was fresh.
  const messageType = claims[`${CLAIM}message_type`];
  if (claims[`${CLAIM}version`] !== '1.3.0') throw new LaunchError(400, 'wrong-version', 'Die Lernplattform spricht nicht LTI 1.3.');
  if (messageType !== 'LtiResourceLinkRequest' && messageType !== 'LtiDeepLinkingRequest') {
    throw new LaunchError(400, 'unsupported-message', 'Diese Art von Start unterstützt die Schulbrücke nicht.', platform);
  }
  if (!Array.isArray(claims[`${CLAIM}roles`])) throw new LaunchError(400, 'missing-roles', 'Die Lernplattform hat keine Rollen gesendet.', platform);
  if (messageType === 'LtiResourceLinkRequest' && !(claims[`${CLAIM}resource_link`] as { id?: unknown } | undefined)?.id) {
    throw new LaunchError(400, 'missing-resource-link', 'Die Lernplattform hat keine Aktivität (resource_link) genannt.', platform);
  }
  const context = claims[`${CLAIM}context`] as { id?: unknown } | undefined;
  if (!context || typeof context.id !== 'string' || context.id === '') {
    throw new LaunchError(400, 'missing-context', 'Die Schulbrücke kann nur aus einem Kurs heraus gestartet werden.', platform);
  }
  return { platform, tenant: taken.tenant, claims };
}

export interface LaunchOutcome {
  sessionToken: string;
  location: string;
  tenantId: string;
  userId: string;
  contextId: string;
  roles: AppRole[];
}

/** Stores the pseudonymous user, context and membership, starts the bridge's session. */
export async function completeLaunch(ctx: AppContext, launch: VerifiedLaunch): Promise<LaunchOutcome> {
  const { platform, claims } = launch;
  if (!launch.tenant) throw new LaunchError(404, 'unknown-tenant', 'Die Schule dieser Lernplattform ist nicht (mehr) eingerichtet.', platform);
  const tenant = { id: platform.tenant_id, settings: tenantSettingsSchema.parse(launch.tenant.settings) };
  const stored = { mapping: launch.tenant.mapping as Parameters<typeof effectiveMapping>[0] };
  const custom = (claims[`${CLAIM}custom`] ?? {}) as Record<string, unknown>;
  const decision = mapRoles(claims[`${CLAIM}roles`] as string[], effectiveMapping(stored.mapping), typeof custom.roles === 'string' ? custom.roles : undefined);
  const ctxClaim = claims[`${CLAIM}context`] as { id: string; title?: string; label?: string; type?: unknown };
  const messageType = claims[`${CLAIM}message_type`] as string;
  const name = displayName(claims);
  const email = tenant.settings.identity.storeEmail && typeof claims.email === 'string' ? claims.email : null;
  const nrps = claims[NRPS] as { context_memberships_url?: unknown } | undefined;
  const membershipsUrl = typeof nrps?.context_memberships_url === 'string' ? nrps.context_memberships_url : null;

  const data: Record<string, unknown> = { via: 'lti', platformId: platform.id };
  if (messageType === 'LtiDeepLinkingRequest') {
    data.deepLinking = {
      deploymentId: claims[`${CLAIM}deployment_id`],
      settings: claims[DL_SETTINGS] ?? {},
    };
  }
  const now = ctx.clock.now();
  const session = newSessionRecord(ctx.clock, { tenantId: tenant.id, userId: '', contextId: null, roles: decision.roles, data });
  // One statement, hence atomic, and one round trip: the nonce (single use; nothing else is
  // written when it was used already), the pseudonymous user, the context, the
  // membership (roles as decided above, VC-08), the roster service URL and the session — the
  // same upserts as upsertUser/upsertContext/setMembership/createSession.
  const roles = sql`${decision.roles}::text[]`;
  const written = await sql<{ user_id: string; context_id: string }>`
    with n as (${insertNonceSql(now, String(claims.nonce))}),
    u as (
      insert into users (tenant_id, source, issuer, subject, display_name, email, created_at, last_seen_at)
      select ${tenant.id}, 'lti', ${platform.issuer}, ${String(claims.sub)}, ${name}, ${email}, ${now}::timestamptz, ${now}::timestamptz from n
      on conflict (tenant_id, issuer, subject) do update set display_name = excluded.display_name, email = excluded.email, last_seen_at = excluded.last_seen_at
      returning id
    ),
    c as (
      insert into contexts (tenant_id, source, issuer, external_id, title, type, created_at)
      select ${tenant.id}, 'lti', ${platform.issuer}, ${ctxClaim.id}, ${ctxClaim.title ?? ctxClaim.label ?? ''}, ${contextType(ctxClaim.type)}, ${now}::timestamptz from n
      on conflict (tenant_id, issuer, external_id) do update set title = excluded.title, type = excluded.type
      returning id
    ),
    m as (
      insert into memberships (tenant_id, context_id, user_id, roles, source, updated_at)
      select ${tenant.id}, c.id, u.id, ${roles}, 'launch', ${now} from u, c
      on conflict (context_id, user_id) do update set roles = excluded.roles, source = excluded.source, updated_at = excluded.updated_at
    ),
    nrps as (
      insert into lti_context_services (context_id, tenant_id, platform_id, memberships_url, updated_at)
      select c.id, ${tenant.id}, ${platform.id}, ${membershipsUrl}::text, ${now} from c where ${membershipsUrl}::text is not null
      on conflict (context_id) do update set platform_id = excluded.platform_id, memberships_url = excluded.memberships_url, updated_at = excluded.updated_at
    ),
    s as (
      insert into sessions (id_hash, tenant_id, user_id, context_id, roles, data, created_at, last_seen_at, expires_at)
      select ${session.idHash}, ${tenant.id}, u.id, c.id, ${roles}, ${JSON.stringify(session.data)}::jsonb, ${session.createdAt}, ${session.createdAt}, ${session.expiresAt} from u, c
    )
    select u.id as user_id, c.id as context_id from u, c`.execute(ctx.db);
  const row = written.rows[0];
  // No row: the nonce was live already (and nothing was written).
  if (!row) throw new LaunchError(401, 'replayed-nonce', 'Dieser Anmeldenachweis wurde schon verwendet.', platform);
  const result = { userId: row.user_id, contextId: row.context_id, token: session.token };

  ctx.audit.activity({
    tenantId: tenant.id,
    actorId: result.userId,
    contextId: result.contextId,
    action: messageType === 'LtiDeepLinkingRequest' ? 'lti.deep-linking-launch' : 'lti.launch',
    objectType: 'context',
    objectId: result.contextId,
    outcome: 'ok',
    ruleIds: ['VC-01', ...(decision.refusedCustom.length > 0 ? ['VC-08'] : [])],
    details: { platformId: platform.id, roles: decision.roles, unmappedRoles: decision.unmapped, refusedCustomRoles: decision.refusedCustom.length },
  });
  const location = messageType === 'LtiDeepLinkingRequest' ? '/lti/deep-link' : landingPath(result.contextId, custom);
  return { sessionToken: result.token, location, tenantId: tenant.id, userId: result.userId, contextId: result.contextId, roles: decision.roles };
}

function displayName(claims: Record<string, unknown>): string {
  if (typeof claims.name === 'string' && claims.name.trim()) return claims.name.trim().slice(0, 200);
  const parts = [claims.given_name, claims.family_name].filter((p): p is string => typeof p === 'string' && p.trim() !== '');
  return parts.length > 0 ? parts.join(' ').slice(0, 200) : 'Unbenannt';
}
