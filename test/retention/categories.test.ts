import request from 'supertest';
import { upsertUser } from '../../src/identity/index.js';
import { createSession } from '../../src/session/index.js';
import { DAY, HOUR } from '../../src/shared/clock.js';
import { runJob } from '../../jobs/index.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { createTenant, createToken, personIn, type TestTenant } from '../harness/people.js';

const SECOND = 1000;

describeWithDatabases('retention categories: purgatory, left school, school-year end, sessions', (use) => {
  let t: TestApp;
  let eduu: TestTenant; // 60-day purgatory, leaves after one year
  let iserv: TestTenant; // 90-day purgatory, leaves immediately
  beforeAll(async () => {
    t = await createTestApp(use());
    eduu = await createTenant(t, 'gs-eduu', { retention: { purgatoryDays: 60, leftSchool: 'after-one-year' } });
    iserv = await createTenant(t, 'gs-iserv', { retention: { purgatoryDays: 90, leftSchool: 'immediately' } });
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  const exists = async (table: 'users' | 'contexts', id: string) => Boolean(await t.ctx.db.selectFrom(table).select('id').where('id', '=', id).executeTakeFirst());

  test('RET-06: a deleted user is restorable within the 60-day window and refused (410) after it', async () => {
    const p = await personIn(t, eduu.id, { roles: ['student'], subject: 'p-restore' });
    const del = await request(t.app).delete(`/api/v1/tenants/gs-eduu/users/${p.userId}`).set(t.auth(eduu.adminToken));
    expect(del.status).toBe(204);
    // Signed out at once.
    expect(await t.ctx.db.selectFrom('sessions').select('id_hash').where('user_id', '=', p.userId).execute()).toHaveLength(0);
    const listed = await request(t.app).get('/api/v1/tenants/gs-eduu/retention/deleted').set(t.auth(eduu.adminToken));
    const entry = listed.body.items.find((i: { id: string }) => i.id === p.userId);
    expect(new Date(entry.restorableUntil).getTime() - new Date(entry.deletedAt).getTime()).toBe(60 * DAY);

    t.clock.advance(60 * DAY - SECOND);
    const ok = await request(t.app).post(`/api/v1/tenants/gs-eduu/users/${p.userId}/restore`).set(t.auth(eduu.adminToken));
    expect(ok.status).toBe(200);
    expect((await t.ctx.db.selectFrom('users').select('deleted_at').where('id', '=', p.userId).executeTakeFirstOrThrow()).deleted_at).toBeNull();
    expect((await request(t.app).post(`/api/v1/tenants/gs-eduu/users/${p.userId}/restore`).set(t.auth(eduu.adminToken))).status).toBe(409);

    await request(t.app).delete(`/api/v1/tenants/gs-eduu/users/${p.userId}`).set(t.auth(eduu.adminToken));
    t.clock.advance(60 * DAY);
    const late = await request(t.app).post(`/api/v1/tenants/gs-eduu/users/${p.userId}/restore`).set(t.auth(eduu.adminToken));
    expect(late.status).toBe(410);
    expect(late.body.ruleIds).toEqual(['RET-06']);
    // Another tenant's admin cannot even see it (ACC-04).
    expect((await request(t.app).post(`/api/v1/tenants/gs-iserv/users/${p.userId}/restore`).set(t.auth(iserv.adminToken))).status).toBe(404);
    expect((await request(t.app).post(`/api/v1/tenants/gs-eduu/users/${p.userId}/restore`).set(t.auth(iserv.adminToken))).status).toBe(404);
  });

  test('RET-06: the purgatory job hard-deletes users and contexts exactly when the window ends (90 days for this tenant)', async () => {
    const p = await personIn(t, iserv.id, { roles: ['teacher'], subject: 'p-purge', context: 'purge-course' });
    const deletedAt = t.clock.now();
    expect((await request(t.app).delete(`/api/v1/tenants/gs-iserv/users/${p.userId}`).set(t.auth(iserv.adminToken))).status).toBe(204);
    expect((await request(t.app).delete(`/api/v1/tenants/gs-iserv/contexts/${p.contextId}`).set(t.auth(iserv.adminToken))).status).toBe(204);
    const end = new Date(deletedAt.getTime() + 90 * DAY);

    await runJob(t.ctx, 'retention', { only: 'purgatory', now: new Date(end.getTime() - SECOND) });
    expect(await exists('users', p.userId)).toBe(true);
    expect(await exists('contexts', p.contextId)).toBe(true);

    const report = await runJob(t.ctx, 'retention', { only: 'purgatory', now: end });
    expect(await exists('users', p.userId)).toBe(false);
    expect(await exists('contexts', p.contextId)).toBe(false);
    expect(report.steps.find((s) => s.tenantId === iserv.id)).toMatchObject({ ruleId: 'RET-06', deleted: 2, details: { users: 1, contexts: 1 } });
    const audit = await t.ctx.db.selectFrom('admin_log').select(['action', 'actor']).where('object_id', 'in', [p.userId, p.contextId]).execute();
    expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(['user.delete', 'context.delete', 'user.purge', 'context.purge']));
  });

  test('RET-06: a soft-deleted tenant is purged with its data and logs after its window', async () => {
    const doomed = await createTenant(t, 'gs-doomed', { retention: { purgatoryDays: 60 } });
    const p = await personIn(t, doomed.id, { roles: ['student'], subject: 'p-doomed' });
    t.ctx.audit.activity({ tenantId: doomed.id, actorId: p.userId, action: 'room.join', outcome: 'ok' });
    await t.ctx.audit.flush();
    const deletedAt = t.clock.now();
    expect((await request(t.app).delete('/api/v1/tenants/gs-doomed').set(t.auth())).status).toBe(204);
    await runJob(t.ctx, 'retention', { only: 'purgatory', now: new Date(deletedAt.getTime() + 60 * DAY - SECOND) });
    expect(await t.ctx.db.selectFrom('tenants').select('id').where('id', '=', doomed.id).executeTakeFirst()).toBeDefined();
    await runJob(t.ctx, 'retention', { only: 'purgatory', now: new Date(deletedAt.getTime() + 60 * DAY) });
    expect(await t.ctx.db.selectFrom('tenants').select('id').where('id', '=', doomed.id).executeTakeFirst()).toBeUndefined();
    expect(await exists('users', p.userId)).toBe(false);
    expect(await t.ctx.db.selectFrom('activity_log').select('at').where('tenant_id', '=', doomed.id).execute()).toHaveLength(0);
  });

  test('RET-07: the LMS reports a leaving date; erased a year later (Moodle BW variant), not a second before', async () => {
    const lms = await createToken(t, 'gs-eduu', ['lms']);
    const p = await personIn(t, eduu.id, { roles: ['student'], subject: 'p-leaver' });
    const leftAt = '2027-07-31T00:00:00.000Z';
    const res = await request(t.app).put(`/api/v1/tenants/gs-eduu/users/${p.userId}/leaving`).set(t.auth(lms)).send({ leftAt });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ userId: p.userId, leftAt, erasureDueAt: '2028-07-31T00:00:00.000Z', variant: 'after-one-year' });
    // Another tenant's token cannot set it (ACC-04).
    const foreign = await createToken(t, 'gs-iserv', ['lms']);
    expect((await request(t.app).put(`/api/v1/tenants/gs-eduu/users/${p.userId}/leaving`).set(t.auth(foreign)).send({ leftAt })).status).toBe(404);
    expect((await request(t.app).put(`/api/v1/tenants/gs-iserv/users/${p.userId}/leaving`).set(t.auth(foreign)).send({ leftAt })).status).toBe(404);

    await runJob(t.ctx, 'retention', { only: 'left-school', now: new Date(Date.parse('2028-07-31T00:00:00Z') - SECOND) });
    expect(await exists('users', p.userId)).toBe(true);
    await runJob(t.ctx, 'retention', { only: 'left-school', now: new Date('2028-07-31T00:00:00Z') });
    expect(await exists('users', p.userId)).toBe(false);
    expect(await t.ctx.db.selectFrom('memberships').select('user_id').where('user_id', '=', p.userId).execute()).toHaveLength(0);
  });

  test('RET-07: the IServ variant erases at the leaving date itself, with every linked record; withdrawing the date stops it', async () => {
    const lms = await createToken(t, 'gs-iserv', ['lms']);
    const p = await personIn(t, iserv.id, { roles: ['student'], subject: 'p-iserv-leaver' });
    const stays = await personIn(t, iserv.id, { roles: ['student'], subject: 'p-iserv-stays' });
    await t.ctx.db.insertInto('consents').values({ tenant_id: iserv.id, user_id: p.userId, scope: 'video', given_at: t.clock.now(), source: 'test' }).execute();
    const leftAt = new Date(t.clock.now().getTime() + 2 * DAY);
    await request(t.app).put(`/api/v1/tenants/gs-iserv/users/${p.userId}/leaving`).set(t.auth(lms)).send({ leftAt: leftAt.toISOString() });
    await request(t.app).put(`/api/v1/tenants/gs-iserv/users/${stays.userId}/leaving`).set(t.auth(lms)).send({ leftAt: leftAt.toISOString() });
    const withdrawn = await request(t.app).put(`/api/v1/tenants/gs-iserv/users/${stays.userId}/leaving`).set(t.auth(lms)).send({ leftAt: null });
    expect(withdrawn.body.erasureDueAt).toBeNull();

    await runJob(t.ctx, 'retention', { only: 'left-school', now: new Date(leftAt.getTime() - SECOND) });
    expect(await exists('users', p.userId)).toBe(true);
    await runJob(t.ctx, 'retention', { only: 'left-school', now: leftAt });
    expect(await exists('users', p.userId)).toBe(false);
    expect(await exists('users', stays.userId)).toBe(true);
    expect(await t.ctx.db.selectFrom('consents').select('id').where('user_id', '=', p.userId).execute()).toHaveLength(0);
    const entry = await t.ctx.db.selectFrom('admin_log').selectAll().where('action', '=', 'user.erase').where('object_id', '=', p.userId).executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ actor: 'retention', rule_ids: ['RET-07'] });
  });

  test('RET-11: one month after the school year ends an open confirmation appears, stays until answered, and the answer is kept and audited', async () => {
    // Created during the school year 2027/28: no confirmation for years before it existed.
    t.clock.set('2027-09-15T10:00:00Z');
    const schoolYear = await createTenant(t, 'gs-schuljahr', { schoolYearStart: '08-01' });
    t.clock.set('2028-08-31T23:59:59Z');
    await runJob(t.ctx, 'retention', { only: 'school-year-confirmations' });
    expect((await request(t.app).get('/api/v1/tenants/gs-schuljahr/retention/confirmations').set(t.auth(schoolYear.adminToken))).body.items).toHaveLength(0);
    t.clock.set('2028-09-01T00:00:00Z');
    await runJob(t.ctx, 'retention', { only: 'school-year-confirmations' });
    await runJob(t.ctx, 'retention', { only: 'school-year-confirmations' });
    t.clock.advance(40 * DAY);
    await runJob(t.ctx, 'retention', { only: 'school-year-confirmations' });
    const open = await request(t.app).get('/api/v1/tenants/gs-schuljahr/retention/confirmations').set(t.auth(schoolYear.adminToken));
    expect(open.body.items).toHaveLength(1);
    expect(open.body.items[0]).toMatchObject({ schoolYear: '2027/28', status: 'open', schoolYearEnd: '2028-08-01T00:00:00.000Z', dueAt: '2028-09-01T00:00:00.000Z' });
    const id = open.body.items[0].id;
    // Not visible to other tenants.
    expect((await request(t.app).post(`/api/v1/tenants/gs-eduu/retention/confirmations/${id}`).set(t.auth(eduu.adminToken)).send({ answer: 'done' })).status).toBe(404);
    const answered = await request(t.app).post(`/api/v1/tenants/gs-schuljahr/retention/confirmations/${id}`).set(t.auth(schoolYear.adminToken)).send({ answer: 'done' });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ status: 'answered', answer: 'done' });
    expect((await request(t.app).post(`/api/v1/tenants/gs-schuljahr/retention/confirmations/${id}`).set(t.auth(schoolYear.adminToken)).send({ answer: 'not-done' })).status).toBe(409);
    const log = await t.ctx.db.selectFrom('admin_log').selectAll().where('object_id', '=', id).orderBy('at').execute();
    expect(log.map((r) => [r.action, r.actor])).toEqual([
      ['retention.confirmation.open', 'retention'],
      ['retention.confirmation.answer', `token:${(await t.ctx.db.selectFrom('api_tokens').select('id').where('tenant_id', '=', schoolYear.id).executeTakeFirstOrThrow()).id}`],
    ]);
    expect(log.every((r) => r.rule_ids.includes('RET-11'))).toBe(true);
  });

  test('sessions: expired and idle sessions are removed by the sessions job', async () => {
    const { db, clock } = t.ctx;
    const userId = await upsertUser(db, clock, { tenantId: eduu.id, source: 'lti', issuer: 'https://moodle.test', subject: 's-1', displayName: 'S' });
    const { session } = await createSession(db, clock, { tenantId: eduu.id, userId, contextId: null, roles: ['student'] });
    const report1 = await runJob(t.ctx, 'sessions');
    expect(await db.selectFrom('sessions').select('id_hash').where('id_hash', '=', session.idHash).executeTakeFirst()).toBeDefined();
    expect(report1.status).toBe('ok');
    t.clock.advance(HOUR);
    const report2 = await runJob(t.ctx, 'sessions');
    expect(await db.selectFrom('sessions').select('id_hash').where('id_hash', '=', session.idHash).executeTakeFirst()).toBeUndefined();
    expect(report2.steps[0]).toMatchObject({ ruleId: 'SEC-03', category: 'sessions' });
    expect(report2.steps[0]!.deleted).toBeGreaterThanOrEqual(1);
  });
});
