import type { Kysely, Selectable } from 'kysely';
import type { AppContext } from '../context.js';
import type { DB } from '../db/schema.js';
import { ProblemError } from '../shared/errors.js';
import { toTenant } from '../tenants/store.js';
import type { RetentionCategory, RetentionOutcome } from './registry.js';
import type { RetentionTables } from './tables.js';

function addMonth(t: Date): Date {
  const d = new Date(t);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d;
}

export interface SchoolYearEnd {
  /** e.g. '2025/26' */
  label: string;
  /** First instant after the school year (= the next year's start day, 00:00 UTC). */
  end: Date;
  /** RET-11: one month after the end. */
  due: Date;
}

/** The latest school year whose confirmation is due at `now` (settings.schoolYearStart, MM-DD). */
export function latestDueSchoolYear(schoolYearStart: string, now: Date): SchoolYearEnd {
  const [mm, dd] = schoolYearStart.split('-').map(Number) as [number, number];
  for (let year = now.getUTCFullYear() + 1; ; year--) {
    const end = new Date(Date.UTC(year, mm - 1, dd));
    const due = addMonth(end);
    if (due.getTime() <= now.getTime()) return { label: `${year - 1}/${String(year % 100).padStart(2, '0')}`, end, due };
  }
}

export type ConfirmationRow = Selectable<RetentionTables['retention_confirmations']>;

/**
 * RET-11: one month after a school year ends, an open confirmation asks the
 * tenant's admins whether the year-end deletions were done; it stays until
 * answered. Only for school years the tenant existed in.
 */
export const confirmationsCategory: RetentionCategory = {
  ruleId: 'RET-11',
  name: 'school-year-confirmations',
  async run(ctx: AppContext, { now, dryRun }): Promise<RetentionOutcome[]> {
    const outcomes: RetentionOutcome[] = [];
    const tenants = (await ctx.db.selectFrom('tenants').selectAll().where('deleted_at', 'is', null).execute()).map(toTenant);
    for (const tenant of tenants) {
      const year = latestDueSchoolYear(tenant.settings.schoolYearStart, now);
      if (tenant.createdAt.getTime() >= year.end.getTime()) continue;
      if (dryRun) {
        const exists = await ctx.db.selectFrom('retention_confirmations').select('id').where('tenant_id', '=', tenant.id).where('school_year', '=', year.label).executeTakeFirst();
        if (!exists) outcomes.push({ tenantId: tenant.id, cutoff: year.due, deleted: 0, details: { confirmationsOpened: 1, schoolYear: year.label } });
        continue;
      }
      const inserted = await ctx.db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('retention_confirmations')
          .values({ tenant_id: tenant.id, school_year: year.label, school_year_end: year.end, due_at: year.due, created_at: now })
          .onConflict((oc) => oc.columns(['tenant_id', 'school_year']).doNothing())
          .returning('id')
          .executeTakeFirst();
        if (row) {
          await ctx.audit.admin(trx, { tenantId: tenant.id, actor: 'retention', action: 'retention.confirmation.open', objectType: 'retention_confirmation', objectId: row.id, ruleIds: ['RET-11'], details: { schoolYear: year.label } });
        }
        return row;
      });
      if (inserted) outcomes.push({ tenantId: tenant.id, cutoff: year.due, deleted: 0, details: { confirmationsOpened: 1, schoolYear: year.label } });
    }
    return outcomes;
  },
};

export async function listConfirmations(db: Kysely<DB>, tenantId: string): Promise<ConfirmationRow[]> {
  return db.selectFrom('retention_confirmations').selectAll().where('tenant_id', '=', tenantId).orderBy('due_at', 'desc').execute();
}

/** Records the admins' answer; an answer is final (409 on a second one). Call inside a transaction. */
export async function answerConfirmation(
  trx: Kysely<DB>,
  tenantId: string,
  id: string,
  answer: { answer: 'done' | 'not-done'; note: string | null; by: string; at: Date },
): Promise<ConfirmationRow> {
  const row = await trx.selectFrom('retention_confirmations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new ProblemError(404, 'not-found', 'Keine solche Bestätigung in dieser Schule.', { ruleIds: ['ACC-04'] });
  if (row.answered_at) throw new ProblemError(409, 'conflict', 'Diese Bestätigung wurde schon beantwortet (RET-11).', { ruleIds: ['RET-11'] });
  return trx
    .updateTable('retention_confirmations')
    .set({ answered_at: answer.at, answered_by: answer.by, answer: answer.answer, note: answer.note })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
