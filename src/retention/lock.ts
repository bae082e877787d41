import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import type { DB } from '../db/schema.js';

/** Jobs running in this process, per database handle (PGlite: one process owns the database). */
const running = new WeakMap<Kysely<DB>, Set<string>>();

export type Locked<T> = { acquired: true; value: T } | { acquired: false };

/**
 * Runs `fn` while holding the job's lock; returns `{ acquired: false }` at once
 * when another run (here or in another instance) holds it.
 *
 * PostgreSQL: a session-level advisory lock on one pinned pool connection, so a
 * crashed instance releases it with its connection; `fn` itself uses the pool.
 * PGlite has a single connection that must not be pinned: the in-process lock
 * decides, and the advisory lock is only taken in a short transaction.
 */
export async function withJobLock<T>(database: Database, name: string, fn: () => Promise<T>): Promise<Locked<T>> {
  const key = `${database.lockNamespace}:job:${name}`;
  const mine = running.get(database.db) ?? new Set<string>();
  running.set(database.db, mine);
  if (mine.has(key)) return { acquired: false };
  mine.add(key);
  try {
    if (database.kind === 'pglite') {
      const ok = await database.db.transaction().execute(async (trx) => {
        const r = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(hashtextextended(${key}, 0)) as ok`.execute(trx);
        return r.rows[0]?.ok === true;
      });
      if (!ok) return { acquired: false };
      return { acquired: true, value: await fn() };
    }
    return await database.db.connection().execute(async (conn) => {
      const r = await sql<{ ok: boolean }>`select pg_try_advisory_lock(hashtextextended(${key}, 0)) as ok`.execute(conn);
      if (r.rows[0]?.ok !== true) return { acquired: false } as const;
      try {
        return { acquired: true, value: await fn() } as const;
      } finally {
        await sql`select pg_advisory_unlock(hashtextextended(${key}, 0))`.execute(conn);
      }
    });
  } finally {
    mine.delete(key);
  }
}
