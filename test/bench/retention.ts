/**
 * Retention benchmark (PostgreSQL): fills activity_log with 10 million rows over
 * 40 days, removes the days older than 35 days by dropping their partitions, then
 * refills those days and removes them again by a batched DELETE the way Moodle's
 * log cleanup does (one day per statement). Prints rows/s, both times and the ratio.
 *
 *   npm run bench:retention   (BENCH_DATABASE_URL or DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
 *   BENCH_ROWS=10000000 BENCH_DAYS=40 BENCH_CONCURRENCY=2
 *
 * Everything lives in its own schema, dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { ensurePartitions, startOfUtcDay } from '../../src/audit/index.js';
import { openDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import type { DB } from '../../src/db/schema.js';
import { dropPartitionsBefore, listPartitions, logCutoff } from '../../src/retention/index.js';
import { DAY } from '../../src/shared/clock.js';

const url = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 40);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2);
const KEEP_DAYS = 35; // RET-01
const CHUNK = 250_000;

const out = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });

/** `count` rows spread evenly over the day, ids from small pools (tenants, users, contexts). */
async function fillDay(db: Kysely<DB>, day: Date, first: number, count: number): Promise<void> {
  const step = DAY / 1000 / count; // seconds between rows
  await sql`
    insert into activity_log (at, tenant_id, actor_id, context_id, action, object_type, object_id, outcome, rule_ids)
    select ${day}::timestamptz + (g - ${first}) * make_interval(secs => ${step}),
           ('00000000-0000-4000-8000-' || lpad((g % 20)::text, 12, '0'))::uuid,
           ('00000000-0000-4000-9000-' || lpad((g % 20000)::text, 12, '0'))::uuid,
           ('00000000-0000-4000-a000-' || lpad((g % 800)::text, 12, '0'))::uuid,
           (array['room.join', 'room.start', 'grid.read', 'launch'])[1 + g % 4],
           'room',
           (g % 5000)::text,
           'permit',
           array['VC-07']
    from generate_series(${first}::bigint, ${first + count - 1}::bigint) g`.execute(db);
}

async function fill(db: Kysely<DB>, days: Date[], perDay: number): Promise<number> {
  const chunks: { day: Date; first: number; count: number }[] = [];
  for (const day of days) for (let first = 0; first < perDay; first += CHUNK) chunks.push({ day, first, count: Math.min(CHUNK, perDay - first) });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < chunks.length) {
        const c = chunks[next++]!;
        await fillDay(db, c.day, c.first, c.count);
      }
    }),
  );
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const schema = `bench_retention_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const database = await openDatabase({ url, schema, poolSize: CONCURRENCY + 1 });
  const db = database.db;
  try {
    await migrateToLatest(db, schema);
    const now = new Date(Date.UTC(2026, 10, 22, 12));
    const today = startOfUtcDay(now);
    const days = Array.from({ length: DAYS }, (_, i) => new Date(today.getTime() - (DAYS - 1 - i) * DAY));
    await ensurePartitions(db, 'activity_log', days[0]!, today);
    const perDay = Math.floor(ROWS / DAYS);
    out(`schema ${schema}: ${fmt(perDay * DAYS)} rows over ${DAYS} days (${fmt(perDay)} per day), ${CONCURRENCY} connections`);

    const fillMs = await fill(db, days, perDay);
    out(`ingestion: ${fmt(perDay * DAYS)} rows in ${fmt(fillMs / 1000)} s = ${fmt((perDay * DAYS) / (fillMs / 1000))} rows/s`);
    await sql`analyze activity_log`.execute(db);

    const cutoff = logCutoff(now, KEEP_DAYS);
    const expiredDays = days.filter((d) => d.getTime() + DAY <= cutoff.getTime());
    const expiredRows = expiredDays.length * perDay;
    out(`expired (RET-01, ${KEEP_DAYS} days): ${expiredDays.length} days before ${cutoff.toISOString()}, ${fmt(expiredRows)} rows`);

    // Expired days are weeks old in real life: flushed, not dirty in memory. Same for every method below.
    await sql`checkpoint`.execute(db);
    const d0 = performance.now();
    const dropped = await dropPartitionsBefore(db, 'activity_log', cutoff, { countRows: false });
    const dropMs = performance.now() - d0;
    out(`partition drop: ${dropped.partitions} partitions in ${fmt(dropMs)} ms`);
    const left = (await listPartitions(db, 'activity_log')).filter((p) => p.day.getTime() + DAY <= cutoff.getTime());
    if (left.length) throw new Error('expired partitions remain');

    // The same days again, for the DELETE comparison.
    await ensurePartitions(db, 'activity_log', expiredDays[0]!, expiredDays[expiredDays.length - 1]!);
    await fill(db, expiredDays, perDay);
    await sql`analyze activity_log`.execute(db);

    // Moodle's logstore cleanup: from the oldest entry, one day per DELETE, until the cutoff.
    const moodleDelete = async (table: string) => {
      const t0 = performance.now();
      let deleted = 0;
      for (;;) {
        const oldest = await sql<{ min: Date | null }>`select min(at) as min from ${sql.table(table)} where at < ${cutoff}`.execute(db);
        const min = oldest.rows[0]?.min;
        if (!min) break;
        const upTo = new Date(Math.min(new Date(min).getTime() + DAY, cutoff.getTime()));
        const r = await sql`delete from ${sql.table(table)} where at < ${upTo}`.execute(db);
        deleted += Number(r.numAffectedRows ?? 0);
      }
      return { deleted, ms: performance.now() - t0 };
    };
    await sql`checkpoint`.execute(db);
    const onPartitioned = await moodleDelete('activity_log');
    out(`batched DELETE on the same partitioned table (one day per statement): ${fmt(onPartitioned.deleted)} rows in ${fmt(onPartitioned.ms)} ms`);

    // Moodle's own layout: one unpartitioned table with an index on the time column.
    let onPlain: { deleted: number; ms: number } | null = null;
    if (process.env.BENCH_MOODLE_TABLE !== '0') {
      await sql`create table moodle_log (like activity_log)`.execute(db);
      await sql`create index moodle_log_at on moodle_log (at)`.execute(db);
      await sql`create index moodle_log_actor on moodle_log (actor_id, at)`.execute(db);
      await ensurePartitions(db, 'activity_log', expiredDays[0]!, expiredDays[expiredDays.length - 1]!);
      await fill(db, expiredDays, perDay);
      await sql`insert into moodle_log select * from activity_log`.execute(db);
      await sql`analyze moodle_log`.execute(db);
      await sql`checkpoint`.execute(db);
      onPlain = await moodleDelete('moodle_log');
      out(`batched DELETE on an unpartitioned table like Moodle's logstore_standard_log: ${fmt(onPlain.deleted)} rows in ${fmt(onPlain.ms)} ms`);
      // DELETE only marks rows dead; the space is reusable only after VACUUM.
      const v0 = performance.now();
      await sql`vacuum moodle_log`.execute(db);
      out(`  + VACUUM afterwards (needed before the space is reused): ${fmt(performance.now() - v0)} ms`);
    }
    const reference = onPlain ?? onPartitioned;
    out(`ratio: partition drop is ${fmt(onPartitioned.ms / dropMs)}x faster than DELETE on the partitioned table${onPlain ? `, ${fmt(onPlain.ms / dropMs)}x faster than DELETE on the Moodle-style table` : ''}`);
    out(
      `targets: ingestion >= 50k rows/s: ${(perDay * DAYS) / (fillMs / 1000) >= 50_000 ? 'met' : 'MISSED'}; ` +
        `drop < 100 ms: ${dropMs < 100 ? 'met' : 'MISSED'}; >= 100x (vs ${onPlain ? 'Moodle-style table' : 'partitioned DELETE'}): ${reference.ms / dropMs >= 100 ? 'met' : 'MISSED'}`,
    );
  } finally {
    await database.close();
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
}

await main();
