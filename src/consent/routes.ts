import { z } from 'zod';
import { actorOf } from '../auth/principal.js';
import type { AppContext } from '../context.js';
import type { Api, TenantRef } from '../http/api.js';
import { ProblemError } from '../shared/errors.js';
import { acceptUsageRules, currentUsageRules, importConsents, liftObjection, publishUsageRules, recordObjection } from './index.js';

const uuid = z.uuid();
const access = { scopes: ['admin', 'lms'] as const };
const slugOnly = z.object({ slug: z.string() });

async function usersOf(ctx: AppContext, tenant: TenantRef, ids: string[]): Promise<void> {
  const unique = [...new Set(ids)];
  if (!unique.length) return;
  const rows = await ctx.db.selectFrom('users').select('id').where('tenant_id', '=', tenant.id).where('id', 'in', unique).execute();
  if (rows.length !== unique.length) {
    const known = new Set(rows.map((r) => r.id));
    throw new ProblemError(422, 'validation-failed', 'Unbekannte Personen in der Liste (ACC-04).', { ruleIds: ['ACC-04'], extra: { errors: unique.filter((id) => !known.has(id)).map((id) => ({ in: 'body', field: 'userId', message: `unbekannt: ${id}`, code: 'custom' })) } });
  }
}

/** Consents (VC-07, VC-09), objections (VC-06, DSR-04) and usage rules (VC-13) for tenant admins and the LMS. */
export function registerConsentRoutes(api: Api, ctx: AppContext): void {
  const consentItem = z
    .object({
      userId: uuid,
      scope: z.enum(['video', 'peer']),
      givenAt: z.iso.datetime({ offset: true }),
      withdrawnAt: z.iso.datetime({ offset: true }).nullish(),
    })
    .strict();

  api.route({
    method: 'post',
    path: '/tenants/{slug}/consents/import',
    summary: 'Bulk import of consents by pseudonymous user id (given / withdrawn); a withdrawal takes effect at the next join',
    tag: 'consent',
    access,
    params: slugOnly,
    body: z.object({ items: z.array(consentItem).min(1).max(5000) }).strict(),
    response: z.object({ given: z.number(), withdrawn: z.number() }),
    async handler({ tenant, body, principal }) {
      await usersOf(ctx, tenant, body.items.map((i) => i.userId));
      return ctx.db.transaction().execute(async (trx) => {
        const result = await importConsents(
          trx,
          tenant.id,
          principal.kind === 'token' && principal.scopes.includes('lms') ? 'lms' : 'admin',
          body.items.map((i) => ({ userId: i.userId, scope: i.scope, givenAt: new Date(i.givenAt), withdrawnAt: i.withdrawnAt ? new Date(i.withdrawnAt) : null })),
        );
        await ctx.audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'consent.import', objectType: 'consents', ruleIds: ['VC-07'], details: result });
        return result;
      });
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/consents',
    summary: 'Consents of one person',
    tag: 'consent',
    access,
    params: slugOnly,
    query: z.object({ userId: uuid }),
    response: z.object({ items: z.array(z.object({ scope: z.string(), givenAt: z.string(), withdrawnAt: z.string().nullable(), source: z.string() })) }),
    async handler({ tenant, query }) {
      const rows = await ctx.db.selectFrom('consents').select(['scope', 'given_at', 'withdrawn_at', 'source']).where('tenant_id', '=', tenant.id).where('user_id', '=', query.userId).orderBy('given_at').execute();
      return { items: rows.map((r) => ({ scope: r.scope, givenAt: r.given_at.toISOString(), withdrawnAt: r.withdrawn_at?.toISOString() ?? null, source: r.source })) };
    },
  });

  api.route({
    method: 'put',
    path: '/tenants/{slug}/objections/{userId}',
    summary: 'Record an objection (Art. 21): the person joins with camera off from the next join (VC-06, DSR-04)',
    tag: 'consent',
    access,
    status: 204,
    params: z.object({ slug: z.string(), userId: uuid }),
    async handler({ tenant, params, principal }) {
      await usersOf(ctx, tenant, [params.userId]);
      await ctx.db.transaction().execute(async (trx) => {
        await recordObjection(trx, ctx.clock, { tenantId: tenant.id, userId: params.userId, source: principal.kind === 'token' && principal.scopes.includes('lms') ? 'lms' : 'admin' });
        await ctx.audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'objection.record', objectType: 'user', objectId: params.userId, ruleIds: ['VC-06', 'DSR-04'] });
      });
    },
  });

  api.route({
    method: 'delete',
    path: '/tenants/{slug}/objections/{userId}',
    summary: 'Lift an objection',
    tag: 'consent',
    access,
    status: 204,
    params: z.object({ slug: z.string(), userId: uuid }),
    async handler({ tenant, params, principal }) {
      await usersOf(ctx, tenant, [params.userId]);
      await ctx.db.transaction().execute(async (trx) => {
        const lifted = await liftObjection(trx, ctx.clock, tenant.id, params.userId);
        if (!lifted) throw new ProblemError(404, 'not-found', 'Für diese Person ist kein Widerspruch eingetragen.');
        await ctx.audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'objection.lift', objectType: 'user', objectId: params.userId, ruleIds: ['VC-06'] });
      });
    },
  });

  const rulesOut = z.object({ version: z.number(), textDe: z.string(), textEn: z.string().nullable() });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/usage-rules',
    summary: 'Publish a new version of the usage rules; everyone accepts it again before the next join (VC-13)',
    tag: 'consent',
    access: { scopes: ['admin'] },
    status: 201,
    params: slugOnly,
    body: z.object({ textDe: z.string().trim().min(20).max(20000), textEn: z.string().trim().min(20).max(20000).nullish() }).strict(),
    response: rulesOut,
    async handler({ tenant, body, principal }) {
      const version = await ctx.db.transaction().execute(async (trx) => {
        const v = await publishUsageRules(trx, ctx.clock, { tenantId: tenant.id, textDe: body.textDe, textEn: body.textEn ?? null });
        await ctx.audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'usage-rules.publish', objectType: 'usage_rules', objectId: String(v), ruleIds: ['VC-13'] });
        return v;
      });
      return { version, textDe: body.textDe, textEn: body.textEn ?? null };
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/usage-rules',
    summary: 'The current usage rules (VC-13)',
    tag: 'consent',
    access,
    params: slugOnly,
    response: rulesOut,
    async handler({ tenant }) {
      const current = await currentUsageRules(ctx.db, tenant.id);
      if (!current) throw new ProblemError(404, 'not-found', 'Für diese Schule sind noch keine Nutzungsregeln hinterlegt.');
      return current;
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/usage-rules/acceptances',
    summary: 'Record that a person accepted the current version (VC-13), e.g. from the LMS',
    tag: 'consent',
    access,
    status: 204,
    params: slugOnly,
    body: z.object({ userId: uuid, version: z.number().int().min(1) }).strict(),
    async handler({ tenant, body }) {
      await usersOf(ctx, tenant, [body.userId]);
      if (!(await acceptUsageRules(ctx.db, ctx.clock, { tenantId: tenant.id, userId: body.userId, version: body.version }))) {
        throw new ProblemError(409, 'conflict', 'Das ist nicht die aktuelle Version der Nutzungsregeln (VC-13).', { ruleIds: ['VC-13'] });
      }
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/usage-rules/acceptances',
    summary: 'Which versions a person accepted, and when',
    tag: 'consent',
    access,
    params: slugOnly,
    query: z.object({ userId: uuid }),
    response: z.object({ items: z.array(z.object({ version: z.number(), acceptedAt: z.string() })) }),
    async handler({ tenant, query }) {
      const rows = await ctx.db.selectFrom('usage_rule_acceptances').select(['version', 'accepted_at']).where('tenant_id', '=', tenant.id).where('user_id', '=', query.userId).orderBy('version').execute();
      return { items: rows.map((r) => ({ version: r.version, acceptedAt: r.accepted_at.toISOString() })) };
    },
  });
}
