import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../db/schema.js';
import { DAY, HOUR } from '../shared/clock.js';
import { RETENTION_MAXIMA } from '../tenants/settings.js';
import type { RetentionCategory } from './registry.js';
import { ProblemError } from '../shared/errors.js';
import type { RetentionTables } from './tables.js';

/** ACC-03: an approval is valid for 24 hours. */
export const APPROVAL_VALID_MS = 24 * HOUR;
/** At most this many entries per read; page on with `after`. */
export const READ_PAGE = 500;

export type LogAccessRow = Selectable<RetentionTables['log_access_requests']>;

export interface NewLogAccess {
  tenantId: string;
  requestedBy: string;
  reason: string;
  scopeType: 'user' | 'context';
  scopeId: string;
  from: Date;
  to: Date;
  now: Date;
}

export async function requestLogAccess(trx: Kysely<DB>, r: NewLogAccess): Promise<LogAccessRow> {
  const table = r.scopeType === 'user' ? 'users' : 'contexts';
  const exists = await trx.selectFrom(table).select('id').where('tenant_id', '=', r.tenantId).where('id', '=', r.scopeId).executeTakeFirst();
  if (!exists) throw new ProblemError(404, 'not-found', r.scopeType === 'user' ? 'Keine solche Person in dieser Schule.' : 'Kein solcher Kurs in dieser Schule.', { ruleIds: ['ACC-04'] });
  return trx
    .insertInto('log_access_requests')
    .values({
      tenant_id: r.tenantId,
      requested_by: r.requestedBy,
      reason: r.reason,
      scope_type: r.scopeType,
      scope_id: r.scopeId,
      period_from: r.from,
      period_to: r.to,
      created_at: r.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

async function find(trx: Kysely<DB>, tenantId: string, id: string, lock = false): Promise<LogAccessRow> {
  let query = trx.selectFrom('log_access_requests').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id);
  if (lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new ProblemError(404, 'not-found', 'Kein solcher Antrag in dieser Schule.', { ruleIds: ['ACC-04'] });
  return row;
}

/** ACC-03: a second, different admin approves; valid for 24 h from approval. */
export async function approveLogAccess(trx: Kysely<DB>, tenantId: string, id: string, approver: string, now: Date): Promise<LogAccessRow> {
  const row = await find(trx, tenantId, id, true);
  if (row.requested_by === approver) {
    throw new ProblemError(403, 'policy-denied', 'Vier-Augen-Prinzip: Ein anderer Admin der Schule muss den Antrag freigeben, nicht die antragstellende Person (ACC-03).', { ruleIds: ['ACC-03'] });
  }
  if (row.approved_at) throw new ProblemError(409, 'conflict', 'Dieser Antrag ist schon freigegeben (ACC-03).', { ruleIds: ['ACC-03'] });
  return trx
    .updateTable('log_access_requests')
    .set({ approved_by: approver, approved_at: now, expires_at: new Date(now.getTime() + APPROVAL_VALID_MS) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface ActivityEntry {
  at: Date;
  actorId: string | null;
  contextId: string | null;
  action: string;
  objectType: string | null;
  objectId: string | null;
  outcome: string;
  ruleIds: string[];
}

/**
 * Reads the entries an approved request covers: only by the requesting admin,
 * only while the approval lasts, only the named user or context and period.
 * Single entries, never aggregates (RET-12).
 */
export async function readApprovedEntries(
  trx: Kysely<DB>,
  tenantId: string,
  id: string,
  reader: string,
  now: Date,
  after: Date | null,
): Promise<{ request: LogAccessRow; entries: ActivityEntry[] }> {
  const request = await find(trx, tenantId, id);
  if (request.requested_by !== reader) {
    throw new ProblemError(403, 'policy-denied', 'Nur die antragstellende Person darf mit diesem Antrag lesen (ACC-03).', { ruleIds: ['ACC-03'] });
  }
  if (!request.approved_at || !request.expires_at) {
    throw new ProblemError(403, 'policy-denied', 'Der Antrag ist noch nicht von einem zweiten Admin freigegeben (ACC-03).', { ruleIds: ['ACC-03'] });
  }
  if (now.getTime() >= request.expires_at.getTime()) {
    throw new ProblemError(403, 'policy-denied', 'Die Freigabe ist abgelaufen (24 Stunden); bitte einen neuen Antrag stellen (ACC-03).', { ruleIds: ['ACC-03'] });
  }
  let query = trx
    .selectFrom('activity_log')
    .select(['at', 'actor_id', 'context_id', 'action', 'object_type', 'object_id', 'outcome', 'rule_ids'])
    .where('tenant_id', '=', tenantId)
    .where('at', '>=', request.period_from)
    .where('at', '<', request.period_to)
    .where(request.scope_type === 'user' ? 'actor_id' : 'context_id', '=', request.scope_id)
    .orderBy('at')
    .limit(READ_PAGE);
  if (after) query = query.where('at', '>', after);
  const rows = await query.execute();
  return {
    request,
    entries: rows.map((r) => ({
      at: r.at,
      actorId: r.actor_id,
      contextId: r.context_id,
      action: r.action,
      objectType: r.object_type,
      objectId: r.object_id,
      outcome: r.outcome,
      ruleIds: r.rule_ids,
    })),
  };
}

export async function listLogAccess(db: Kysely<DB>, tenantId: string): Promise<LogAccessRow[]> {
  return db.selectFrom('log_access_requests').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').limit(200).execute();
}

/** Four-eyes requests are admin records: kept as long as the admin-action log (RET-03, 56 days). */
export const logAccessRequestsCategory: RetentionCategory = {
  ruleId: 'RET-03',
  name: 'log-access-requests',
  async run(ctx, { now, dryRun }) {
    const cutoff = new Date(now.getTime() - RETENTION_MAXIMA.adminLogDays * DAY);
    if (dryRun) {
      const r = await ctx.db.selectFrom('log_access_requests').select((eb) => eb.fn.countAll<number>().as('n')).where('created_at', '<=', cutoff).executeTakeFirstOrThrow();
      return [{ tenantId: null, cutoff, deleted: Number(r.n) }];
    }
    const r = await ctx.db.deleteFrom('log_access_requests').where('created_at', '<=', cutoff).executeTakeFirst();
    return [{ tenantId: null, cutoff, deleted: Number(r.numDeletedRows) }];
  },
};
