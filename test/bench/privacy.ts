/**
 * Benchmark (issue 7): export and erasure of one user with 100,000 activity-log
 * entries, rooms with consents and joins in 10 courses, among 10,000 other users.
 * Targets: export < 2 s with memory growth < 50 MB; erasure < 2 s.
 *   npm run bench:privacy                      (embedded PGlite, in memory)
 *   DATABASE_URL=postgres://… npm run bench:privacy   (a fresh schema on PostgreSQL)
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openDatabase, type Database } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { buildContext } from '../../src/service.js';
import { ManualClock } from '../../src/shared/clock.js';
import { defaultSettings } from '../../src/tenants/settings.js';
import { decideRequest, fileRequest, type Actor } from '../../src/privacy/requests.js';
import { seedActivity, seedRichPerson } from '../support/privacy-seed.js';

const ACTIVITY = Number(process.env.BENCH_ACTIVITY ?? 100_000);
const OTHERS = Number(process.env.BENCH_OTHERS ?? 10_000);
const ROOMS = 50;
const COURSES = 10;

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

async function main(): Promise<void> {
  const { database, drop, kind } = await open();
  const clock = new ManualClock('2026-11-22T08:00:00Z');
  const ctx = buildContext({ config: loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }), logger: createLogger('silent'), database, clock, encryptionKey: randomBytes(32), operatorToken: randomBytes(32).toString('hex') });
  const db = ctx.db;
  try {
    const seedStart = performance.now();
    const tenant = await db.insertInto('tenants').values({ slug: 'bench', name: 'Benchmark-Schule', settings: JSON.stringify(defaultSettings()), created_at: clock.now(), updated_at: clock.now() }).returning('id').executeTakeFirstOrThrow();
    const tenantId = tenant.id;
    const person = await seedRichPerson(db, clock, { tenantId, subject: 'bench-pupil', contexts: COURSES, rooms: ROOMS, activity: 0 });
    // Joins and launches in the rooms: part of the activity log.
    await seedActivity(db, clock, tenantId, person.userId, person.contextIds[0]!, ACTIVITY, 'bench');
    // 10,000 other users with memberships, consents and activity of their own.
    await sql`insert into users (tenant_id, source, issuer, subject, display_name, created_at, last_seen_at)
      select ${tenantId}::uuid, 'lti', 'https://moodle.test', 'other-' || g, 'Person ' || g, now(), now() from generate_series(1, ${OTHERS}::int) g`.execute(db);
    await sql`insert into memberships (tenant_id, context_id, user_id, roles, source, updated_at)
      select ${tenantId}::uuid, (${sql.val(person.contextIds)}::uuid[])[1 + (row_number() over () % ${COURSES}::int)], id, array['student'], 'nrps', now() from users where tenant_id = ${tenantId}::uuid and id <> ${person.userId}::uuid`.execute(db);
    await sql`insert into consents (tenant_id, user_id, scope, given_at, source) select tenant_id, id, 'video', now(), 'bench' from users where tenant_id = ${tenantId}::uuid and id <> ${person.userId}::uuid`.execute(db);
    await sql`insert into activity_log (at, tenant_id, actor_id, context_id, action, object_type, object_id, outcome, rule_ids, details)
      select ${clock.now()}::timestamptz - (g % 200000) * interval '1 second', ${tenantId}::uuid, u.id, null, 'launch', 'room', 'o-' || g, 'permit', '{}', '{}'
      from (select id, row_number() over () as n from users where tenant_id = ${tenantId}::uuid and id <> ${person.userId}::uuid) u, generate_series(1, 10) g`.execute(db);
    await sql`analyze`.execute(db);
    const seedMs = performance.now() - seedStart;

    const dpo: Actor = { kind: 'token', tenantId, tokenId: '00000000-0000-0000-0000-000000000001', scopes: ['dpo'] };
    // Warm up (code paths compiled, pools open), as in a running service: a small export first.
    const warm = await seedRichPerson(db, clock, { tenantId, subject: 'bench-warm-up', contexts: 2, rooms: 1, activity: 2000 });
    const warmRequest = await fileRequest(ctx, dpo, { userId: warm.userId, type: 'export' });
    await decideRequest(ctx, dpo, warmRequest.id, 'approve', 'warm-up');

    const exportRequest = await fileRequest(ctx, dpo, { userId: person.userId, type: 'export' });
    const exp = await measure(() => decideRequest(ctx, dpo, exportRequest.id, 'approve', 'Benchmark'));
    if (exp.result.status !== 'download_ready') throw new Error(`export ended in ${exp.result.status}: ${exp.result.error}`);
    const size = await db.selectFrom('privacy_export_chunks').select((eb) => eb.fn.sum<number>(sql`octet_length(data)`).as('bytes')).where('request_id', '=', exportRequest.id).executeTakeFirstOrThrow();
    const counts = (exp.result.result as { counts: Record<string, number> }).counts;

    const erasureRequest = await fileRequest(ctx, dpo, { userId: person.userId, type: 'erasure' });
    const era = await measure(() => decideRequest(ctx, dpo, erasureRequest.id, 'approve', 'Benchmark'));
    if (era.result.status !== 'completed') throw new Error(`erasure ended in ${era.result.status}: ${era.result.error}`);
    const deleted = (era.result.result as { categories: { deleted: number }[] }).categories.reduce((s, c) => s + c.deleted, 0);

    const ok = (v: boolean) => (v ? 'ok' : 'OVER TARGET');
    const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
    console.log(`machine: ${(await import('node:os')).cpus().length} CPUs, load average ${load} while running`);
    console.log(`privacy benchmark on ${kind}: 1 user with ${ACTIVITY} activity entries, ${ROOMS} rooms in ${COURSES} courses, among ${OTHERS} other users (seeded in ${(seedMs / 1000).toFixed(1)} s)`);
    console.log(`  export : ${exp.ms.toFixed(0)} ms wall, ${exp.cpuMs.toFixed(0)} ms CPU of this process (target < 2000: ${ok(exp.ms < 2000)}), memory growth RSS ${exp.rssMB.toFixed(1)} MB / heap ${exp.heapMB.toFixed(1)} MB / buffers ${exp.externalMB.toFixed(1)} MB at peak, ${exp.retainedMB.toFixed(1)} MB heap retained after (target < 50: ${ok(exp.rssMB < 50)}), archive ${(Number(size.bytes) / 2 ** 20).toFixed(2)} MB sealed, ${counts['audit.activity']} activity rows`);
    console.log(`  erasure: ${era.ms.toFixed(0)} ms wall, ${era.cpuMs.toFixed(0)} ms CPU (target < 2000: ${ok(era.ms < 2000)}), ${deleted} rows deleted`);
  } finally {
    await ctx.audit.close();
    await drop();
  }
}

await main();
