import type { RetentionCategory, RetentionOutcome } from '../retention/registry.js';
import { DAY } from '../shared/clock.js';
import { list } from '../tenants/store.js';
import { lebDeletionCutoff } from './schoolyear.js';

/**
 * RET-09: an LEB is deleted at the end of the school year after the one in
 * which the standard was reached, from the tenant's schoolYearStart. One
 * indexed range per tenant (lebs_due).
 */
export const lebRetention: RetentionCategory = {
  ruleId: 'RET-09',
  name: 'competency-lebs',
  async run(ctx, { now, dryRun }) {
    const outcomes: RetentionOutcome[] = [];
    for (const tenant of await list(ctx.db)) {
      const cutoff = lebDeletionCutoff(now, tenant.settings.schoolYearStart);
      const query = ctx.db.selectFrom('lebs').where('tenant_id', '=', tenant.id).where('standard_reached_at', '<', cutoff);
      const deleted = dryRun
        ? Number((await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
        : Number((await ctx.db.deleteFrom('lebs').where('tenant_id', '=', tenant.id).where('standard_reached_at', '<', cutoff).executeTakeFirst()).numDeletedRows);
      outcomes.push({ tenantId: tenant.id, cutoff, deleted, details: { schoolYearStart: tenant.settings.schoolYearStart } });
    }
    return outcomes;
  },
};

/**
 * RET-08: grids live only as long as the account. Hard-deleting a user removes
 * them (foreign key) and erasure runs the privacy provider; this category
 * catches grids of accounts that have been soft-deleted for longer than the
 * tenant's purgatory window (RET-06), should the account row outlive it.
 * The pupil's own deletion after reaching the standard is immediate (routes).
 */
export const gridRetention: RetentionCategory = {
  ruleId: 'RET-08',
  name: 'competency-grids',
  async run(ctx, { now, dryRun }) {
    const outcomes: RetentionOutcome[] = [];
    for (const tenant of await list(ctx.db)) {
      const cutoff = new Date(now.getTime() - tenant.settings.retention.purgatoryDays * DAY);
      const gone = ctx.db.selectFrom('users').select('id').where('tenant_id', '=', tenant.id).where('deleted_at', '<', cutoff);
      const deleted = dryRun
        ? Number((await ctx.db.selectFrom('competency_grids').where('tenant_id', '=', tenant.id).where('pupil_id', 'in', gone).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
        : Number((await ctx.db.deleteFrom('competency_grids').where('tenant_id', '=', tenant.id).where('pupil_id', 'in', gone).executeTakeFirst()).numDeletedRows);
      outcomes.push({ tenantId: tenant.id, cutoff, deleted });
    }
    return outcomes;
  },
};

export const competencyRetention: RetentionCategory[] = [gridRetention, lebRetention];
