/** Grid writes: idempotent upserts, batches all or nothing, self-assessment, RET-08, Art. 18 restrictions (DSR-03). */
import request from 'supertest';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { bearer, buildWorld, gridBody, putGrid, type World } from './world.js';

describeWithDatabases('competency grids', (use) => {
  let t: TestApp;
  let w: World;
  const url = (path: string, person: string, ctx?: string) => `/api/v1/tenants/${w.slug}/contexts/${ctx ?? w.c1}/${path}${path.includes('?') ? '&' : '?'}onBehalfOf=${person}`;
  const count = async (table: 'competency_grids' | 'competency_items') =>
    Number((await t.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', w.tenantId).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    t = await createTestApp(use());
    w = await buildWorld(t, 'gs-grids');
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  test('PUT is idempotent: the same grid twice is one grid, assessor and time stay unless the level changes', async () => {
    const teacher = w.people.teacher.userId;
    const first = await putGrid(t, w, teacher, gridBody(w.people.pupil.userId, 'deutsch-7', 4));
    expect(first.status).toBe(200);
    expect(first.body.created).toBe(true);
    expect(first.body.gradingScheme).toEqual(['nicht erreicht', 'teilweise erreicht', 'erreicht', 'übertroffen']);
    expect(first.body.items[1].teacherAssessment).toMatchObject({ level: 1, label: 'teilweise erreicht', assessorId: teacher, assessedAt: '2026-11-22T08:00:00.000Z' });

    t.clock.advance(60_000);
    const again = await putGrid(t, w, w.people.teacherSameContextNotResponsible.userId, gridBody(w.people.pupil.userId, 'deutsch-7', 4));
    expect(again.body.created).toBe(false);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.items[1].teacherAssessment).toMatchObject({ assessorId: teacher, assessedAt: '2026-11-22T08:00:00.000Z' });

    const changed = gridBody(w.people.pupil.userId, 'deutsch-7', 3);
    changed.items[1]!.teacherAssessment = 3;
    const third = await putGrid(t, w, w.people.teacherSameContextNotResponsible.userId, changed);
    expect(third.body.items).toHaveLength(3); // k4 not named → removed (PUT = full item set)
    expect(third.body.items[1].teacherAssessment).toMatchObject({ level: 3, assessorId: w.people.teacherSameContextNotResponsible.userId, assessedAt: '2026-11-22T08:01:00.000Z' });
    expect(third.body.items[0].teacherAssessment.assessorId).toBe(teacher);
  });

  test('validation: unknown level, duplicate competency, a pupil who is not in the course → 422, nothing written', async () => {
    const before = await count('competency_items');
    const badLevel = gridBody(w.people.pupil.userId, 'bio', 2);
    badLevel.items[0]!.teacherAssessment = 4;
    const r1 = await putGrid(t, w, w.people.teacher.userId, badLevel);
    expect(r1.status).toBe(422);
    expect(r1.body.errors[0]).toMatchObject({ field: 'items.0.teacherAssessment' });
    const dup = gridBody(w.people.pupil.userId, 'bio', 2);
    dup.items[1]!.competencyId = 'k1';
    expect((await putGrid(t, w, w.people.teacher.userId, dup)).status).toBe(422);
    const outsider = await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupilOther.userId, 'bio', 2));
    expect(outsider.status).toBe(422);
    expect(outsider.body.errors[0].field).toBe('pupilId');
    const teacherAsPupil = await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.teacherSameContextNotResponsible.userId, 'bio', 2));
    expect(teacherAsPupil.status).toBe(422);
    expect(await count('competency_items')).toBe(before);
  });

  test('batch: all or nothing; the failing entry is named by index and reason', async () => {
    const grids = await count('competency_grids');
    const entries = [gridBody(w.people.pupil.userId, 'batch-a'), gridBody(w.people.pupilSameGroup.userId, 'batch-a'), gridBody(w.people.pupilOther.userId, 'batch-a')];
    const res = await request(t.app).put(url('grids/batch', w.people.teacher.userId)).set(bearer(w.lms)).send({ grids: entries });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ type: 'urn:schulbruecke:problem:batch-item-failed', index: 2, item: { status: 422, errors: [{ field: 'pupilId' }] } });
    expect(res.body.detail).toContain('Eintrag 2');
    expect(await count('competency_grids')).toBe(grids);

    const invalid = [gridBody(w.people.pupil.userId, 'batch-a'), { ...gridBody(w.people.pupilSameGroup.userId, 'batch-a'), items: [{ competencyId: 'x y', title: '' }] }];
    const res2 = await request(t.app).put(url('grids/batch', w.people.teacher.userId)).set(bearer(w.lms)).send({ grids: invalid });
    expect(res2.status).toBe(422);
    expect(res2.body.index).toBe(1);
    expect(res2.body.item.errors.map((e: { field: string }) => e.field).sort()).toEqual(['items.0.competencyId', 'items.0.title']);
    expect(await count('competency_grids')).toBe(grids);

    const ok = await request(t.app).put(url('grids/batch', w.people.teacher.userId)).set(bearer(w.lms)).send({ grids: entries.slice(0, 2) });
    expect(ok.status).toBe(200);
    expect(ok.body.results.map((r: { index: number; created: boolean }) => [r.index, r.created])).toEqual([[0, true], [1, true]]);
    const repeat = await request(t.app).put(url('grids/batch', w.people.teacher.userId)).set(bearer(w.lms)).send({ grids: entries.slice(0, 2) });
    expect(repeat.body.results.map((r: { created: boolean }) => r.created)).toEqual([false, false]);
    expect(await count('competency_grids')).toBe(grids + 2);
  });

  test('batch: a refusal by the rules aborts the batch too and names the rule (ACC-01)', async () => {
    const grids = await count('competency_grids');
    const res = await request(t.app).put(url('grids/batch', w.people.pupil.userId)).set(bearer(w.lms)).send({ grids: [gridBody(w.people.pupil.userId, 'batch-b')] });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ index: 0, ruleIds: ['ACC-01'], item: { status: 403, ruleIds: ['ACC-01'] } });
    expect(await count('competency_grids')).toBe(grids);
  });

  test('ACC-01: the class overview (pupils × competencies) is for the teachers of the context only', async () => {
    await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupil.userId, 'overview', 5));
    await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupilSameGroup.userId, 'overview', 5));
    const res = await request(t.app).get(url('grids/overview?framework=overview', w.people.teacher.userId)).set(bearer(w.lms));
    expect(res.status).toBe(200);
    expect(res.body.competencies.map((c: { competencyId: string }) => c.competencyId)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
    expect(res.body.pupils).toHaveLength(2);
    expect(res.body.pupils[0].levels.k2).toEqual({ teacher: 1, self: null });
    expect((await request(t.app).get(url('grids/overview?framework=overview', w.people.pupil.userId)).set(bearer(w.lms))).status).toBe(404);
    expect((await request(t.app).get(url('grids/overview?framework=overview', w.people.teacherOther.userId)).set(bearer(w.lms))).status).toBe(403);
    const list = await request(t.app).get(url('grids', w.people.pupil.userId)).set(bearer(w.lms));
    expect(list.body.items.every((g: { pupilId: string }) => g.pupilId === w.people.pupil.userId)).toBe(true);
    expect(list.body.items.length).toBeGreaterThan(0);
  });

  test('self-assessment: the pupil only, where the tenant allows it; a teacher cannot set it, not even inside a PUT', async () => {
    const grid = (await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupil.userId, 'self', 2))).body;
    const own = await request(t.app).put(url(`grids/${grid.id}/items/k1/self-assessment`, w.people.pupil.userId)).set(bearer(w.lms)).send({ level: 2 });
    expect(own.status).toBe(204);
    const teacher = await request(t.app).put(url(`grids/${grid.id}/items/k1/self-assessment`, w.people.teacher.userId)).set(bearer(w.lms)).send({ level: 0 });
    expect(teacher.status).toBe(403);
    expect(teacher.body.ruleIds).toEqual(['ACC-01']);
    const classmate = await request(t.app).put(url(`grids/${grid.id}/items/k1/self-assessment`, w.people.pupilSameGroup.userId)).set(bearer(w.lms)).send({ level: 0 });
    expect(classmate.status).toBe(404);
    const sneaky = gridBody(w.people.pupil.userId, 'self', 2) as ReturnType<typeof gridBody> & { items: { selfAssessment?: number }[] };
    sneaky.items[0]!.selfAssessment = 0;
    expect((await putGrid(t, w, w.people.teacher.userId, sneaky)).status).toBe(403);
    sneaky.items[0]!.selfAssessment = 2; // unchanged copy from the LMS is fine
    expect((await putGrid(t, w, w.people.teacher.userId, sneaky)).status).toBe(200);
    const read = await request(t.app).get(url(`grids/${grid.id}`, w.people.pupil.userId)).set(bearer(w.lms));
    expect(read.body.items[0].selfAssessment).toMatchObject({ level: 2, label: 'erreicht' });

    await request(t.app).patch(`/api/v1/tenants/${w.slug}`).set(bearer(w.adminToken)).send({ settings: { competency: { selfAssessment: false } } });
    const off = await request(t.app).put(url(`grids/${grid.id}/items/k1/self-assessment`, w.people.pupil.userId)).set(bearer(w.lms)).send({ level: 1 });
    expect(off.status).toBe(403);
    expect(off.body.type).toBe('urn:schulbruecke:problem:policy-denied');
    const page = await request(t.app).get(`/contexts/${w.c1}/grids`).set('Cookie', w.people.pupil.cookie);
    expect(page.text).not.toContain('Selbsteinschätzung speichern');
    await request(t.app).patch(`/api/v1/tenants/${w.slug}`).set(bearer(w.adminToken)).send({ settings: { competency: { selfAssessment: null } } });
  });

  test('RET-08: the pupil may delete their grid once the standard is reached — through the LMS and on "Mein Kompetenzraster"', async () => {
    const a = (await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupil.userId, 'ret8-a', 2))).body;
    const early = await request(t.app).delete(url(`grids/${a.id}`, w.people.pupil.userId)).set(bearer(w.lms));
    expect(early.status).toBe(409);
    expect(early.body.ruleIds).toEqual(['RET-08']);
    await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupil.userId, 'ret8-a', 2, { standardReachedAt: '2026-11-01T10:00:00Z' }));
    expect((await request(t.app).delete(url(`grids/${a.id}`, w.people.pupil.userId)).set(bearer(w.lms))).status).toBe(204);
    expect(await t.ctx.db.selectFrom('competency_items').select('grid_id').where('grid_id', '=', a.id).execute()).toEqual([]);

    const b = (await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupil.userId, 'ret8-b', 2, { standardReachedAt: '2026-11-01T10:00:00Z' }))).body;
    const page = await request(t.app).get(`/contexts/${w.c1}/grids`).set('Cookie', w.people.pupil.cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Mein Kompetenzraster');
    expect(page.text).toContain(`action="/contexts/${w.c1}/grids/${b.id}/delete"`);
    expect(page.text).toContain('Raster löschen');
    expect(page.text).not.toContain(`/grids/${a.id}/delete`);
    expect(page.text).not.toMatch(/<script>|style="/);
    const unconfirmed = await request(t.app).post(`/contexts/${w.c1}/grids/${b.id}/delete`).set('Cookie', w.people.pupil.cookie).type('form').send({ csrf: w.people.pupil.csrf });
    expect(unconfirmed.status).toBe(400);
    const done = await request(t.app).post(`/contexts/${w.c1}/grids/${b.id}/delete`).set('Cookie', w.people.pupil.cookie).type('form').send({ csrf: w.people.pupil.csrf, confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe(`/contexts/${w.c1}/grids?deleted=1`);
    expect(await t.ctx.db.selectFrom('competency_grids').select('id').where('id', '=', b.id).executeTakeFirst()).toBeUndefined();
  });

  test('pages: pupil saves a self-assessment; the teacher sees the class overview and assesses with assessor and time', async () => {
    const g = (await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupil.userId, 'pages', 2))).body;
    const saved = await request(t.app).post(`/contexts/${w.c1}/grids/${g.id}/self-assessment`).set('Cookie', w.people.pupil.cookie).type('form').send({ csrf: w.people.pupil.csrf, 'level.k2': '3' });
    expect(saved.status).toBe(303);
    const overview = await request(t.app).get(`/contexts/${w.c1}/grids?framework=pages`).set('Cookie', w.people.teacher.cookie);
    expect(overview.status).toBe(200);
    expect(overview.text).toContain('Klassenübersicht');
    expect(overview.text).toContain('Paula Pupil');
    expect(overview.text).toContain('(übertroffen)');
    const en = await request(t.app).get(`/contexts/${w.c1}/grids?framework=pages&lang=en`).set('Cookie', w.people.teacher.cookie);
    expect(en.text).toContain('class overview');
    t.clock.advance(5 * 60_000);
    const assessed = await request(t.app)
      .post(`/contexts/${w.c1}/grids/${g.id}/assessments`)
      .set('Cookie', w.people.teacherSameContextNotResponsible.cookie)
      .type('form')
      .send({ csrf: w.people.teacherSameContextNotResponsible.csrf, 'level.k1': '2', 'level.k2': '1', 'evidence.k1': 'Lerntagebuch S. 4', standardReached: 'yes' });
    expect(assessed.status).toBe(303);
    const read = await request(t.app).get(url(`grids/${g.id}`, w.people.teacher.userId)).set(bearer(w.lms));
    expect(read.body.items[0]).toMatchObject({ evidence: 'Lerntagebuch S. 4', teacherAssessment: { level: 2, assessorId: w.people.teacherSameContextNotResponsible.userId } });
    expect(read.body.items[1].teacherAssessment.assessorId).toBe(w.people.teacher.userId); // unchanged level keeps its assessor
    expect(read.body.items[1].selfAssessment.level).toBe(3);
    expect(read.body.standardReachedAt).not.toBeNull();
  });

  test('DSR-03: a restricted pupil\'s grids are hidden from everyone and cannot be changed', async () => {
    const g = (await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupilSameGroup.userId, 'restricted', 2))).body;
    await t.ctx.db.insertInto('privacy_restrictions').values({ tenant_id: w.tenantId, user_id: w.people.pupilSameGroup.userId, category: 'competency.grids', since: t.clock.now() }).execute();
    const read = await request(t.app).get(url(`grids/${g.id}`, w.people.teacher.userId)).set(bearer(w.lms));
    expect(read.status).toBe(404);
    expect(read.body.ruleIds).toEqual(['DSR-03']);
    const own = await request(t.app).get(url(`grids/${g.id}`, w.people.pupilSameGroup.userId)).set(bearer(w.lms));
    expect(own.status).toBe(404);
    const write = await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupilSameGroup.userId, 'restricted', 2));
    expect(write.status).toBe(423);
    expect(write.body).toMatchObject({ type: 'urn:schulbruecke:problem:restricted', ruleIds: ['DSR-03'] });
    const del = await request(t.app).delete(url(`grids/${g.id}`, w.people.teacher.userId)).set(bearer(w.lms));
    expect(del.status).toBe(423);
    const overview = await request(t.app).get(url('grids/overview?framework=overview', w.people.teacher.userId)).set(bearer(w.lms));
    expect(overview.body.pupils.map((p: { pupilId: string }) => p.pupilId)).toEqual([w.people.pupil.userId]);
    const list = await request(t.app).get(url('grids', w.people.teacher.userId)).set(bearer(w.lms));
    expect(list.body.items.some((x: { pupilId: string }) => x.pupilId === w.people.pupilSameGroup.userId)).toBe(false);
    await t.ctx.db.updateTable('privacy_restrictions').set({ lifted_at: t.clock.now() }).where('user_id', '=', w.people.pupilSameGroup.userId).execute();
    expect((await request(t.app).get(url(`grids/${g.id}`, w.people.teacher.userId)).set(bearer(w.lms))).status).toBe(200);
  });
});
