import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-driver.js';
import type { DB } from './schema.js';

export type DatabaseKind = 'postgres' | 'pglite';

/** The store: one Kysely over either a PostgreSQL pool or embedded PGlite. */
export interface Database {
  readonly db: Kysely<DB>;
  readonly kind: DatabaseKind;
  /** Scopes advisory-lock keys, so isolated test schemas never contend for one lock. */
  readonly lockNamespace: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; without it PGlite is opened under `dataDir`. */
  url?: string | undefined;
  dataDir?: string;
  poolSize?: number;
  /** Run every connection inside this schema (tests isolate by schema). */
  schema?: string;
  /** An existing PGlite instance (tests load one from a migrated snapshot). */
  pglite?: PGlite;
}

// timestamptz as Date, bigint counts as numbers: the counts we keep fit easily.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options);
  const client = options.pglite ?? (await openPglite(options.dataDir ?? './data'));
  if (options.schema) await client.exec(`set search_path to ${quoteIdent(options.schema)}`);
  const db = new Kysely<DB>({ dialect: new PGliteDialect(client) });
  return wrap(db, 'pglite', options.schema ?? 'public');
}

async function openPglite(dataDir: string): Promise<PGlite> {
  const dir = path.resolve(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  return PGlite.create({ dataDir: dir });
}

function openPostgres(url: string, options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return wrap(db, 'postgres', options.schema ?? 'public');
}

function wrap(db: Kysely<DB>, kind: DatabaseKind, lockNamespace: string): Database {
  return {
    db,
    kind,
    lockNamespace,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe identifier: ${name}`);
  return `"${name}"`;
}

/** True when the error means "the database cannot be reached right now" (→ 503). */
export function isUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  if (!e) return false;
  const codes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '53300', '08006', '08001', '08003'];
  return (
    (e.code !== undefined && codes.includes(e.code)) ||
    /Connection terminated|timeout exceeded when trying to connect|PGlite is closed|Cannot use a pool after calling end|driver has already been destroyed/i.test(e.message ?? '')
  );
}
