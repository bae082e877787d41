import { sql, type Kysely } from 'kysely';

/** Runs DDL statements one by one (PGlite's extended protocol takes one statement per query). */
export async function ddl(db: Kysely<unknown>, ...statements: string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
