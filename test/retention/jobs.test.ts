import { spawn } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { openDatabase, type Database } from '../../src/db/index.js';
import { setMembership, upsertContext, upsertUser } from '../../src/identity/index.js';
import type { PrivacyProvider } from '../../src/privacy/registry.js';
import type { RetentionCategory } from '../../src/retention/index.js';
import { DAY } from '../../src/shared/clock.js';
import { runJob, startJobs } from '../../jobs/index.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { createTenant, type TestTenant } from '../harness/people.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A category that waits until the test lets it finish. */
function blocking(gate: Promise<void>, started: () => void): RetentionCategory {
  return {
    ruleId: 'RET-00',
    name: 'blocking',
    async run() {
      started();
      await gate;
      return [{ tenantId: null, cutoff: null, deleted: 0 }];
    },
  };
}

describeWithDatabases('retention jobs: locks, protocol, kill and resume', (use, kind) => {
  let t: TestApp;
  let a: TestTenant;
  let b: TestTenant;
  beforeAll(async () => {
    t = await createTestApp(use());
    a = await createTenant(t, 'gs-jobs-a', { retention: { leftSchool: 'immediately' } });
    b = await createTenant(t, 'gs-jobs-b');
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  test('job locking: a second run of the same job while the first holds the lock records `locked` and does nothing', async () => {
    const gate = deferred();
    const started = deferred();
    const first = runJob(t.ctx, 'retention', { categories: [blocking(gate.promise, started.resolve)] });
    await started.promise;
    const second = await runJob(t.ctx, 'retention', { categories: [blocking(Promise.resolve(), () => undefined)] });
    expect(second.status).toBe('locked');
    // Another job is not blocked by it.
    expect((await runJob(t.ctx, 'sessions')).status).toBe('ok');
    gate.resolve();
    expect((await first).status).toBe('ok');
    expect((await runJob(t.ctx, 'retention', { categories: [] })).status).toBe('ok');
    const locked = await t.ctx.db.selectFrom('retention_runs').selectAll().where('outcome', '=', 'locked').execute();
    expect(locked).toHaveLength(1);
    expect(locked[0]).toMatchObject({ job: 'retention', deleted: 0 });
  });

  if (kind === 'postgres') {
    test('job locking across two connections (two instances on one PostgreSQL): the advisory lock decides', async () => {
      const other: Database = await openDatabase({ url: process.env.TEST_DATABASE_URL!, schema: use().lockNamespace, poolSize: 3 });
      const t2 = await createTestApp(other, { clock: t.clock });
      try {
        const gate = deferred();
        const started = deferred();
        const first = runJob(t.ctx, 'logs', { categories: [blocking(gate.promise, started.resolve)] });
        await started.promise;
        const held = await t2.ctx.db.selectFrom('pg_locks' as never).select((eb) => eb.fn.countAll<number>().as('n')).where('locktype' as never, '=', 'advisory' as never).executeTakeFirstOrThrow();
        expect(Number(held.n)).toBeGreaterThanOrEqual(1);
        const second = await runJob(t2.ctx, 'logs', { categories: [blocking(Promise.resolve(), () => undefined)] });
        expect(second.status).toBe('locked');
        gate.resolve();
        expect((await first).status).toBe('ok');
        // Released: the other instance gets it now.
        expect((await runJob(t2.ctx, 'logs', { categories: [] })).status).toBe('ok');
      } finally {
        await t2.ctx.audit.close();
        await other.close();
      }
    });
  }

  if (kind === 'postgres') {
    test('kill and resume: an instance killed (SIGKILL) half-way releases its lock, leaves each user whole or gone, and the next run finishes (RET-07)', async () => {
      const { db, clock } = t.ctx;
      const tenant = await createTenant(t, 'gs-jobs-kill', { retention: { leftSchool: 'immediately' } });
      const context = await upsertContext(db, clock, { tenantId: tenant.id, source: 'lti', issuer: 'https://moodle.test', externalId: 'sigkill', title: 'Kurs', type: 'CourseSection' });
      const total = 400;
      for (let n = 0; n < total; n++) {
        const id = await upsertUser(db, clock, { tenantId: tenant.id, source: 'lti', issuer: 'https://moodle.test', subject: `sigkill-${n}`, displayName: `P ${n}` });
        await setMembership(db, clock, { tenantId: tenant.id, contextId: context, userId: id, roles: ['student'], source: 'lms' });
      }
      await db.updateTable('users').set({ left_at: new Date('2026-01-01T00:00:00Z') }).where('tenant_id', '=', tenant.id).execute();
      const remaining = async () => (await db.selectFrom('users').select('id').where('tenant_id', '=', tenant.id).execute()).map((r) => r.id);

      const child = spawn(process.execPath, ['--import', 'tsx', path.join(process.cwd(), 'test/support/job-child.ts'), process.env.TEST_DATABASE_URL!, use().lockNamespace, 'retention', 'left-school'], {
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // Wait until the other instance has erased some users, then kill it without warning.
      for (let i = 0; i < 600 && (await remaining()).length > total - 5; i++) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGKILL');
      await exited;
      const left = await remaining();
      expect(left.length).toBeLessThan(total);
      expect(left.length).toBeGreaterThan(0);
      // Consistent: everyone still there still has their membership (no half-erased user).
      const withMembership = await db.selectFrom('memberships').select('user_id').where('tenant_id', '=', tenant.id).execute();
      expect(withMembership.map((r) => r.user_id).sort()).toEqual([...left].sort());
      // The killed instance's advisory lock went with its connection: this run gets it and finishes.
      const resumed = await runJob(t.ctx, 'retention', { only: 'left-school' });
      expect(resumed.status).toBe('ok');
      expect(resumed.steps.find((s) => s.tenantId === tenant.id)?.deleted).toBe(left.length);
      expect(await remaining()).toEqual([]);
    }, 60_000);
  }

  test('kill and resume: an erasure failing half-way leaves each user whole or gone, and the next run finishes (RET-07)', async () => {
    const { db, clock } = t.ctx;
    const ids: string[] = [];
    const context = await upsertContext(db, clock, { tenantId: a.id, source: 'lti', issuer: 'https://moodle.test', externalId: 'kill-course', title: 'Kurs', type: 'CourseSection' });
    for (const n of [1, 2, 3]) {
      const id = await upsertUser(db, clock, { tenantId: a.id, source: 'lti', issuer: 'https://moodle.test', subject: `kill-${n}`, displayName: `Max Mustermann ${n}` });
      await setMembership(db, clock, { tenantId: a.id, contextId: context, userId: id, roles: ['student'], source: 'lms' });
      await db.updateTable('users').set({ left_at: new Date(clock.now().getTime() - DAY) }).where('id', '=', id).execute();
      ids.push(id);
    }
    // A module's eraser that deletes its part and then fails on the second user, as a crash would.
    let calls = 0;
    let armed = true;
    const flaky: PrivacyProvider = {
      name: 'flaky-test-module',
      describe: () => [],
      async *export() {},
      async erase(trx, subject) {
        const r = await trx.deleteFrom('memberships').where('user_id', '=', subject.userId).executeTakeFirst();
        if (armed && ++calls === 2) throw new Error(`Löschen fehlgeschlagen für Max Mustermann <max@example.org> von 192.0.2.55`);
        return [{ category: 'flaky', deleted: Number(r.numDeletedRows), kept: 0 }];
      },
    };
    t.ctx.privacy.register(flaky);

    const first = await runJob(t.ctx, 'retention', { only: 'left-school' });
    expect(first.status).toBe('error');
    const alive = async () => (await db.selectFrom('users').select('id').where('id', 'in', ids).execute()).map((r) => r.id).sort();
    const members = async (id: string) => (await db.selectFrom('memberships').select('user_id').where('user_id', '=', id).execute()).length;
    // One user is gone; the second's transaction rolled back completely (its membership,
    // deleted before the failure, is back); the third was not reached.
    const survivors = await alive();
    expect(survivors).toHaveLength(2);
    for (const id of survivors) expect(await members(id)).toBe(1);

    armed = false;
    const second = await runJob(t.ctx, 'retention', { only: 'left-school' });
    expect(second.status).toBe('ok');
    expect(await alive()).toEqual([]);
    expect(second.steps.find((s) => s.tenantId === a.id)).toMatchObject({ ruleId: 'RET-07', category: 'left-school', deleted: 2, outcome: 'ok' });

    // Protocol: the failure is recorded by class only, without the message's name, address or IP.
    const rows = await db.selectFrom('retention_runs').selectAll().where('category', '=', 'left-school').orderBy('started_at').execute();
    const failed = rows.find((r) => r.outcome === 'error')!;
    expect(failed).toMatchObject({ job: 'retention', rule_id: 'RET-07', error: 'Error' });
    const protocol = JSON.stringify(await db.selectFrom('retention_runs').selectAll().execute());
    expect(protocol).not.toMatch(/Mustermann|example\.org|192\.0\.2\.55|kill-\d|moodle\.test/);
  });

  test('protocol rows carry job, rule id, tenant, cutoff, counts, duration and outcome', async () => {
    const report = await runJob(t.ctx, 'logs');
    expect(report.status).toBe('ok');
    const rows = await t.ctx.db.selectFrom('retention_runs').selectAll().where('job', '=', 'logs').where('rule_id', '=', 'RET-01').orderBy('started_at', 'desc').execute();
    const row = rows[0]!;
    expect(row).toMatchObject({ job: 'logs', rule_id: 'RET-01', category: 'activity-log', tenant_id: null, outcome: 'ok', error: null });
    expect(row.cutoff).toBeInstanceOf(Date);
    expect(Number(row.deleted)).toBeGreaterThanOrEqual(0);
    expect(Number(row.duration_ms)).toBeGreaterThanOrEqual(0);
    expect(row.details).toMatchObject({ days: 35 });
  });

  test('dry run: changes nothing and writes no protocol, but says what would go', async () => {
    const { db, clock } = t.ctx;
    const id = await upsertUser(db, clock, { tenantId: a.id, source: 'lti', issuer: 'https://moodle.test', subject: 'dry-1', displayName: 'Erika' });
    await db.updateTable('users').set({ left_at: clock.now() }).where('id', '=', id).execute();
    const before = (await db.selectFrom('retention_runs').select('id').execute()).length;
    const report = await runJob(t.ctx, 'retention', { only: 'left-school', dryRun: true });
    expect(report.steps.find((s) => s.tenantId === a.id)?.deleted).toBe(1);
    expect(await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()).toBeDefined();
    expect((await db.selectFrom('retention_runs').select('id').execute()).length).toBe(before);
    await runJob(t.ctx, 'retention', { only: 'left-school' });
    expect(await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
  });

  test('GET /retention/runs: operator sees all; a tenant admin only its own tenant; other scopes are refused', async () => {
    await t.ctx.db
      .insertInto('retention_runs')
      .values({ job: 'retention', rule_id: 'RET-06', category: 'purgatory', tenant_id: b.id, deleted: 3, details: '{}', started_at: t.clock.now(), duration_ms: 1, outcome: 'ok' })
      .execute();
    const all = await request(t.app).get('/api/v1/retention/runs?limit=1000').set(t.auth());
    expect(all.status).toBe(200);
    expect(all.body.items.some((r: { tenantId: string | null }) => r.tenantId === null)).toBe(true);
    expect(all.body.items.some((r: { tenantId: string | null }) => r.tenantId === b.id)).toBe(true);
    const own = await request(t.app).get('/api/v1/retention/runs?limit=1000').set(t.auth(a.adminToken));
    expect(own.status).toBe(200);
    expect(own.body.items.length).toBeGreaterThan(0);
    expect(own.body.items.every((r: { tenantId: string }) => r.tenantId === a.id)).toBe(true);
    const ofB = await request(t.app).get('/api/v1/retention/runs').set(t.auth(b.adminToken));
    expect(ofB.body.items.map((r: { deleted: number; ruleId: string }) => [r.ruleId, r.deleted])).toEqual([['RET-06', 3]]);
    const lms = await request(t.app).post('/api/v1/tenants/gs-jobs-a/tokens').set(t.auth()).send({ label: 'lms', scopes: ['lms'] });
    expect((await request(t.app).get('/api/v1/retention/runs').set(t.auth(lms.body.token))).status).toBe(403);
  });

  test('the scheduler runs jobs on their cron schedule and stops cleanly', async () => {
    const before = (await t.ctx.db.selectFrom('retention_runs').select('id').where('job', '=', 'sessions').execute()).length;
    const scheduler = startJobs(t.ctx, { logs: '0 0 1 1 *', retention: '0 0 1 1 *', sessions: '* * * * * *' });
    await new Promise((r) => setTimeout(r, 2300));
    await scheduler.stop();
    const after = (await t.ctx.db.selectFrom('retention_runs').select('id').where('job', '=', 'sessions').execute()).length;
    expect(after).toBeGreaterThan(before);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await t.ctx.db.selectFrom('retention_runs').select('id').where('job', '=', 'sessions').execute()).length).toBe(after);
  });
});
