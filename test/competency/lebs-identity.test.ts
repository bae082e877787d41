/** LEBs (ACC-02) and the LMS's identity routes (roster push, context upsert, user lookup). */
import request from 'supertest';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { bearer, buildWorld, gridBody, lebBody, putGrid, putLeb, type World } from './world.js';

describeWithDatabases('LEBs and LMS identity routes', (use) => {
  let t: TestApp;
  let w: World;
  beforeAll(async () => {
    t = await createTestApp(use());
    w = await buildWorld(t, 'gs-leb');
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  test('ACC-02: responsible teachers must teach in the group; the author must be one of them', async () => {
    const notTeacher = await putLeb(t, w, w.people.teacher.userId, lebBody(w, { responsibleTeacherIds: [w.people.teacher.userId, w.people.teacherOther.userId] }));
    expect(notTeacher.status).toBe(422);
    expect(notTeacher.body.errors[0].field).toBe('responsibleTeacherIds');
    const notAuthor = await putLeb(t, w, w.people.teacher.userId, lebBody(w, { responsibleTeacherIds: [w.people.teacherSameContextNotResponsible.userId] }));
    expect(notAuthor.status).toBe(403);
    expect(notAuthor.body.ruleIds).toEqual(['ACC-02']);
    const badYear = await putLeb(t, w, w.people.teacher.userId, lebBody(w, { schoolYear: '2026/28' }));
    expect(badYear.status).toBe(422);
    const both = await putLeb(t, w, w.people.teacher.userId, lebBody(w, { responsibleTeacherIds: [w.people.teacher.userId, w.people.teacherSameContextNotResponsible.userId] }));
    expect(both.status).toBe(200);
    expect(both.body.responsibleTeacherIds.sort()).toEqual([w.people.teacher.userId, w.people.teacherSameContextNotResponsible.userId].sort());
    const colleague = await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${w.c1}/lebs/${both.body.id}?onBehalfOf=${w.people.teacherSameContextNotResponsible.userId}`).set(bearer(w.lms));
    expect(colleague.status).toBe(200);
    // The colleague is removed again: from now on 403.
    const narrowed = await putLeb(t, w, w.people.teacher.userId, lebBody(w, { responsibleTeacherIds: [w.people.teacher.userId] }));
    expect(narrowed.body.created).toBe(false);
    const after = await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${w.c1}/lebs/${both.body.id}?onBehalfOf=${w.people.teacherSameContextNotResponsible.userId}`).set(bearer(w.lms));
    expect(after.status).toBe(403);
  });

  test('ACC-02: lists: responsible teacher sees the LEB; the pupil gets 404, not even an empty list', async () => {
    const list = await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${w.c1}/lebs?onBehalfOf=${w.people.teacher.userId}`).set(bearer(w.lms));
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const colleague = await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${w.c1}/lebs?onBehalfOf=${w.people.teacherSameContextNotResponsible.userId}`).set(bearer(w.lms));
    expect(colleague.body.items).toEqual([]);
    const pupil = await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${w.c1}/lebs?onBehalfOf=${w.people.pupil.userId}`).set(bearer(w.lms));
    expect(pupil.status).toBe(404);
    expect(pupil.body.ruleIds).toEqual(['ACC-02']);
    const page = await request(t.app).get(`/contexts/${w.c1}/lebs`).set('Cookie', w.people.pupil.cookie);
    expect(page.status).toBe(404);
  });

  test('LEB editor page: a responsible teacher creates a report and edits its sections', async () => {
    const created = await request(t.app).post(`/contexts/${w.c1}/lebs`).set('Cookie', w.people.teacher.cookie).type('form').send({ csrf: w.people.teacher.csrf, pupilId: w.people.pupilSameGroup.userId, schoolYear: '2026/27' });
    expect(created.status).toBe(303);
    const editor = await request(t.app).get(created.headers.location!).set('Cookie', w.people.teacher.cookie);
    expect(editor.status).toBe(200);
    expect(editor.text).toContain('Sozialverhalten');
    expect(editor.text).toContain('Quentin Klassenkamerad');
    const saved = await request(t.app).post(created.headers.location!).set('Cookie', w.people.teacher.cookie).type('form').send({ csrf: w.people.teacher.csrf, socialBehaviour: 'Übernimmt Verantwortung <b>', learningBehaviour: '', subjectCompetencies: '', standardReached: 'yes' });
    expect(saved.status).toBe(303);
    const again = await request(t.app).get(created.headers.location!).set('Cookie', w.people.teacher.cookie);
    expect(again.text).toContain('Übernimmt Verantwortung &lt;b&gt;');
    const row = await t.ctx.db.selectFrom('lebs').selectAll().where('pupil_id', '=', w.people.pupilSameGroup.userId).executeTakeFirstOrThrow();
    expect(row.standard_reached_at).toEqual(t.clock.now());
    const list = await request(t.app).get(`/contexts/${w.c1}/lebs`).set('Cookie', w.people.teacher.cookie);
    expect(list.text).toContain('Quentin Klassenkamerad · 2026/27');
    const badForm = await request(t.app).post(`/contexts/${w.c1}/lebs`).set('Cookie', w.people.teacher.cookie).type('form').send({ csrf: w.people.teacher.csrf, pupilId: 'x', schoolYear: '2026' });
    expect(badForm.status).toBe(422);
  });

  test('roster push: the LMS names the members; their verified roles then decide (ACC-01), and the push is audited', async () => {
    const issuer = 'https://moodle.roster.test';
    const ctxRes = await request(t.app).put(`/api/v1/tenants/${w.slug}/contexts`).set(bearer(w.lms)).send({ issuer, externalId: '42', title: 'Klasse 8b' });
    expect(ctxRes.status).toBe(200);
    expect(ctxRes.body.created).toBe(true);
    const again = await request(t.app).put(`/api/v1/tenants/${w.slug}/contexts`).set(bearer(w.lms)).send({ issuer, externalId: '42', title: 'Klasse 8b (neu)' });
    expect(again.body).toMatchObject({ id: ctxRes.body.id, created: false, title: 'Klasse 8b (neu)' });
    const contextId = ctxRes.body.id as string;

    const roster = await request(t.app)
      .put(`/api/v1/tenants/${w.slug}/contexts/${contextId}/members`)
      .set(bearer(w.lms))
      .send({ members: [{ subject: 't-1', displayName: 'Lehrer Eins', roles: ['teacher'] }, { subject: 's-1', displayName: 'Schülerin Eins', roles: ['student'] }, { subject: 's-2', displayName: 'Schüler Zwei', roles: ['student'] }] });
    expect(roster.status).toBe(200);
    const [teacher, s1, s2] = roster.body.members.map((m: { userId: string }) => m.userId);
    const lookup = await request(t.app).get(`/api/v1/tenants/${w.slug}/users?issuer=${encodeURIComponent(issuer)}&subject=s-1`).set(bearer(w.lms));
    expect(lookup.status).toBe(200);
    expect(lookup.body).toEqual({ id: s1, issuer, subject: 's-1', source: 'lms' });
    expect(JSON.stringify(lookup.body)).not.toContain('Schülerin Eins');

    const grid = await putGrid(t, w, teacher, gridBody(s1, 'roster'), contextId);
    expect(grid.status).toBe(200);
    expect((await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${contextId}/grids/${grid.body.id}?onBehalfOf=${s2}`).set(bearer(w.lms))).status).toBe(404);

    // A complete roster without s-2 removes the membership; the teacher is demoted to a pupil → 404 now.
    const complete = await request(t.app)
      .put(`/api/v1/tenants/${w.slug}/contexts/${contextId}/members`)
      .set(bearer(w.lms))
      .send({ complete: true, members: [{ subject: 't-1', displayName: 'Lehrer Eins', roles: ['student'] }, { subject: 's-1', displayName: 'Schülerin Eins', roles: ['student'] }] });
    expect(complete.body.removed).toBe(1);
    const demoted = await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${contextId}/grids/${grid.body.id}?onBehalfOf=${teacher}`).set(bearer(w.lms));
    expect(demoted.status).toBe(404);

    const log = await t.ctx.db.selectFrom('admin_log').selectAll().where('tenant_id', '=', w.tenantId).where('action', 'in', ['context.create', 'context.update', 'context.roster', 'user.lookup']).execute();
    expect(log.map((r) => r.action).sort()).toEqual(['context.create', 'context.roster', 'context.roster', 'context.update', 'user.lookup']);
    expect(JSON.stringify(log)).not.toMatch(/Lehrer Eins|Schülerin|s-1|sbt_/);
  });

  test('identity routes: validation, all-or-nothing roster, other tenants (ACC-04), scopes', async () => {
    const ctxId = (await request(t.app).put(`/api/v1/tenants/${w.slug}/contexts`).set(bearer(w.adminToken)).send({ issuer: 'https://m.test', externalId: '7' })).body.id;
    const bad = await request(t.app).put(`/api/v1/tenants/${w.slug}/contexts/${ctxId}/members`).set(bearer(w.lms)).send({ members: [{ subject: 'a', displayName: 'A', roles: ['teacher'] }, { subject: 'b', displayName: 'B', roles: ['wizard'] }] });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].field).toBe('members.1.roles.0');
    expect(await t.ctx.db.selectFrom('users').select('id').where('issuer', '=', 'https://m.test').execute()).toEqual([]);
    const dup = await request(t.app).put(`/api/v1/tenants/${w.slug}/contexts/${ctxId}/members`).set(bearer(w.lms)).send({ members: [{ subject: 'a', displayName: 'A', roles: ['teacher'] }, { subject: 'a', displayName: 'A', roles: ['student'] }] });
    expect(dup.status).toBe(422);
    const foreign = await request(t.app).put(`/api/v1/tenants/${w.other.slug}/contexts/${ctxId}/members`).set(bearer(w.other.lms)).send({ members: [] });
    expect(foreign.status).toBe(404);
    expect(foreign.body.ruleIds).toEqual(['ACC-04']);
    const crossSlug = await request(t.app).get(`/api/v1/tenants/${w.slug}/users?issuer=x&subject=y`).set(bearer(w.other.lms));
    expect(crossSlug.status).toBe(404);
    const dpo = await request(t.app).put(`/api/v1/tenants/${w.slug}/contexts`).set(bearer(w.dpoToken)).send({ issuer: 'https://m.test', externalId: '8' });
    expect(dpo.status).toBe(403);
    const missing = await request(t.app).get(`/api/v1/tenants/${w.slug}/users?issuer=https://m.test&subject=nobody`).set(bearer(w.lms));
    expect(missing.status).toBe(404);
  });
});
