import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../db/schema.js';
import type { RetentionTables } from './tables.js';

/** One protocol row: what a job did for one category (and tenant), counts and codes only. */
export interface RunRecord {
  job: string;
  ruleId: string | null;
  category: string | null;
  tenantId: string | null;
  cutoff: Date | null;
  deleted: number;
  details: Record<string, number | string>;
  startedAt: Date;
  durationMs: number;
  outcome: 'ok' | 'error' | 'locked';
  error: string | null;
}

export async function recordRun(db: Kysely<DB>, run: RunRecord): Promise<void> {
  await db
    .insertInto('retention_runs')
    .values({
      job: run.job,
      rule_id: run.ruleId,
      category: run.category,
      tenant_id: run.tenantId,
      cutoff: run.cutoff,
      deleted: run.deleted,
      details: JSON.stringify(run.details),
      started_at: run.startedAt,
      duration_ms: run.durationMs,
      outcome: run.outcome,
      error: run.error,
    })
    .execute();
}

export type RunRow = Selectable<RetentionTables['retention_runs']>;

export async function listRuns(db: Kysely<DB>, options: { tenantId?: string; job?: string; limit: number }): Promise<RunRow[]> {
  let query = db.selectFrom('retention_runs').selectAll().orderBy('started_at', 'desc').orderBy('id').limit(options.limit);
  if (options.tenantId) query = query.where('tenant_id', '=', options.tenantId);
  if (options.job) query = query.where('job', '=', options.job);
  return query.execute();
}

/**
 * The protocol keeps only an error's class and code: messages may quote data
 * (a name in a constraint detail, a value in a parse error), so they stay out.
 */
export function safeErrorText(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown; type?: unknown } | null;
  const name = typeof e?.name === 'string' && /^[A-Za-z]{1,60}$/.test(e.name) ? e.name : 'Error';
  const code = typeof e?.code === 'string' && /^[A-Za-z0-9_-]{1,40}$/.test(e.code) ? e.code : typeof e?.type === 'string' && /^[a-z-]{1,40}$/.test(e.type) ? e.type : null;
  return code ? `${name} ${code}` : name;
}
