/**
 * Benchmark (issue 6): a teacher's class overview (30 pupils × 60 competencies)
 * served from PostgreSQL while 1,000,000 grid items for 5,000 pupils are
 * stored. Measures the whole decided read (context check, the caller's
 * verified roles, ACC-01 decision, activity log entry, the overview query)
 * and the overview query alone. Target: p95 < 20 ms.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:competency
 *
 * Runs in a throw-away schema, dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { AuditLog, ensureLogPartitions, LOG_TABLES } from '../../src/audit/index.js';
import { classOverview } from '../../src/competency/service.js';
import { overviewCells } from '../../src/competency/store.js';
import { openDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { createLogger } from '../../src/logger.js';
import { systemClock } from '../../src/shared/clock.js';

const url = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PUPILS = 5000;
const CLASS_SIZE = 30;
const CLASSES = Math.ceil(PUPILS / CLASS_SIZE);
/** Competencies per course framework: 60 + 50 + 50 + 40 = 200 items per pupil → 1,000,000. */
const FRAMEWORK_SIZES = [60, 50, 50, 40];
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function report(name: string, samples: number[]): void {
  const s = [...samples].sort((a, b) => a - b);
  const f = (v: number) => `${v.toFixed(2)} ms`;
  console.log(`${name.padEnd(44)} n=${s.length}  p50 ${f(percentile(s, 50))}  p95 ${f(percentile(s, 95))}  p99 ${f(percentile(s, 99))}  max ${f(s.at(-1)!)}`);
}

async function main(): Promise<void> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const database = await openDatabase({ url, schema, poolSize: 4 });
  const { db } = database;
  const logger = createLogger('silent');
  const audit = new AuditLog(db, systemClock, logger);
  try {
    await migrateToLatest(db, schema);
    await ensureLogPartitions(db, systemClock.now(), LOG_TABLES, 2);
    const started = performance.now();
    const tenant = await db.insertInto('tenants').values({ slug: 'bench', name: 'Bench', settings: '{}', updated_at: new Date() }).returning('id').executeTakeFirstOrThrow();
    const t = tenant.id;
    const issuer = 'https://moodle.bench';
    await sql`insert into users (tenant_id, source, issuer, subject, display_name)
      select ${t}, 'lms', ${issuer}, 'p' || g, 'Pupil ' || g from generate_series(0, ${PUPILS - 1}) g`.execute(db);
    await sql`insert into users (tenant_id, source, issuer, subject, display_name)
      select ${t}, 'lms', ${issuer}, 't' || c, 'Teacher ' || c from generate_series(0, ${CLASSES - 1}) c`.execute(db);
    await sql`insert into contexts (tenant_id, source, issuer, external_id, title, type)
      select ${t}, 'lms', ${issuer}, c || '-' || k, 'Kurs ' || k, 'CourseSection' from generate_series(0, ${CLASSES - 1}) c, generate_series(1, ${FRAMEWORK_SIZES.length}) k`.execute(db);
    await sql`insert into memberships (tenant_id, context_id, user_id, roles, source)
      select ${t}, x.id, u.id, '{student}', 'lms' from users u
      join contexts x on x.tenant_id = u.tenant_id and split_part(x.external_id, '-', 1)::int = substr(u.subject, 2)::int / ${CLASS_SIZE}
      where u.tenant_id = ${t} and u.subject like 'p%'`.execute(db);
    await sql`insert into memberships (tenant_id, context_id, user_id, roles, source)
      select ${t}, x.id, u.id, '{teacher}', 'lms' from users u
      join contexts x on x.tenant_id = u.tenant_id and split_part(x.external_id, '-', 1)::int = substr(u.subject, 2)::int
      where u.tenant_id = ${t} and u.subject like 't%'`.execute(db);
    await sql`insert into competency_grids (tenant_id, context_id, pupil_id, framework, title)
      select ${t}, m.context_id, m.user_id, 'fw-' || split_part(x.external_id, '-', 2), 'Raster'
      from memberships m join contexts x on x.id = m.context_id where m.tenant_id = ${t} and m.roles = '{student}'`.execute(db);
    await sql`insert into competency_items (grid_id, tenant_id, context_id, framework, pupil_id, competency_id, title, position, teacher_level, self_level)
      select g.id, g.tenant_id, g.context_id, g.framework, g.pupil_id, 'k' || i, 'Kompetenz ' || i, i, i % 4, case when i % 3 = 0 then i % 4 end
      from competency_grids g
      cross join lateral generate_series(1, (array[${sql.raw(FRAMEWORK_SIZES.join(','))}])[split_part(g.framework, '-', 2)::int]) i
      where g.tenant_id = ${t}`.execute(db);
    await sql`analyze`.execute(db);
    const items = Number((await db.selectFrom('competency_items').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const pupils = Number((await db.selectFrom('competency_grids').select((eb) => eb.fn.count<number>('pupil_id').distinct().as('n')).executeTakeFirstOrThrow()).n);
    console.log(`seeded ${items.toLocaleString('en')} grid items for ${pupils.toLocaleString('en')} pupils in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    // Full classes only, with the 60-competency framework: the teacher's class overview.
    const targets = await db
      .selectFrom('contexts as x')
      .innerJoin('memberships as m', 'm.context_id', 'x.id')
      .select(['x.id as contextId', 'm.user_id as teacherId'])
      .where('x.tenant_id', '=', t)
      .where('x.external_id', 'like', '%-1')
      .where('m.roles', '=', sql<string[]>`'{teacher}'`)
      .where(sql<number>`split_part(x.external_id, '-', 1)::int`, '<', Math.floor(PUPILS / CLASS_SIZE))
      .execute();
    const deps = { db, clock: systemClock, audit };
    const sample = await classOverview(deps, { tenantId: t, userId: targets[0]!.teacherId, via: 'lms' }, targets[0]!.contextId, 'fw-1');
    console.log(`one overview: ${sample.pupils.length} pupils × ${sample.competencies.length} competencies = ${sample.pupils.length * sample.competencies.length} cells`);
    if (sample.pupils.length !== 30 || sample.competencies.length !== 60) throw new Error('unexpected overview shape');
    const plan = await sql<{ 'QUERY PLAN': string }>`explain (analyze, buffers) select i.grid_id, i.pupil_id, i.competency_id, i.title, i.teacher_level, i.self_level
      from competency_items i where i.tenant_id = ${t} and i.context_id = ${targets[1]!.contextId} and i.framework = 'fw-1'
      and not exists (select 1 from privacy_restrictions r where r.user_id = i.pupil_id and r.tenant_id = ${t} and r.lifted_at is null and r.category in ('competency.grids', 'competency', '*'))
      order by i.pupil_id, i.position`.execute(db);
    console.log(plan.rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n'));

    for (let i = 0; i < 100; i++) {
      const x = targets[i % targets.length]!;
      await classOverview(deps, { tenantId: t, userId: x.teacherId, via: 'lms' }, x.contextId, 'fw-1');
    }
    const full: number[] = [];
    const query: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const x = targets[Math.floor(Math.random() * targets.length)]!;
      let s = performance.now();
      await classOverview(deps, { tenantId: t, userId: x.teacherId, via: 'lms' }, x.contextId, 'fw-1');
      full.push(performance.now() - s);
      s = performance.now();
      await overviewCells(db, t, x.contextId, 'fw-1');
      query.push(performance.now() - s);
    }
    console.log(`load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs`);
    console.log(`\nclass overview, ${targets.length} classes picked at random, PostgreSQL (${url.replace(/\/\/[^@]*@/, '//')})`);
    report('decided read (roles + ACC-01 + log + query)', full);
    report('overview query alone', query);
    const p95 = percentile([...full].sort((a, b) => a - b), 95);
    console.log(`target p95 < 20 ms: ${p95 < 20 ? 'met' : 'NOT met'} (${p95.toFixed(2)} ms)`);
  } finally {
    await audit.close().catch(() => undefined);
    await database.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  // The pg pool's idle timers would keep the process alive a while longer.
  .finally(() => process.exit());
