import { sql, type Kysely } from 'kysely';
import type { AppContext } from '../context.js';
import type { DB } from '../db/schema.js';
import { ensurePartitions, startOfUtcDay, type LogTable } from '../audit/index.js';
import { DAY } from '../shared/clock.js';
import { RETENTION_MAXIMA } from '../tenants/settings.js';
import { toTenant } from '../tenants/store.js';
import type { RetentionCategory, RetentionOutcome } from './registry.js';

/** Partitions kept ready ahead of today, so writes never wait for DDL. */
export const DAYS_AHEAD = 7;
const BATCH = 5000;

type SettingKey = 'activityLogDays' | 'accessLogDays' | 'adminLogDays';

export interface LogCategorySpec {
  table: LogTable;
  ruleId: 'RET-01' | 'RET-02' | 'RET-03';
  name: string;
  setting: SettingKey;
}

export const LOG_CATEGORIES: readonly LogCategorySpec[] = [
  { table: 'activity_log', ruleId: 'RET-01', name: 'activity-log', setting: 'activityLogDays' },
  { table: 'access_log', ruleId: 'RET-02', name: 'access-log', setting: 'accessLogDays' },
  { table: 'admin_log', ruleId: 'RET-03', name: 'admin-log', setting: 'adminLogDays' },
];

/**
 * Whole days only (RET-01: "whole days at a time"): everything before the start
 * of the UTC day `days` days ago is due.
 */
export function logCutoff(now: Date, days: number): Date {
  return startOfUtcDay(new Date(now.getTime() - days * DAY));
}

export interface Partition {
  name: string;
  /** First instant of the partition's day. */
  day: Date;
}

/** The table's daily partitions in the current schema, oldest first. */
export async function listPartitions(db: Kysely<DB>, table: LogTable): Promise<Partition[]> {
  const result = await sql<{ name: string }>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = to_regclass(${table}) order by c.relname`.execute(db);
  const partitions: Partition[] = [];
  for (const { name } of result.rows) {
    const m = /_p(\d{4})(\d{2})(\d{2})$/.exec(name);
    if (m) partitions.push({ name, day: new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) });
  }
  return partitions;
}

/**
 * Drops every partition that lies wholly before `cutoff`. Dropping a table is
 * one catalogue change, not a row-by-row delete: milliseconds for any size.
 */
export async function dropPartitionsBefore(
  db: Kysely<DB>,
  table: LogTable,
  cutoff: Date,
  options: { dryRun?: boolean; countRows?: boolean } = {},
): Promise<{ partitions: number; rows: number }> {
  const expired = (await listPartitions(db, table)).filter((p) => p.day.getTime() + DAY <= cutoff.getTime());
  let rows = 0;
  if (options.countRows !== false) {
    for (const p of expired) {
      const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(p.name)}`.execute(db);
      rows += r.rows[0]?.n ?? 0;
    }
  }
  // One statement: one transaction, one commit for all expired days.
  if (!options.dryRun && expired.length) await sql`drop table if exists ${sql.join(expired.map((p) => sql.table(p.name)))}`.execute(db);
  const partitions = expired.length;
  return { partitions, rows };
}

/**
 * A tenant that shortened its period: delete its rows before `cutoff` in the
 * partitions that remain, in small batches (short locks, resumable).
 */
export async function purgeTenantRows(db: Kysely<DB>, table: LogTable, tenantId: string, cutoff: Date | null, options: { dryRun?: boolean; batch?: number } = {}): Promise<number> {
  let deleted = 0;
  for (const p of await listPartitions(db, table)) {
    // `null`: every partition (a tenant purged from the purgatory).
    if (cutoff && p.day.getTime() + DAY > cutoff.getTime()) continue;
    if (options.dryRun) {
      const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(p.name)} where tenant_id = ${tenantId}`.execute(db);
      deleted += r.rows[0]?.n ?? 0;
      continue;
    }
    for (;;) {
      const r = await sql`delete from ${sql.table(p.name)} where ctid in (select ctid from ${sql.table(p.name)} where tenant_id = ${tenantId} limit ${options.batch ?? BATCH})`.execute(db);
      const n = Number(r.numAffectedRows ?? 0);
      deleted += n;
      if (n === 0) break;
    }
  }
  return deleted;
}

/**
 * One log's retention: partitions for today and the next days exist (created
 * before anything is dropped, so today's is never lost; only days from today on,
 * so a long maintenance gap leaves no pile of stale partitions); partitions wholly
 * older than the catalogue maximum are dropped; tenants with a shorter period are
 * purged inside the remaining partitions.
 */
export function logCategory(spec: LogCategorySpec, daysAhead = DAYS_AHEAD): RetentionCategory {
  return {
    ruleId: spec.ruleId,
    name: spec.name,
    async run(ctx: AppContext, { now, dryRun }): Promise<RetentionOutcome[]> {
      const { db } = ctx;
      const created = dryRun ? [] : await ensurePartitions(db, spec.table, now, new Date(now.getTime() + daysAhead * DAY));
      const maxDays = RETENTION_MAXIMA[spec.setting];
      const cutoff = logCutoff(now, maxDays);
      const dropped = await dropPartitionsBefore(db, spec.table, cutoff, { dryRun });
      const outcomes: RetentionOutcome[] = [
        { tenantId: null, cutoff, deleted: dropped.rows, details: { partitionsDropped: dropped.partitions, partitionsCreated: created.length, days: maxDays } },
      ];
      const tenants = (await db.selectFrom('tenants').selectAll().execute()).map(toTenant);
      for (const tenant of tenants) {
        const days = tenant.settings.retention[spec.setting];
        if (days >= maxDays) continue;
        const tenantCutoff = logCutoff(now, days);
        const deleted = await purgeTenantRows(db, spec.table, tenant.id, tenantCutoff, { dryRun });
        outcomes.push({ tenantId: tenant.id, cutoff: tenantCutoff, deleted, details: { days } });
      }
      return outcomes;
    },
  };
}

export const logCategories: readonly RetentionCategory[] = LOG_CATEGORIES.map((spec) => logCategory(spec));
