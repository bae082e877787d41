import request from 'supertest';
import { listPartitions, logCutoff } from '../../src/retention/index.js';
import { DAY } from '../../src/shared/clock.js';
import { runJob } from '../../jobs/index.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { createTenant, type TestTenant } from '../harness/people.js';

const SECOND = 1000;

describeWithDatabases('retention: logs (RET-01, RET-02, RET-03)', (use) => {
  let t: TestApp;
  let a: TestTenant;
  let b: TestTenant;
  beforeAll(async () => {
    t = await createTestApp(use());
    a = await createTenant(t, 'gs-logs-a');
    b = await createTenant(t, 'gs-logs-b', { retention: { activityLogDays: 10 } });
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  async function activityAt(at: string, tenantId: string, action = 'room.join'): Promise<void> {
    t.clock.set(at);
    t.ctx.audit.activity({ tenantId, action, outcome: 'ok', actorId: null });
    await t.ctx.audit.flush();
  }
  async function count(table: 'activity_log' | 'access_log' | 'admin_log', tenantId?: string): Promise<number> {
    let q = t.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
    if (tenantId) q = q.where('tenant_id', '=', tenantId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  test('RET-01: an activity entry is kept one second before its day is 35 days old and dropped at that instant', async () => {
    await activityAt('2026-10-01T10:00:00Z', a.id, 'ret01.probe');
    await activityAt('2026-10-02T00:30:00Z', a.id, 'ret01.nextday');
    // The 1 October partition ends at 2 October 00:00; it is wholly expired 35 days later.
    const due = new Date(Date.parse('2026-10-02T00:00:00Z') + 35 * DAY);
    expect(logCutoff(due, 35).toISOString()).toBe('2026-10-02T00:00:00.000Z');

    const before = await runJob(t.ctx, 'logs', { now: new Date(due.getTime() - SECOND) });
    expect(before.status).toBe('ok');
    const probe = () => t.ctx.db.selectFrom('activity_log').select('action').where('action', 'in', ['ret01.probe', 'ret01.nextday']).execute();
    expect((await probe()).map((r) => r.action).sort()).toEqual(['ret01.nextday', 'ret01.probe']);

    const at = await runJob(t.ctx, 'logs', { now: due });
    expect((await probe()).map((r) => r.action)).toEqual(['ret01.nextday']);
    const step = at.steps.find((s) => s.ruleId === 'RET-01' && s.tenantId === null)!;
    expect(step.cutoff?.toISOString()).toBe('2026-10-02T00:00:00.000Z');
    expect(step.details.partitionsDropped).toBeGreaterThanOrEqual(1);
    expect(step.deleted).toBeGreaterThanOrEqual(1);
    expect((await listPartitions(t.ctx.db, 'activity_log')).some((p) => p.name.endsWith('_p20261001'))).toBe(false);
  });

  test('RET-02: access-log days go after 7 days, RET-03: admin-log days after 56 days, exactly at the cutoff', async () => {
    t.clock.set('2026-12-01T12:00:00Z');
    t.ctx.audit.access({ requestId: 'r-ret02-probe', method: 'GET', route: '/x', status: 200, durationMs: 1, ipAnon: '203.0.113.0' });
    await t.ctx.audit.flush();
    await t.ctx.db.transaction().execute((trx) => t.ctx.audit.admin(trx, { tenantId: a.id, actor: 'operator', action: 'ret03.probe', objectType: 'probe' }));
    const accessDue = new Date(Date.parse('2026-12-02T00:00:00Z') + 7 * DAY);
    const adminDue = new Date(Date.parse('2026-12-02T00:00:00Z') + 56 * DAY);
    const access = () => t.ctx.db.selectFrom('access_log').select('request_id').where('request_id', '=', 'r-ret02-probe').execute();
    const admin = () => t.ctx.db.selectFrom('admin_log').select('action').where('action', '=', 'ret03.probe').execute();

    await runJob(t.ctx, 'logs', { now: new Date(accessDue.getTime() - SECOND) });
    expect(await access()).toHaveLength(1);
    await runJob(t.ctx, 'logs', { now: accessDue });
    expect(await access()).toHaveLength(0);
    expect(await admin()).toHaveLength(1);
    await runJob(t.ctx, 'logs', { now: new Date(adminDue.getTime() - SECOND) });
    expect(await admin()).toHaveLength(1);
    await runJob(t.ctx, 'logs', { now: adminDue });
    expect(await admin()).toHaveLength(0);
  });

  test('RET-01: a tenant that shortened its period to 10 days loses its older days by batched DELETE; others keep theirs', async () => {
    await activityAt('2027-03-01T08:00:00Z', a.id, 'short.a');
    await activityAt('2027-03-01T08:00:00Z', b.id, 'short.b');
    await activityAt('2027-03-01T09:00:00Z', b.id, 'short.b');
    const due = new Date(Date.parse('2027-03-02T00:00:00Z') + 10 * DAY);
    const rows = (action: string) => t.ctx.db.selectFrom('activity_log').select('tenant_id').where('action', '=', action).execute();

    const before = await runJob(t.ctx, 'logs', { now: new Date(due.getTime() - SECOND) });
    expect(await rows('short.b')).toHaveLength(2);
    expect(before.steps.find((s) => s.ruleId === 'RET-01' && s.tenantId === b.id)?.deleted).toBe(0);

    const at = await runJob(t.ctx, 'logs', { now: due });
    expect(await rows('short.b')).toHaveLength(0);
    expect(await rows('short.a')).toHaveLength(1);
    const step = at.steps.find((s) => s.ruleId === 'RET-01' && s.tenantId === b.id)!;
    expect(step).toMatchObject({ deleted: 2, details: { days: 10 } });
    expect(step.cutoff?.toISOString()).toBe('2027-03-02T00:00:00.000Z');
    // The partition itself stays: tenant A's entry lives in it.
    expect((await listPartitions(t.ctx.db, 'activity_log')).some((p) => p.name.endsWith('_p20270301'))).toBe(true);
  });

  test('a maintenance gap of weeks neither piles up partitions nor loses today', async () => {
    const start = new Date('2027-05-01T06:00:00Z');
    await runJob(t.ctx, 'logs', { now: start });
    // Down for 60 days: on return, only today and the 7 days ahead are created,
    // and everything older than 35 days is gone.
    const back = new Date(start.getTime() + 60 * DAY);
    t.clock.set(back);
    await runJob(t.ctx, 'logs', { now: back });
    const parts = await listPartitions(t.ctx.db, 'activity_log');
    const cutoff = logCutoff(back, 35).getTime();
    expect(parts.every((p) => p.day.getTime() + DAY > cutoff)).toBe(true);
    const today = Date.UTC(2027, 5, 30);
    expect(parts.some((p) => p.day.getTime() === today)).toBe(true);
    const ahead = parts.filter((p) => p.day.getTime() > today).length;
    expect(ahead).toBe(7);
    // Days between the last run and today that nobody wrote to are not created in bulk.
    expect(parts.filter((p) => p.day.getTime() < today && p.day.getTime() > Date.UTC(2027, 4, 8)).length).toBe(0);
    t.ctx.audit.activity({ tenantId: a.id, action: 'after.gap', outcome: 'ok' });
    await t.ctx.audit.flush();
    expect(await count('activity_log', a.id)).toBeGreaterThanOrEqual(1);
    expect((await t.ctx.db.selectFrom('activity_log').select('action').where('action', '=', 'after.gap').execute()).length).toBe(1);
  });

  test('RET-02: the access log of real HTTP requests holds only anonymised IPs (IPv4 last octet, IPv6 last 80 bits)', async () => {
    t.clock.set('2027-07-01T10:00:00Z');
    await runJob(t.ctx, 'logs');
    const v4 = await request(t.app).get('/api/v1/tenants/gs-logs-a').set(t.auth(a.adminToken)).set('X-Forwarded-For', '198.51.100.77').set('X-Request-Id', 'ret02-http-v4');
    expect(v4.status).toBe(200);
    const v6 = await request(t.app)
      .get('/api/v1/tenants/gs-logs-a')
      .set(t.auth(a.adminToken))
      .set('X-Forwarded-For', '2001:db8:85a3:8d3:1319:8a2e:370:7348')
      .set('X-Request-Id', 'ret02-http-v6');
    expect(v6.status).toBe(200);
    await t.ctx.audit.flush();
    const rows = await t.ctx.db.selectFrom('access_log').selectAll().where('request_id', 'in', ['ret02-http-v4', 'ret02-http-v6']).orderBy('request_id').execute();
    expect(rows.map((r) => r.ip_anon)).toEqual(['198.51.100.0', '2001:db8:85a3::']);
    expect(rows[0]).toMatchObject({ method: 'GET', route: '/api/v1/tenants/{slug}', status: 200, tenant_id: a.id });
    const all = JSON.stringify(await t.ctx.db.selectFrom('access_log').selectAll().execute());
    expect(all).not.toContain('198.51.100.77');
    expect(all).not.toContain('1319:8a2e');
    expect(all).not.toContain('sbt_');
  });
});
