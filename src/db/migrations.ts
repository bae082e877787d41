/* eslint-disable @typescript-eslint/no-explicit-any -- the migrator works on any schema */
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { moduleMigrations } from '../modules.js';

/**
 * Every module's migrations, forward-only. Names sort globally: each module owns
 * a number range (0010 tenants, 0020 identity, 0030 logs, 0100 lti/iserv,
 * 0200 conference and consent, 0300 retention, 0400 competency, 0500 privacy).
 */
export const allMigrations: Record<string, Migration> = Object.assign({}, ...moduleMigrations);

const provider: MigrationProvider = { getMigrations: async () => allMigrations };

export function latestMigration(): string {
  return Object.keys(allMigrations).sort().at(-1)!;
}

/** Applies pending migrations (bookkeeping tables in `schema`, so isolated schemas never see each other's); Kysely runs them in one transaction on PostgreSQL (DDL is transactional). */
export async function migrateToLatest(db: Kysely<any>, schema = 'public'): Promise<string[]> {
  const migrator = new Migrator({ db, provider, migrationTableSchema: schema });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when every known migration has been applied (readiness). */
export async function migrationsApplied(db: Kysely<any>, schema = 'public'): Promise<boolean> {
  const migrator = new Migrator({ db, provider, migrationTableSchema: schema });
  const migrations = await migrator.getMigrations();
  return migrations.every((m) => m.executedAt !== undefined);
}
