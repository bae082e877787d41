import { sql, type Kysely } from 'kysely';
import { DAY } from '../shared/clock.js';
import type { DB } from '../db/schema.js';
import type { LogTable } from './tables.js';

/** Partitions are named `<table>_pYYYYMMDD` and hold one UTC day. */
export function partitionName(table: LogTable, day: Date): string {
  return `${table}_p${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
}

export function startOfUtcDay(t: Date): Date {
  return new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
}

/**
 * Creates the daily partitions from `from` to `to` (inclusive) that do not exist
 * yet. Idempotent; safe to call concurrently from several instances.
 */
export async function ensurePartitions(db: Kysely<DB>, table: LogTable, from: Date, to: Date): Promise<string[]> {
  const created: string[] = [];
  for (let day = startOfUtcDay(from); day <= to; day = new Date(day.getTime() + DAY)) {
    const name = partitionName(table, day);
    const next = new Date(day.getTime() + DAY);
    const result = await sql<{ created: boolean }>`
      select to_regclass(${name}) is null as created`.execute(db);
    if (!result.rows[0]?.created) continue;
    try {
      await sql
        .raw(
          `create table if not exists "${name}" partition of "${table}" for values from ('${day.toISOString()}') to ('${next.toISOString()}')`,
        )
        .execute(db);
      created.push(name);
    } catch (error) {
      // Another instance created it between our check and our create.
      const code = (error as { code?: string }).code;
      if (code !== '42P07' && code !== '23505') throw error;
    }
  }
  return created;
}

/** Today's partition and the next `daysAhead` for every log. */
export async function ensureLogPartitions(db: Kysely<DB>, now: Date, tables: readonly LogTable[], daysAhead = 7): Promise<void> {
  for (const table of tables) await ensurePartitions(db, table, now, new Date(now.getTime() + daysAhead * DAY));
}
