import type { Kysely } from 'kysely';
import type { AppContext } from '../context.js';
import type { DB } from '../db/schema.js';
import { eraseSubject } from '../privacy/registry.js';
import { DAY } from '../shared/clock.js';
import { ProblemError } from '../shared/errors.js';
import { toTenant, type Tenant } from '../tenants/store.js';
import type { RetentionCategory, RetentionOutcome } from './registry.js';
import { LOG_CATEGORIES, purgeTenantRows } from './logs.js';

const ACTOR = 'retention';

/** RET-06: the end of the purgatory window for something deleted at `deletedAt`. */
export function restorableUntil(deletedAt: Date, tenant: Tenant): Date {
  return new Date(deletedAt.getTime() + tenant.settings.retention.purgatoryDays * DAY);
}

export type PurgatoryObject = 'user' | 'context';

/** Soft-deletes a user or context (RET-06); the user's sessions end at once. Call inside a transaction. */
export async function softDelete(trx: Kysely<DB>, now: Date, tenantId: string, type: PurgatoryObject, id: string): Promise<void> {
  const table = type === 'user' ? 'users' : 'contexts';
  const row = await trx.selectFrom(table).select(['id', 'deleted_at']).where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new ProblemError(404, 'not-found', type === 'user' ? 'Keine solche Person in dieser Schule.' : 'Kein solcher Kurs in dieser Schule.', { ruleIds: ['ACC-04'] });
  if (row.deleted_at) throw new ProblemError(409, 'conflict', 'Bereits gelöscht; innerhalb der Frist wiederherstellbar (RET-06).', { ruleIds: ['RET-06'] });
  await trx.updateTable(table).set({ deleted_at: now }).where('id', '=', id).execute();
  if (type === 'user') await trx.deleteFrom('sessions').where('user_id', '=', id).execute();
  else await trx.deleteFrom('sessions').where('context_id', '=', id).execute();
}

/** Restores within the tenant's window; 410 after it (RET-06). Call inside a transaction. */
export async function restore(trx: Kysely<DB>, now: Date, tenant: Tenant, type: PurgatoryObject, id: string): Promise<void> {
  const table = type === 'user' ? 'users' : 'contexts';
  const row = await trx.selectFrom(table).select(['id', 'deleted_at']).where('tenant_id', '=', tenant.id).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new ProblemError(404, 'not-found', type === 'user' ? 'Keine solche Person in dieser Schule.' : 'Kein solcher Kurs in dieser Schule.', { ruleIds: ['ACC-04'] });
  if (!row.deleted_at) throw new ProblemError(409, 'conflict', 'Nicht gelöscht; nichts wiederherzustellen.');
  if (now.getTime() >= restorableUntil(row.deleted_at, tenant).getTime()) {
    throw new ProblemError(410, 'gone', `Die Wiederherstellungsfrist von ${tenant.settings.retention.purgatoryDays} Tagen ist abgelaufen (RET-06).`, { ruleIds: ['RET-06'] });
  }
  await trx.updateTable(table).set({ deleted_at: null }).where('id', '=', id).execute();
}

/**
 * RET-06: hard-deletes what has been in the purgatory for the tenant's whole
 * window: users (through every module's eraser, one transaction per user),
 * contexts (with everything that hangs on them), and whole tenants (their logs
 * first, in batches, then the tenant row, whose foreign keys cascade).
 */
export const purgatoryCategory: RetentionCategory = {
  ruleId: 'RET-06',
  name: 'purgatory',
  async run(ctx: AppContext, { now, dryRun }): Promise<RetentionOutcome[]> {
    const { db } = ctx;
    const outcomes: RetentionOutcome[] = [];
    const tenants = (await db.selectFrom('tenants').selectAll().execute()).map(toTenant);
    for (const tenant of tenants) {
      const cutoff = new Date(now.getTime() - tenant.settings.retention.purgatoryDays * DAY);
      if (tenant.deletedAt) {
        if (tenant.deletedAt.getTime() > cutoff.getTime()) continue;
        if (!dryRun) await purgeTenant(ctx, tenant.id);
        outcomes.push({ tenantId: null, cutoff, deleted: 1, details: { tenants: 1 } });
        continue;
      }
      const users = await db.selectFrom('users').select('id').where('tenant_id', '=', tenant.id).where('deleted_at', '<=', cutoff).execute();
      const contexts = await db.selectFrom('contexts').select('id').where('tenant_id', '=', tenant.id).where('deleted_at', '<=', cutoff).execute();
      if (!dryRun) {
        for (const { id } of users) {
          await db.transaction().execute(async (trx) => {
            // Re-check inside the transaction: a restore may have won the race.
            const still = await trx.selectFrom('users').select('id').where('id', '=', id).where('deleted_at', '<=', cutoff).forUpdate().executeTakeFirst();
            if (!still) return;
            await eraseSubject(ctx.privacy, trx, { tenantId: tenant.id, userId: id });
            await ctx.audit.admin(trx, { tenantId: tenant.id, actor: ACTOR, action: 'user.purge', objectType: 'user', objectId: id, ruleIds: ['RET-06'] });
          });
        }
        for (const { id } of contexts) {
          await db.transaction().execute(async (trx) => {
            const gone = await trx.deleteFrom('contexts').where('id', '=', id).where('deleted_at', '<=', cutoff).executeTakeFirst();
            if (Number(gone.numDeletedRows)) {
              await ctx.audit.admin(trx, { tenantId: tenant.id, actor: ACTOR, action: 'context.purge', objectType: 'context', objectId: id, ruleIds: ['RET-06'] });
            }
          });
        }
      }
      if (users.length || contexts.length) {
        outcomes.push({ tenantId: tenant.id, cutoff, deleted: users.length + contexts.length, details: { users: users.length, contexts: contexts.length } });
      }
    }
    return outcomes;
  },
};

async function purgeTenant(ctx: AppContext, tenantId: string): Promise<void> {
  const { db } = ctx;
  // Batched, resumable: a run cut short leaves the tenant soft-deleted and the next run continues.
  for (const { table } of LOG_CATEGORIES) await purgeTenantRows(db, table, tenantId, null);
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('tenants').where('id', '=', tenantId).where('deleted_at', 'is not', null).execute();
    await ctx.audit.admin(trx, { tenantId: null, actor: ACTOR, action: 'tenant.purge', objectType: 'tenant', objectId: tenantId, ruleIds: ['RET-06'] });
  });
}
