import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openDatabase, type Database, type DatabaseKind } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrations.js';

/** Every database-backed test runs on PGlite, and on PostgreSQL when TEST_DATABASE_URL is set. */
export function databaseKinds(): DatabaseKind[] {
  return process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase extends Database {
  /** Drops the isolated schema (PostgreSQL) or the in-memory PGlite. */
  dispose(): Promise<void>;
}

/** A fresh, migrated, isolated database: PGlite from the snapshot, or a new schema on PostgreSQL. */
export async function openTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const snapshot = process.env.TEST_PGLITE_SNAPSHOT;
    const client = snapshot
      ? await PGlite.create({ loadDataDir: new Blob([readFileSync(snapshot)]) })
      : await PGlite.create();
    const database = await openDatabase({ pglite: client });
    if (!snapshot) await migrateToLatest(database.db);
    return { ...database, dispose: () => database.close() };
  }
  const url = process.env.TEST_DATABASE_URL!;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const database = await openDatabase({ url, schema, poolSize: 5 });
  await migrateToLatest(database.db, schema);
  return {
    ...database,
    async dispose() {
      await database.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`drop schema ${schema} cascade`);
      await cleanup.end();
    },
  };
}

/**
 * `describe` once per database kind; `use()` gives the suite's database.
 * The same test body runs on PGlite and PostgreSQL.
 */
export function describeWithDatabases(name: string, body: (use: () => TestDatabase, kind: DatabaseKind) => void): void {
  describe.each(databaseKinds())(`${name} [%s]`, (kind) => {
    let database: TestDatabase | undefined;
    beforeAll(async () => {
      database = await openTestDatabase(kind);
    });
    afterAll(async () => {
      await database?.dispose();
    });
    body(() => {
      if (!database) throw new Error('database not open yet: use it inside tests or hooks');
      return database;
    }, kind);
  });
}
