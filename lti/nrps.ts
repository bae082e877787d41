import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../src/context.js';
import type { Api } from '../src/http/api.js';
import { rolesInContext, setMembership, TEACHING_ROLES, upsertUser } from '../src/identity/index.js';
import { csrfMatches, loadSession } from '../src/session/index.js';
import { ProblemError } from '../src/shared/errors.js';
import { findById } from '../src/tenants/store.js';
import { errorPage } from './pages.js';
import { effectiveMapping, mapRoles } from './policy.js';
import { ltiFor } from './provider.js';

export interface RosterSyncResult {
  members: number;
  removed: number;
}

/**
 * Names and Role Provisioning: fetches the context's roster from the platform (OAuth2
 * client credentials with a signed JWT assertion; all pages along the `Link` headers,
 * through ltijs) and stores the memberships with source 'nrps'. Memberships the roster no
 * longer lists (and inactive ones) are removed; those from launches stay.
 */
export async function syncRoster(ctx: AppContext, tenantId: string, contextId: string): Promise<RosterSyncResult> {
  const lti = ltiFor(ctx);
  const service = await ctx.db.selectFrom('lti_context_services').selectAll().where('tenant_id', '=', tenantId).where('context_id', '=', contextId).executeTakeFirst();
  if (!service) throw new ProblemError(409, 'conflict', 'Für diesen Kurs ist kein Teilnehmerdienst bekannt. Bitte die Schulbrücke einmal aus dem Kurs in Moodle starten.');
  const platform = await ctx.db.selectFrom('lti_platforms').selectAll().where('id', '=', service.platform_id).where('tenant_id', '=', tenantId).executeTakeFirst();
  if (!platform?.active) throw new ProblemError(409, 'conflict', 'Die Lernplattform dieses Kurses ist nicht freigeschaltet.');
  const tenant = await findById(ctx.db, tenantId);
  if (!tenant) throw new ProblemError(404, 'not-found', 'Schule nicht gefunden.');

  let roster: Awaited<ReturnType<typeof lti.provider.NamesAndRoles.getMembers>>;
  try {
    roster = await lti.provider.NamesAndRoles.getMembers(
      { iss: platform.issuer, clientId: platform.client_id, platformContext: { namesRoles: { context_memberships_url: service.memberships_url } } },
      { pages: false },
    );
  } catch (err) {
    ctx.logger.warn({ err: err instanceof Error ? err.message : String(err), platformId: platform.id }, 'nrps fetch failed');
    throw new ProblemError(502, 'upstream-failed', 'Die Teilnehmerliste der Lernplattform ist gerade nicht abrufbar.');
  }
  const stored = await ctx.db.selectFrom('lti_role_mappings').select('mapping').where('tenant_id', '=', tenantId).executeTakeFirst();
  const mapping = effectiveMapping(stored?.mapping);
  const members = (roster.members ?? []).filter((m) => typeof m.user_id === 'string' && (m.status === undefined || m.status === 'Active'));

  const result = await ctx.db.transaction().execute(async (trx) => {
    const keep: string[] = [];
    for (const m of members) {
      const subject = m.user_id as string;
      const given = [m.given_name, m.family_name].filter((p): p is string => typeof p === 'string' && p !== '').join(' ');
      const name = typeof m.name === 'string' && m.name.trim() ? m.name.trim() : given;
      const existing = await trx.selectFrom('users').select(['id', 'display_name']).where('tenant_id', '=', tenantId).where('issuer', '=', platform.issuer).where('subject', '=', subject).executeTakeFirst();
      const userId = await upsertUser(trx, ctx.clock, {
        tenantId,
        source: 'lti',
        issuer: platform.issuer,
        subject,
        displayName: (name || existing?.display_name || 'Unbenannt').slice(0, 200),
        email: tenant.settings.identity.storeEmail && typeof m.email === 'string' ? m.email : null,
      });
      const roles = mapRoles(Array.isArray(m.roles) ? (m.roles as string[]) : [], mapping).roles;
      const current = await trx.selectFrom('memberships').select('source').where('context_id', '=', contextId).where('user_id', '=', userId).executeTakeFirst();
      // A launch is fresher evidence than the roster for the person who launched; the roster fills in the rest.
      if (current?.source !== 'launch') await setMembership(trx, ctx.clock, { tenantId, contextId, userId, roles, source: 'nrps' });
      keep.push(userId);
    }
    let removeQuery = trx.deleteFrom('memberships').where('tenant_id', '=', tenantId).where('context_id', '=', contextId).where('source', '=', 'nrps');
    if (keep.length > 0) removeQuery = removeQuery.where('user_id', 'not in', keep);
    const removed = await removeQuery.executeTakeFirst();
    return { members: keep.length, removed: Number(removed.numDeletedRows) };
  });
  ctx.audit.activity({ tenantId, contextId, action: 'lti.roster-sync', objectType: 'context', objectId: contextId, outcome: 'ok', details: result });
  return result;
}

export function registerRosterRoutes(app: Express, api: Api, ctx: AppContext): void {
  api.route({
    method: 'post',
    path: '/tenants/{slug}/lti/contexts/{contextId}/roster-sync',
    summary: "Fetch a course's roster from the platform now (Names and Role Provisioning)",
    tag: 'lti',
    access: { scopes: ['admin', 'lms'] },
    params: z.object({ slug: z.string(), contextId: z.uuid() }),
    response: z.object({ members: z.number(), removed: z.number() }),
    async handler({ tenant, params }) {
      return syncRoster(ctx, tenant.id, params.contextId);
    },
  });

  // A teacher in Moodle's iframe: from a page with the session's csrf token.
  app.post('/lti/roster-sync', express.urlencoded({ extended: false, limit: '4kb' }), async (req: Request, res: Response) => {
    res.locals.routeTemplate = '/lti/roster-sync';
    const session = await loadSession(ctx.db, ctx.clock, req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!session || !session.contextId || !csrfMatches(session, body)) {
      errorPage(req, res, 403, 'Ihre Sitzung ist abgelaufen. Bitte starten Sie die Schulbrücke erneut aus Moodle.');
      return;
    }
    const roles = await rolesInContext(ctx.db, session.tenantId, session.userId, session.contextId);
    if (!roles.some((r) => TEACHING_ROLES.includes(r))) {
      errorPage(req, res, 403, 'Nur Lehrkräfte können die Teilnehmerliste abgleichen (VC-03).', { ruleIds: ['VC-03'] });
      return;
    }
    try {
      await syncRoster(ctx, session.tenantId, session.contextId);
      res.redirect(303, `/contexts/${session.contextId}`);
    } catch (err) {
      errorPage(req, res, err instanceof ProblemError ? err.status : 500, err instanceof ProblemError && err.detail ? err.detail : 'Der Abgleich ist fehlgeschlagen.');
    }
  });
}
