import { z } from 'zod';
import { actorOf } from '../auth/principal.js';
import type { AppContext } from '../context.js';
import type { Api } from '../http/api.js';
import { DAY } from '../shared/clock.js';
import { ProblemError } from '../shared/errors.js';
import { mergePatch, tenantSettingsSchema } from './settings.js';
import { findBySlug, list, toTenant, type Tenant } from './store.js';

const slugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, { message: 'Kleinbuchstaben, Ziffern und Bindestriche, 2–63 Zeichen' })
  .describe('Short, stable identifier of the school, e.g. `gs-musterstadt`');

const slugParams = z.object({ slug: slugSchema });

const tenantOut = z.object({
  id: z.uuid(),
  slug: z.string(),
  name: z.string(),
  settings: tenantSettingsSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().nullable(),
  restorableUntil: z.string().nullable().describe('RET-06: end of the purgatory window for a deleted tenant'),
});

const createBody = z
  .object({
    slug: slugSchema,
    name: z.string().trim().min(1).max(200),
    settings: tenantSettingsSchema.optional(),
  })
  .strict();

const patchBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    settings: z.record(z.string(), z.unknown()).optional().describe('JSON merge patch over the current settings; null resets a field'),
  })
  .strict();

export function present(t: Tenant) {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    settings: t.settings,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
    deletedAt: t.deletedAt?.toISOString() ?? null,
    restorableUntil: t.deletedAt ? new Date(t.deletedAt.getTime() + t.settings.retention.purgatoryDays * DAY).toISOString() : null,
  };
}

export function registerTenantRoutes(api: Api, ctx: AppContext): void {
  const { db, audit, clock } = ctx;

  api.route({
    method: 'post',
    path: '/tenants',
    summary: 'Create a tenant (one school, the GDPR controller)',
    tag: 'tenants',
    access: { operator: true },
    body: createBody,
    status: 201,
    response: tenantOut,
    errors: [409],
    async handler({ body, principal, res }) {
      const settings = body.settings ?? tenantSettingsSchema.parse({});
      const tenant = await db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('tenants').select(['id', 'deleted_at']).where('slug', '=', body.slug).executeTakeFirst();
        if (existing) {
          throw new ProblemError(409, 'conflict', existing.deleted_at
            ? `Die Kennung „${body.slug}“ gehört zu einer gelöschten Schule, die noch wiederhergestellt werden kann (RET-06).`
            : `Die Kennung „${body.slug}“ ist schon vergeben.`, { ruleIds: existing.deleted_at ? ['RET-06'] : [] });
        }
        const now = clock.now();
        const row = await trx
          .insertInto('tenants')
          .values({ slug: body.slug, name: body.name, settings: JSON.stringify(settings), created_at: now, updated_at: now })
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit.admin(trx, { tenantId: row.id, actor: actorOf(principal), action: 'tenant.create', objectType: 'tenant', objectId: row.id, ruleIds: ['RET-03'] });
        return toTenant(row);
      });
      res.location(`/api/v1/tenants/${tenant.slug}`);
      return present(tenant);
    },
  });

  api.route({
    method: 'get',
    path: '/tenants',
    summary: 'List tenants (a tenant token sees only its own)',
    tag: 'tenants',
    access: { operator: true, scopes: ['admin', 'lms', 'dpo'] },
    query: z.object({ includeDeleted: z.enum(['true', 'false']).default('false').describe('operator only') }),
    response: z.object({ items: z.array(tenantOut) }),
    async handler({ principal, query }) {
      const tenants =
        principal.kind === 'operator'
          ? await list(db, { includeDeleted: query.includeDeleted === 'true' })
          : await list(db, { onlyId: principal.tenantId });
      return { items: tenants.map(present) };
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}',
    summary: 'Read a tenant and its settings',
    tag: 'tenants',
    access: { operator: true, scopes: ['admin', 'lms', 'dpo'] },
    params: slugParams,
    response: tenantOut,
    async handler({ tenant }) {
      return present((await findBySlug(db, tenant.slug))!);
    },
  });

  api.route({
    method: 'patch',
    path: '/tenants/{slug}',
    summary: 'Change name or settings (JSON merge patch; retention may only be shortened)',
    tag: 'tenants',
    access: { operator: true, scopes: ['admin'] },
    params: slugParams,
    body: patchBody,
    response: tenantOut,
    async handler({ tenant: ref, body, principal }) {
      return db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('tenants').selectAll().where('id', '=', ref.id).forUpdate().executeTakeFirstOrThrow();
        const settings = body.settings ? tenantSettingsSchema.safeParse(mergePatch(row.settings, body.settings)) : null;
        if (settings && !settings.success) {
          throw new ProblemError(422, 'validation-failed', 'Bitte die markierten Einstellungen prüfen.', {
            extra: { errors: settings.error.issues.map((i) => ({ in: 'body', field: ['settings', ...i.path].join('.'), message: i.message, code: i.code })) },
          });
        }
        const updated = await trx
          .updateTable('tenants')
          .set({
            ...(body.name ? { name: body.name } : {}),
            ...(settings ? { settings: JSON.stringify(settings.data) } : {}),
            updated_at: clock.now(),
          })
          .where('id', '=', ref.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit.admin(trx, {
          tenantId: ref.id,
          actor: actorOf(principal),
          action: 'tenant.update',
          objectType: 'tenant',
          objectId: ref.id,
          details: { fields: [...(body.name ? ['name'] : []), ...Object.keys(body.settings ?? {}).map((k) => `settings.${k}`)] },
        });
        return present(toTenant(updated));
      });
    },
  });

  api.route({
    method: 'delete',
    path: '/tenants/{slug}',
    summary: 'Soft-delete a tenant; restorable within its purgatory window (RET-06)',
    tag: 'tenants',
    access: { operator: true },
    params: slugParams,
    status: 204,
    async handler({ tenant, principal }) {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('tenants').set({ deleted_at: clock.now() }).where('id', '=', tenant.id).execute();
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'tenant.delete', objectType: 'tenant', objectId: tenant.id, ruleIds: ['RET-06'] });
      });
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/restore',
    summary: 'Restore a soft-deleted tenant within its purgatory window (RET-06)',
    tag: 'tenants',
    access: { operator: true },
    params: slugParams,
    includeDeletedTenant: true,
    response: tenantOut,
    errors: [409, 410],
    async handler({ tenant, principal }) {
      return db.transaction().execute(async (trx) => {
        const found = (await findBySlug(trx, tenant.slug, true))!;
        if (!found.deletedAt) throw new ProblemError(409, 'conflict', 'Diese Schule ist nicht gelöscht.');
        const until = found.deletedAt.getTime() + found.settings.retention.purgatoryDays * DAY;
        if (clock.now().getTime() >= until) {
          throw new ProblemError(410, 'gone', `Die Wiederherstellungsfrist von ${found.settings.retention.purgatoryDays} Tagen ist abgelaufen (RET-06).`, { ruleIds: ['RET-06'] });
        }
        const row = await trx.updateTable('tenants').set({ deleted_at: null, updated_at: clock.now() }).where('id', '=', found.id).returningAll().executeTakeFirstOrThrow();
        await audit.admin(trx, { tenantId: found.id, actor: actorOf(principal), action: 'tenant.restore', objectType: 'tenant', objectId: found.id, ruleIds: ['RET-06'] });
        return present(toTenant(row));
      });
    },
  });
}
