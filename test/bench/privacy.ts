/**
 * Benchmark (issue 7): export and erasure of one user with 100,000 activity-log
 * entries (joins to 50 rooms as the conference module logs them, and launches),
 * consents and usage-rule acceptances, competency grids with items in 10 courses
 * and two LEBs, among 10,000 other users who have grids, consents and activity of
 * their own. Checks that the export holds every seeded row per category and that
 * after the erasure no row references the user except what the result names as kept.
 * Targets: export < 2 s with memory growth < 50 MB; erasure < 2 s.
 *   npm run bench:privacy                      (embedded PGlite, in memory)
 *   DATABASE_URL=postgres://… npm run bench:privacy   (a fresh schema on PostgreSQL)
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.js';
import { PGlite } from '@electric-sql/pglite';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openDatabase, type Database } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { buildContext } from '../../src/service.js';
import { ManualClock } from '../../src/shared/clock.js';
import { defaultSettings } from '../../src/tenants/settings.js';
import { decideRequest, fileRequest, type Actor } from '../../src/privacy/requests.js';
import { seedActivity, seedRichPerson, seedRoomJoins } from '../support/privacy-seed.js';

const ACTIVITY = Number(process.env.BENCH_ACTIVITY ?? 100_000);
const OTHERS = Number(process.env.BENCH_OTHERS ?? 10_000);
const ROOMS = 50;
const COURSES = 10;
/** Competencies per grid of the benchmarked pupil (one grid per course) and of every other pupil. */
const ITEMS = Number(process.env.BENCH_ITEMS ?? 40);
const OTHER_ITEMS = 20;
/** Share of the activity entries that are room joins; the rest are launches. */
const JOIN_SHARE = 0.4;

async function open(): Promise<{ database: Database; drop: () => Promise<void>; kind: string }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const database = await openDatabase({ pglite: await PGlite.create() });
    await migrateToLatest(database.db);
    return { database, drop: () => database.close(), kind: 'PGlite (in memory)' };
  }
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const database = await openDatabase({ url, schema, poolSize: 5 });
  await migrateToLatest(database.db, schema);
  return {
    database,
    kind: 'PostgreSQL',
    async drop() {
      await database.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

/** Peak RSS and heap above the starting point, sampled while `fn` runs. */
async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number; cpuMs: number; retainedMB: number; rssMB: number; heapMB: number; externalMB: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  let peakExternal = base.external;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakExternal = Math.max(peakExternal, m.external);
  }, 5);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const result = await fn();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  clearInterval(timer);
  const m = process.memoryUsage();
  (globalThis as { gc?: () => void }).gc?.();
  const retainedMB = (process.memoryUsage().heapUsed - base.heapUsed) / 2 ** 20;
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
  return { result, ms, cpuMs, retainedMB, rssMB: (peakRss - base.rss) / 2 ** 20, heapMB: (peakHeap - base.heapUsed) / 2 ** 20, externalMB: (peakExternal - base.external) / 2 ** 20 };
}

/** Rows per table whose text form contains the id (every table of the schema, partitions via their parent). */
async function rowsMentioning(db: Kysely<DB>, userId: string): Promise<Record<string, number>> {
  const tables = await sql<{ table_name: string }>`
    select c.relname as table_name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition and c.relname not like 'kysely_%'`.execute(db);
  const found: Record<string, number> = {};
  for (const { table_name } of tables.rows) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table_name)} as x where x::text like ${`%${userId}%`}`.execute(db);
    if (rows[0]!.n > 0) found[table_name] = rows[0]!.n;
  }
  return found;
}

async function main(): Promise<void> {
  const { database, drop, kind } = await open();
  const clock = new ManualClock('2026-11-22T08:00:00Z');
  const ctx = buildContext({ config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), logger: createLogger('silent'), database, clock, encryptionKey: randomBytes(32), operatorToken: randomBytes(32).toString('hex') });
  const db = ctx.db;
  try {
    const seedStart = performance.now();
    const tenant = await db.insertInto('tenants').values({ slug: 'bench', name: 'Benchmark-Schule', settings: JSON.stringify(defaultSettings()), created_at: clock.now(), updated_at: clock.now() }).returning('id').executeTakeFirstOrThrow();
    const tenantId = tenant.id;
    const person = await seedRichPerson(db, clock, { tenantId, subject: 'bench-pupil', contexts: COURSES, rooms: ROOMS, activity: 0, itemsPerGrid: ITEMS });
    // Joins to the 50 rooms (as the conference module logs them) and launches: the activity log.
    const joins = Math.round(ACTIVITY * JOIN_SHARE);
    await seedRoomJoins(db, clock, tenantId, person.userId, person.rooms, joins);
    await seedActivity(db, clock, tenantId, person.userId, person.contextIds[0]!, ACTIVITY - joins, 'bench');
    // 10,000 other users with memberships, consents, acceptances, a grid in their course and activity of their own.
    await sql`insert into users (tenant_id, source, issuer, subject, display_name, created_at, last_seen_at)
      select ${tenantId}::uuid, 'lti', 'https://moodle.test', 'other-' || g, 'Person ' || g, now(), now() from generate_series(1, ${OTHERS}::int) g`.execute(db);
    const others = sql`(select id from users where tenant_id = ${tenantId}::uuid and subject like 'other-%')`;
    await sql`insert into memberships (tenant_id, context_id, user_id, roles, source, updated_at)
      select ${tenantId}::uuid, (${sql.val(person.contextIds)}::uuid[])[1 + (row_number() over () % ${COURSES}::int)], id, array['student'], 'nrps', now() from ${others} o`.execute(db);
    await sql`insert into consents (tenant_id, user_id, scope, given_at, source) select ${tenantId}::uuid, id, 'video', now(), 'bench' from ${others} o`.execute(db);
    await sql`insert into usage_rule_acceptances (tenant_id, user_id, version, accepted_at) select ${tenantId}::uuid, id, v.version, now() from ${others} o, (select version from usage_rules where tenant_id = ${tenantId}::uuid) v`.execute(db);
    await sql`insert into competency_grids (tenant_id, context_id, pupil_id, framework, title, created_at, updated_at)
      select m.tenant_id, m.context_id, m.user_id, 'seed-fw-0', 'Kompetenzraster', now(), now()
      from memberships m join ${others} o on o.id = m.user_id where m.tenant_id = ${tenantId}::uuid`.execute(db);
    await sql`insert into competency_items (grid_id, tenant_id, context_id, framework, pupil_id, competency_id, title, position, teacher_level, assessed_by, assessed_at, updated_at)
      select g.id, g.tenant_id, g.context_id, g.framework, g.pupil_id, 'k' || i, 'Kompetenz ' || i, i, i % 4, ${person.teacherId}::uuid, now(), now()
      from competency_grids g join ${others} o on o.id = g.pupil_id, generate_series(1, ${OTHER_ITEMS}::int) i`.execute(db);
    await sql`insert into activity_log (at, tenant_id, actor_id, context_id, action, object_type, object_id, outcome, rule_ids, details)
      select ${clock.now()}::timestamptz - (g % 200000) * interval '1 second', ${tenantId}::uuid, u.id, null, 'launch', 'room', 'o-' || g, 'permit', '{}', '{}'
      from (select id, row_number() over () as n from ${others} o) u, generate_series(1, 10) g`.execute(db);
    await sql`analyze`.execute(db);
    const seedMs = performance.now() - seedStart;

    const dpo: Actor = { kind: 'token', tenantId, tokenId: '00000000-0000-0000-0000-000000000001', scopes: ['dpo'] };
    // Warm up (code paths compiled, pools open), as in a running service: a small export first.
    const warm = await seedRichPerson(db, clock, { tenantId, subject: 'bench-warm-up', contexts: 2, rooms: 1, activity: 2000, itemsPerGrid: ITEMS });
    const warmRequest = await fileRequest(ctx, dpo, { userId: warm.userId, type: 'export' });
    await decideRequest(ctx, dpo, warmRequest.id, 'approve', 'warm-up');

    const exportRequest = await fileRequest(ctx, dpo, { userId: person.userId, type: 'export' });
    const exp = await measure(() => decideRequest(ctx, dpo, exportRequest.id, 'approve', 'Benchmark'));
    if (exp.result.status !== 'download_ready') throw new Error(`export ended in ${exp.result.status}: ${exp.result.error}`);
    const size = await db.selectFrom('privacy_export_chunks').select((eb) => eb.fn.sum<number>(sql`octet_length(data)`).as('bytes')).where('request_id', '=', exportRequest.id).executeTakeFirstOrThrow();
    const counts = (exp.result.result as { counts: Record<string, number> }).counts;
    const expected: Record<string, number> = {
      'audit.activity': ACTIVITY,
      'competency.grids': person.gridIds.length,
      'competency.items': person.gridIds.length * person.itemsPerGrid,
      'competency.lebs': person.lebIds.length,
      'conference.rooms': person.roomIds.length,
      'consent.consents': person.consents,
      'consent.usage_rule_acceptances': person.acceptances,
      'consent.objections': person.objections,
      'identity.memberships': person.contextIds.length,
    };

    const erasureRequest = await fileRequest(ctx, dpo, { userId: person.userId, type: 'erasure' });
    const era = await measure(() => decideRequest(ctx, dpo, erasureRequest.id, 'approve', 'Benchmark'));
    if (era.result.status !== 'completed') throw new Error(`erasure ended in ${era.result.status}: ${era.result.error}`);
    const categories = (era.result.result as { categories: { category: string; deleted: number; kept: number; keptBecause?: string }[] }).categories;
    const deleted = categories.reduce((s, c) => s + c.deleted, 0);
    // Every row anywhere in the schema that still names the user, against what the erasure says it kept.
    const remaining = await rowsMentioning(db, person.userId);
    const tableOf = new Map(ctx.privacy.describe().map((c) => [c.category, c.table]));
    const keptByTable: Record<string, number> = {};
    const keptBecause: Record<string, string> = {};
    for (const c of categories.filter((r) => r.kept > 0)) {
      const table = tableOf.get(c.category)!;
      keptByTable[table] = (keptByTable[table] ?? 0) + c.kept;
      keptBecause[table] = c.keptBecause ?? '?';
    }
    const gridsLeft = (
      await sql<{ grids: number; items: number; activity: number }>`select
        (select count(*)::int from competency_grids where pupil_id = ${person.userId}::uuid) as grids,
        (select count(*)::int from competency_items where pupil_id = ${person.userId}::uuid) as items,
        (select count(*)::int from activity_log where actor_id = ${person.userId}::uuid) as activity`.execute(db)
    ).rows[0]!;

    const ok = (v: boolean) => (v ? 'ok' : 'OVER TARGET');
    const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
    console.log(`machine: ${(await import('node:os')).cpus().length} CPUs, load average ${load} while running`);
    console.log(`privacy benchmark on ${kind}: 1 user with ${ACTIVITY} activity entries (${joins} joins to ${ROOMS} rooms), grids with ${ITEMS} items in ${COURSES} courses, 2 LEBs, among ${OTHERS} other users with grids of ${OTHER_ITEMS} items (seeded in ${(seedMs / 1000).toFixed(1)} s)`);
    console.log(`  export : ${exp.ms.toFixed(0)} ms wall, ${exp.cpuMs.toFixed(0)} ms CPU of this process (target < 2000: ${ok(exp.ms < 2000)}), memory growth RSS ${exp.rssMB.toFixed(1)} MB / heap ${exp.heapMB.toFixed(1)} MB / buffers ${exp.externalMB.toFixed(1)} MB at peak, ${exp.retainedMB.toFixed(1)} MB heap retained after (target < 50: ${ok(exp.rssMB < 50)}), archive ${(Number(size.bytes) / 2 ** 20).toFixed(2)} MB sealed, ${counts['audit.activity']} activity rows`);
    const line = Object.entries(expected).map(([c, n]) => `${c} ${counts[c] ?? 0}/${n}${(counts[c] ?? 0) === n ? '' : ' MISSING'}`).join(', ');
    console.log(`  export rows per category (exported/seeded): ${line}`);
    console.log(`  erasure: ${era.ms.toFixed(0)} ms wall, ${era.cpuMs.toFixed(0)} ms CPU (target < 2000: ${ok(era.ms < 2000)}), ${deleted} rows deleted or unlinked`);
    const left = Object.entries(remaining).map(([table, n]) => `${table} ${n}${keptByTable[table] === n ? ` (kept: ${keptBecause[table]})` : ' NOT ERASED'}`).join(', ');
    console.log(`  after erasure: ${Object.values(remaining).reduce((a, b) => a + b, 0)} rows in the schema still reference the user${left ? `: ${left}` : ''}; competency_grids ${gridsLeft.grids}, competency_items ${gridsLeft.items}, activity_log ${gridsLeft.activity}`);
    const failures = [
      ...Object.entries(expected).filter(([c, n]) => counts[c] !== n).map(([c]) => `export lacks ${c} rows`),
      ...Object.entries(remaining).filter(([table, n]) => keptByTable[table] !== n).map(([table]) => `erasure left rows in ${table}`),
      ...(gridsLeft.grids + gridsLeft.items + gridsLeft.activity > 0 ? ['erasure left grids, items or activity'] : []),
    ];
    if (failures.length) {
      console.log(`  CHECK FAILED: ${failures.join('; ')}`);
      process.exitCode = 1;
    } else console.log('  checks: ok (export holds every seeded row; erasure left only rows kept by rule)');
  } finally {
    await ctx.audit.close();
    await drop();
  }
}

await main();
