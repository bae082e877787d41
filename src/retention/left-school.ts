import type { AppContext } from '../context.js';
import { eraseSubject } from '../privacy/registry.js';
import { toTenant, type Tenant } from '../tenants/store.js';
import type { RetentionCategory, RetentionOutcome } from './registry.js';

/** One calendar year later (29 Feb → 1 Mar), in UTC. */
export function addYear(t: Date): Date {
  const d = new Date(t);
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d;
}

function subtractYear(t: Date): Date {
  const d = new Date(t);
  d.setUTCFullYear(d.getUTCFullYear() - 1);
  return d;
}

/** RET-07: when a user who left on `leftAt` is erased under the tenant's variant. */
export function erasureDueAt(leftAt: Date, tenant: Tenant): Date {
  return tenant.settings.retention.leftSchool === 'immediately' ? leftAt : addYear(leftAt);
}

/**
 * RET-07: accounts of people who left school are erased with everything linked
 * to them, through every module's eraser (the privacy registry), one user per
 * transaction: a run cut short leaves each user either whole or gone.
 */
export const leftSchoolCategory: RetentionCategory = {
  ruleId: 'RET-07',
  name: 'left-school',
  async run(ctx: AppContext, { now, dryRun }): Promise<RetentionOutcome[]> {
    const { db } = ctx;
    const outcomes: RetentionOutcome[] = [];
    const tenants = (await db.selectFrom('tenants').selectAll().where('deleted_at', 'is', null).execute()).map(toTenant);
    for (const tenant of tenants) {
      // Due when erasureDueAt(left_at) <= now, i.e. left_at <= cutoff.
      const cutoff = tenant.settings.retention.leftSchool === 'immediately' ? now : subtractYear(now);
      const due = await db.selectFrom('users').select('id').where('tenant_id', '=', tenant.id).where('left_at', '<=', cutoff).execute();
      if (!due.length) continue;
      let erased = 0;
      let kept = 0;
      for (const { id } of due) {
        if (dryRun) {
          erased++;
          continue;
        }
        await db.transaction().execute(async (trx) => {
          const still = await trx.selectFrom('users').select('id').where('id', '=', id).where('left_at', '<=', cutoff).forUpdate().executeTakeFirst();
          if (!still) return;
          const results = await eraseSubject(ctx.privacy, trx, { tenantId: tenant.id, userId: id });
          kept += results.reduce((n, r) => n + r.kept, 0);
          await ctx.audit.admin(trx, {
            tenantId: tenant.id,
            actor: 'retention',
            action: 'user.erase',
            objectType: 'user',
            objectId: id,
            ruleIds: ['RET-07'],
            details: { categories: results.length, deleted: results.reduce((n, r) => n + r.deleted, 0), kept: results.reduce((n, r) => n + r.kept, 0) },
          });
          erased++;
        });
      }
      outcomes.push({ tenantId: tenant.id, cutoff, deleted: erased, details: { users: erased, rowsKept: kept, variant: tenant.settings.retention.leftSchool } });
    }
    return outcomes;
  },
};
