import request from 'supertest';
import { HOUR, DAY } from '../../src/shared/clock.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { createTenant, createToken, personIn, type TestPerson, type TestTenant } from '../harness/people.js';

const SECOND = 1000;

describeWithDatabases('four-eyes access to activity logs (ACC-03, RET-12)', (use) => {
  let t: TestApp;
  let school: TestTenant;
  let other: TestTenant;
  let secondAdmin: string;
  let pupil: TestPerson;
  let classmate: TestPerson;
  const base = '/api/v1/tenants/gs-vier-augen/retention/log-access';

  beforeAll(async () => {
    t = await createTestApp(use());
    school = await createTenant(t, 'gs-vier-augen');
    other = await createTenant(t, 'gs-fremd');
    secondAdmin = await createToken(t, 'gs-vier-augen', ['admin']);
    pupil = await personIn(t, school.id, { roles: ['student'], subject: 'fe-pupil' });
    classmate = await personIn(t, school.id, { roles: ['student'], subject: 'fe-classmate' });
    for (const [who, action] of [
      [pupil.userId, 'room.join'],
      [pupil.userId, 'grid.read'],
      [classmate.userId, 'room.join'],
    ] as const) {
      t.ctx.audit.activity({ tenantId: school.id, actorId: who, contextId: pupil.contextId, action, outcome: 'ok', ruleIds: ['VC-07'] });
    }
    await t.ctx.audit.flush();
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  const body = () => ({
    reason: 'Beschwerde der Eltern vom 20.11.: Prüfung, ob der Beitritt erfolgt ist',
    scope: { type: 'user', id: pupil.userId },
    from: new Date(t.clock.now().getTime() - DAY).toISOString(),
    to: new Date(t.clock.now().getTime() + HOUR).toISOString(),
  });

  test('ACC-03: a request needs a reason and a scope of this tenant', async () => {
    const short = await request(t.app).post(base).set(t.auth(school.adminToken)).send({ ...body(), reason: 'weil' });
    expect(short.status).toBe(422);
    const foreignUser = await personIn(t, other.id, { roles: ['student'], subject: 'fe-foreign' });
    const foreign = await request(t.app).post(base).set(t.auth(school.adminToken)).send({ ...body(), scope: { type: 'user', id: foreignUser.userId } });
    expect(foreign.status).toBe(404);
    const operator = await request(t.app).post(base).set(t.auth()).send(body());
    expect(operator.status).toBe(403);
  });

  test('ACC-03: the requesting admin cannot approve their own request, nor read before approval', async () => {
    const created = await request(t.app).post(base).set(t.auth(school.adminToken)).send(body());
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('pending');
    const self = await request(t.app).post(`${base}/${created.body.id}/approve`).set(t.auth(school.adminToken));
    expect(self.status).toBe(403);
    expect(self.body.ruleIds).toEqual(['ACC-03']);
    const early = await request(t.app).get(`${base}/${created.body.id}/entries`).set(t.auth(school.adminToken));
    expect(early.status).toBe(403);
  });

  test('ACC-03, RET-12: approved by a different admin, the requester reads only the named user and period; every read is logged', async () => {
    const created = await request(t.app).post(base).set(t.auth(school.adminToken)).send(body());
    const approved = await request(t.app).post(`${base}/${created.body.id}/approve`).set(t.auth(secondAdmin));
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('approved');
    expect(new Date(approved.body.expiresAt).getTime() - new Date(approved.body.approvedAt).getTime()).toBe(24 * HOUR);
    expect((await request(t.app).post(`${base}/${created.body.id}/approve`).set(t.auth(secondAdmin))).status).toBe(409);

    const read = await request(t.app).get(`${base}/${created.body.id}/entries`).set(t.auth(school.adminToken));
    expect(read.status).toBe(200);
    expect(read.body.items.map((e: { action: string }) => e.action).sort()).toEqual(['grid.read', 'room.join']);
    expect(read.body.items.every((e: { actorId: string }) => e.actorId === pupil.userId)).toBe(true);
    // Only the requester reads with it; the approver does not get access through approving.
    expect((await request(t.app).get(`${base}/${created.body.id}/entries`).set(t.auth(secondAdmin))).status).toBe(403);

    const logged = await t.ctx.db.selectFrom('admin_log').selectAll().where('object_id', '=', created.body.id).orderBy('at').execute();
    expect(logged.map((r) => r.action)).toEqual(expect.arrayContaining(['log_access.request', 'log_access.approve', 'activity_log.read', 'activity_log.read.denied']));
    const readEntry = logged.find((r) => r.action === 'activity_log.read')!;
    expect(readEntry.rule_ids).toEqual(['ACC-03', 'RET-12']);
    expect(readEntry.details).toEqual({ entries: 2 });
  });

  test('ACC-03: an approval expires after 24 hours', async () => {
    const created = await request(t.app).post(base).set(t.auth(school.adminToken)).send(body());
    await request(t.app).post(`${base}/${created.body.id}/approve`).set(t.auth(secondAdmin));
    t.clock.advance(24 * HOUR - SECOND);
    expect((await request(t.app).get(`${base}/${created.body.id}/entries`).set(t.auth(school.adminToken))).status).toBe(200);
    t.clock.advance(SECOND);
    const expired = await request(t.app).get(`${base}/${created.body.id}/entries`).set(t.auth(school.adminToken));
    expect(expired.status).toBe(403);
    expect(expired.body.ruleIds).toEqual(['ACC-03']);
    const listed = await request(t.app).get(base).set(t.auth(school.adminToken));
    expect(listed.body.items.find((r: { id: string }) => r.id === created.body.id).status).toBe('expired');
  });

  test('ACC-04: another tenant\u2019s admin can neither approve nor read, and sees nothing', async () => {
    const created = await request(t.app).post(base).set(t.auth(school.adminToken)).send(body());
    expect((await request(t.app).post(`${base}/${created.body.id}/approve`).set(t.auth(other.adminToken))).status).toBe(404);
    expect((await request(t.app).post(`/api/v1/tenants/gs-fremd/retention/log-access/${created.body.id}/approve`).set(t.auth(other.adminToken))).status).toBe(404);
    expect((await request(t.app).get(`/api/v1/tenants/gs-fremd/retention/log-access/${created.body.id}/entries`).set(t.auth(other.adminToken))).status).toBe(404);
    expect((await request(t.app).get('/api/v1/tenants/gs-fremd/retention/log-access').set(t.auth(other.adminToken))).body.items).toEqual([]);
  });

  test('RET-12: no aggregate statistics over activity logs are offered by the API', async () => {
    const doc = await request(t.app).get('/api/v1/openapi.json');
    const paths = Object.keys(doc.body.paths ?? {});
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => /activity|log/i.test(p) && /stat|analytic|aggregate|count|report/i.test(p))).toEqual([]);
    expect(paths.filter((p) => /activity|log-access/.test(p)).sort()).toEqual([
      '/tenants/{slug}/retention/log-access',
      '/tenants/{slug}/retention/log-access/{id}/approve',
      '/tenants/{slug}/retention/log-access/{id}/entries',
    ]);
  });
});
