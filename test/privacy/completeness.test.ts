import { sql } from 'kysely';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';

/**
 * Tables with a user id whose provider lives on another branch at the time of
 * writing. Each entry must name the module expected to cover it; the test fails
 * as soon as it IS covered, so the entry is removed at merge and can't hide a gap.
 */

const USER_COLUMN = /^(user_id|actor_id|created_by|pupil_id|assessor_id|.+_user_id)$/;

describeWithDatabases('DSR-01, DSR-03: every table holding a user id is covered by a privacy provider', (use) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(use());
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  /** Table.column pairs that hold a user id, read from the database's own catalogue (partitions folded into their parent). */
  async function userColumnsInCatalogue(): Promise<Set<string>> {
    const fks = await sql<{ table_name: string; column_name: string }>`
      select kcu.table_name, kcu.column_name
      from information_schema.table_constraints tc
      join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema
      join information_schema.constraint_column_usage ccu on ccu.constraint_name = tc.constraint_name and ccu.constraint_schema = tc.constraint_schema
      where tc.constraint_type = 'FOREIGN KEY' and tc.table_schema = current_schema() and ccu.table_name = 'users' and ccu.column_name = 'id'`.execute(t.ctx.db);
    // By name: uuid columns only (user ids are uuids); `api_tokens.created_by` is text naming a token or the operator, never a user.
    const named = await sql<{ table_name: string; column_name: string }>`
      select c.table_name, c.column_name
      from information_schema.columns c
      join pg_class k on k.relname = c.table_name
      join pg_namespace n on n.oid = k.relnamespace and n.nspname = c.table_schema
      where c.table_schema = current_schema() and c.data_type = 'uuid' and not k.relispartition and k.relkind in ('r', 'p')`.execute(t.ctx.db);
    const found = new Set<string>(fks.rows.map((r) => `${r.table_name}.${r.column_name}`));
    for (const r of named.rows) if (USER_COLUMN.test(r.column_name)) found.add(`${r.table_name}.${r.column_name}`);
    found.add('users.id');
    return found;
  }

  function covered(): Map<string, string> {
    const map = new Map<string, string>();
    for (const provider of t.ctx.privacy.all()) {
      for (const c of provider.describe()) for (const col of c.userColumns) map.set(`${c.table}.${col}`, `${provider.name}:${c.category}`);
    }
    return map;
  }

  test('no table with a user-id column is left out of every provider’s describe()', async () => {
    const inCatalogue = await userColumnsInCatalogue();
    const byProvider = covered();
    expect(inCatalogue.size).toBeGreaterThan(5); // the catalogue query itself works
    const missing = [...inCatalogue].filter((col) => !byProvider.has(col)).sort();
    expect(missing).toEqual([]);
  });

  test('every table and user column a provider describes exists', async () => {
    const { rows } = await sql<{ table_name: string; column_name: string }>`
      select table_name, column_name from information_schema.columns where table_schema = current_schema()`.execute(t.ctx.db);
    const columns = new Set(rows.map((r) => `${r.table_name}.${r.column_name}`));
    const tables = new Set(rows.map((r) => r.table_name));
    for (const c of t.ctx.privacy.describe()) {
      expect(tables.has(c.table) ? c.table : `${c.category}: no table ${c.table}`).toBe(c.table);
      for (const col of c.userColumns) expect(columns.has(`${c.table}.${col}`) ? col : `${c.category}: no column ${c.table}.${col}`).toBe(col);
      expect(c.retentionRule).toMatch(/^[A-Z]+-\d\d$/);
      expect(c.purpose.de.length).toBeGreaterThan(10);
    }
    const categories = t.ctx.privacy.describe().map((c) => c.category);
    expect(new Set(categories).size).toBe(categories.length);
  });
});
