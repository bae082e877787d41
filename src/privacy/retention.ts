import type { AppContext } from '../context.js';
import type { RetentionCategory, RetentionOutcome } from '../retention/registry.js';
import { DAY } from '../shared/clock.js';
import { toTenant } from '../tenants/store.js';
import { FINAL_STATUSES, requestRecordCutoff } from './policy.js';
import { actorName } from './requests.js';

/** RET-10: export archives are deleted 7 days (tenant: fewer) after they were ready; the request becomes `expired`. */
export const exportFileRetention: RetentionCategory = {
  ruleId: 'RET-10',
  name: 'privacy-export-files',
  async run(ctx: AppContext, { now, dryRun }) {
    const outcomes: RetentionOutcome[] = [];
    for (const tenant of (await ctx.db.selectFrom('tenants').selectAll().execute()).map(toTenant)) {
      const cutoff = new Date(now.getTime() - tenant.settings.retention.exportFileDays * DAY);
      const due = await ctx.db.selectFrom('privacy_requests').select('id').where('tenant_id', '=', tenant.id).where('status', '=', 'download_ready').where('ready_at', '<=', cutoff).execute();
      let deleted = 0;
      if (!dryRun) {
        for (const { id } of due) deleted += await expireExport(ctx, tenant.id, id, cutoff);
      } else deleted = due.length;
      if (due.length) outcomes.push({ tenantId: tenant.id, cutoff, deleted });
    }
    return outcomes;
  },
};

async function expireExport(ctx: AppContext, tenantId: string, id: string, cutoff: Date): Promise<number> {
  return ctx.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('privacy_requests').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row || row.status !== 'download_ready' || !row.ready_at || row.ready_at > cutoff) return 0;
    await trx.deleteFrom('privacy_export_chunks').where('request_id', '=', id).execute();
    await trx.deleteFrom('privacy_download_links').where('request_id', '=', id).execute();
    const now = ctx.clock.now();
    await trx.updateTable('privacy_requests').set({ status: 'expired', updated_at: now, finished_at: now }).where('id', '=', id).execute();
    await ctx.audit.admin(trx, {
      tenantId,
      actor: actorName({ kind: 'system', tenantId }),
      action: 'privacy.request.expire',
      objectType: 'privacy_request',
      objectId: id,
      ruleIds: ['RET-10'],
      details: { type: row.type, from: 'download_ready', to: 'expired' },
    });
    return 1;
  });
}

/**
 * Request records (accountability, DSR-05) are kept until the end of the school
 * year after the one in which they were finished (tenant's schoolYearStart), then deleted.
 */
export const requestRecordRetention: RetentionCategory = {
  ruleId: 'DSR-05',
  name: 'privacy-request-records',
  async run(ctx: AppContext, { now, dryRun }) {
    const outcomes: RetentionOutcome[] = [];
    for (const tenant of (await ctx.db.selectFrom('tenants').selectAll().execute()).map(toTenant)) {
      const cutoff = requestRecordCutoff(now, tenant.settings.schoolYearStart);
      const due = ctx.db.selectFrom('privacy_requests').where('tenant_id', '=', tenant.id).where('status', 'in', [...FINAL_STATUSES]).where('finished_at', '<', cutoff);
      const deleted = dryRun
        ? Number((await due.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)
        : Number(
            (
              await ctx.db
                .deleteFrom('privacy_requests')
                .where('tenant_id', '=', tenant.id)
                .where('status', 'in', [...FINAL_STATUSES])
                .where('finished_at', '<', cutoff)
                .executeTakeFirst()
            ).numDeletedRows,
          );
      if (deleted) outcomes.push({ tenantId: tenant.id, cutoff, deleted });
    }
    return outcomes;
  },
};
