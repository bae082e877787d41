/**
 * The IServ login from start to session: pending-login bookkeeping, the code
 * exchange, and turning what IServ vouches for into users, groups (contexts),
 * memberships and a session — the same model as an LTI launch.
 */
import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.js';
import { hashToken, sameHash } from '../crypto/secrets.js';
import { setMembership, upsertContext, upsertUser, type AppRole } from '../identity/index.js';
import { createSession } from '../session/index.js';
import { MINUTE } from '../shared/clock.js';
import type { Tenant } from '../tenants/store.js';
import { displayNameOf, subjectOf, userinfoSchema } from './claims.js';
import { authorizationRequest, exchangeCode, IServLoginError, type IServProviders } from './oidc.js';
import { mapRoles } from './policy.js';
import { consumeLogin, insertLogin, loadConfig, loadRules, purgeLogins } from './store.js';

/** How long someone may take at IServ's login and consent pages. */
export const LOGIN_LIFETIME_MS = 10 * MINUTE;

export type FailureReason =
  | 'unknown-tenant'
  | 'not-configured'
  | 'state'
  | 'wrong-issuer'
  | 'denied'
  | 'refused'
  | 'invalid-response'
  | 'invalid-claims'
  | 'unreachable'
  | 'insecure'
  | 'no-role'
  | 'account-deleted'
  | 'internal';

/** A refused login: nothing about the person was stored. */
export class LoginFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
    this.name = 'LoginFailure';
  }
}

export const callbackPath = (slug: string) => `/iserv/${slug}/callback`;
export const redirectUri = (publicUrl: string, slug: string) => `${publicUrl}${callbackPath(slug)}`;

export interface StartedLogin {
  /** IServ's authorization URL to send the browser to. */
  location: string;
  /** Random value for the browser's login cookie; only its hash is stored. */
  browserSecret: string;
}

export async function startLogin(ctx: AppContext, providers: IServProviders, tenant: { id: string; slug: string }): Promise<StartedLogin> {
  const cfg = await loadConfig(ctx.db, ctx.secrets, tenant.id);
  if (!cfg) throw new LoginFailure('not-configured');
  const config = await providers.configuration(cfg).catch((error: unknown) => {
    throw new LoginFailure(error instanceof IServLoginError ? error.reason : 'unreachable', { cause: error });
  });
  const request = await authorizationRequest(config, redirectUri(ctx.config.publicUrl, tenant.slug), cfg.scopes);
  const browserSecret = randomBytes(32).toString('base64url');
  await purgeLogins(ctx.db, ctx.clock);
  await insertLogin(
    ctx.db,
    ctx.secrets,
    ctx.clock,
    { stateHash: hashToken(request.state), tenantId: tenant.id, browserHash: hashToken(browserSecret), nonce: request.nonce, codeVerifier: request.codeVerifier },
    LOGIN_LIFETIME_MS,
  );
  return { location: request.url.href, browserSecret };
}

export interface FinishedLogin {
  sessionToken: string;
  userId: string;
  roles: AppRole[];
  contextIds: string[];
}

/**
 * Completes a login from IServ's redirect. The pending login is consumed
 * first, so a replayed or failed answer can never be used again.
 */
export async function finishLogin(
  ctx: AppContext,
  providers: IServProviders,
  tenant: Pick<Tenant, 'id' | 'slug' | 'settings'>,
  answer: { currentUrl: URL; browserSecret: string | null },
): Promise<FinishedLogin> {
  const state = answer.currentUrl.searchParams.get('state');
  if (!state) throw new LoginFailure('state');
  const pending = await consumeLogin(ctx.db, ctx.secrets, ctx.clock, tenant.id, hashToken(state));
  // Bound to the browser that started it: someone else's IServ answer cannot log this browser in.
  if (!pending || !answer.browserSecret || !sameHash(hashToken(answer.browserSecret), pending.browserHash)) throw new LoginFailure('state');

  const cfg = await loadConfig(ctx.db, ctx.secrets, tenant.id);
  if (!cfg) throw new LoginFailure('not-configured');
  let exchange;
  try {
    const config = await providers.configuration(cfg);
    exchange = await exchangeCode(config, answer.currentUrl, { state, nonce: pending.nonce, codeVerifier: pending.codeVerifier });
  } catch (error) {
    throw new LoginFailure(error instanceof IServLoginError ? error.reason : 'unreachable', { cause: error });
  }
  const parsed = userinfoSchema.safeParse(exchange.userinfo);
  if (!parsed.success) throw new LoginFailure('invalid-claims');
  const info = parsed.data;

  const { rules } = await loadRules(ctx.db, tenant.id);
  const roles = mapRoles(rules, info);
  if (!roles.length) throw new LoginFailure('no-role');
  const { settings } = tenant;

  const subject = subjectOf(info);
  const issuer = exchange.issuer;
  const { clock } = ctx;
  return ctx.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('users')
      .select('deleted_at')
      .where('tenant_id', '=', tenant.id)
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .executeTakeFirst();
    // RET-06: an account in the purgatory is not revived by logging in.
    if (existing?.deleted_at) throw new LoginFailure('account-deleted');
    const userId = await upsertUser(trx, clock, {
      tenantId: tenant.id,
      source: 'iserv',
      issuer,
      subject,
      displayName: displayNameOf(info),
      email: settings.identity.storeEmail ? (info.email ?? null) : null,
    });
    // Groups in one order for every login (no lock-order deadlocks between concurrent logins), and a
    // shared group (e.g. "Alle") is written only when it is new or renamed, so logins do not queue on its row.
    const groups = dedupe(info.groups).sort((x, y) => (x.act < y.act ? -1 : x.act > y.act ? 1 : 0));
    const known = groups.length
      ? await trx
          .selectFrom('contexts')
          .select(['id', 'external_id', 'title', 'type'])
          .where('tenant_id', '=', tenant.id)
          .where('issuer', '=', issuer)
          .where('external_id', 'in', groups.map((g) => g.act))
          .execute()
      : [];
    const contextIds: string[] = [];
    for (const group of groups) {
      const title = group.name?.trim() || group.act;
      const same = known.find((k) => k.external_id === group.act && k.title === title && k.type === 'group');
      const contextId =
        same?.id ?? (await upsertContext(trx, clock, { tenantId: tenant.id, source: 'iserv', issuer, externalId: group.act, title, type: 'group' }));
      await setMembership(trx, clock, { tenantId: tenant.id, contextId, userId, roles, source: 'iserv' });
      contextIds.push(contextId);
    }
    // Groups the person has left in IServ are left here too.
    let stale = trx.deleteFrom('memberships').where('tenant_id', '=', tenant.id).where('user_id', '=', userId).where('source', '=', 'iserv');
    if (contextIds.length) stale = stale.where('context_id', 'not in', contextIds);
    await stale.execute();
    const { token } = await createSession(trx, clock, { tenantId: tenant.id, userId, contextId: null, roles, data: { source: 'iserv' } });
    return { sessionToken: token, userId, roles, contextIds };
  });
}

function dedupe<T extends { act: string }>(groups: T[]): T[] {
  const seen = new Set<string>();
  return groups.filter((g) => (seen.has(g.act) ? false : (seen.add(g.act), true)));
}
