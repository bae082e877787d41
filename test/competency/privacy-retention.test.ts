/** RET-08, RET-09 as retention categories; the privacy provider: export everything, erase grids, keep and restrict an LEB before its RET-09 date (DSR-03). */
import request from 'supertest';
import { createCompetencyPrivacy, gridRetention, lebRetention } from '../../src/competency/index.js';
import { eraseSubject } from '../../src/privacy/registry.js';
import { DAY } from '../../src/shared/clock.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { bearer, buildWorld, gridBody, lebBody, putGrid, putLeb, type World } from './world.js';

describeWithDatabases('competency retention and privacy', (use) => {
  let t: TestApp;
  let w: World;
  beforeAll(async () => {
    t = await createTestApp(use());
    w = await buildWorld(t, 'gs-ret', { schoolYearStart: '08-01' });
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  test('the registry knows RET-08 and RET-09, and the provider describes every table with a user id', () => {
    expect(t.ctx.retention.all().map((c) => [c.ruleId, c.name])).toEqual(expect.arrayContaining([['RET-08', 'competency-grids'], ['RET-09', 'competency-lebs']]));
    const described = t.ctx.privacy.describe().filter((d) => d.category.startsWith('competency.'));
    expect(described.map((d) => `${d.table}:${d.userColumns.join(',')}`).sort()).toEqual([
      'competency_grids:pupil_id',
      'competency_items:assessed_by',
      'competency_items:pupil_id',
      'leb_teachers:teacher_id',
      'lebs:pupil_id',
    ]);
  });

  test('RET-09: an LEB goes at the end of the school year after the one in which the standard was reached', async () => {
    // now: 22 Nov 2026 (school year 2026/27) → cutoff 1 Aug 2025
    const early = (await putLeb(t, w, w.people.teacher.userId, lebBody(w, { schoolYear: '2024/25', standardReachedAt: '2025-07-31T21:00:00Z' }))).body; // 31 Jul 2025 23:00 Berlin: 2024/25 → due 1 Aug 2026
    const boundary = (await putLeb(t, w, w.people.teacher.userId, lebBody(w, { schoolYear: '2025/26', standardReachedAt: '2025-07-31T22:30:00Z' }))).body; // 1 Aug 2025 00:30 Berlin: 2025/26 → due 1 Aug 2027
    const open = (await putLeb(t, w, w.people.teacher.userId, lebBody(w, { schoolYear: '2026/27' }))).body;
    const dry = await lebRetention.run(t.ctx, { now: t.clock.now(), dryRun: true });
    const mine = dry.find((o) => o.tenantId === w.tenantId)!;
    expect(mine).toMatchObject({ deleted: 1, cutoff: new Date('2025-07-31T22:00:00Z') });
    expect(await t.ctx.db.selectFrom('lebs').select('id').where('id', '=', early.id).executeTakeFirst()).toBeTruthy();

    const run = await lebRetention.run(t.ctx, { now: t.clock.now(), dryRun: false });
    expect(run.find((o) => o.tenantId === w.tenantId)!.deleted).toBe(1);
    const left = (await t.ctx.db.selectFrom('lebs').select('id').where('tenant_id', '=', w.tenantId).execute()).map((r) => r.id).sort();
    expect(left).toEqual([boundary.id, open.id].sort());
    expect(await t.ctx.db.selectFrom('leb_teachers').select('leb_id').where('leb_id', '=', early.id).execute()).toEqual([]);

    const justBefore = await lebRetention.run(t.ctx, { now: new Date('2027-07-31T21:59:59Z'), dryRun: true });
    expect(justBefore.find((o) => o.tenantId === w.tenantId)!.deleted).toBe(0);
    const atBoundary = await lebRetention.run(t.ctx, { now: new Date('2027-07-31T22:00:00Z'), dryRun: true });
    expect(atBoundary.find((o) => o.tenantId === w.tenantId)!.deleted).toBe(1);
  });

  test('RET-09 with a custom school-year start (tenant setting)', async () => {
    await request(t.app).patch(`/api/v1/tenants/${w.slug}`).set(bearer(w.adminToken)).send({ settings: { schoolYearStart: '09-15' } });
    // With 15 Sep, 2025/26 began on 15 Sep 2025: standards reached on 1 Aug and 1 Sep 2025 belong to 2024/25
    // → due 15 Sep 2026, already past (with 1 Aug, the first would have been kept until 1 Aug 2027).
    const leb = (await putLeb(t, w, w.people.teacher.userId, lebBody(w, { schoolYear: '2023/24', standardReachedAt: '2025-09-01T10:00:00Z' }))).body;
    const later = (await putLeb(t, w, w.people.teacher.userId, lebBody(w, { schoolYear: '2022/23', standardReachedAt: '2025-09-15T10:00:00Z' }))).body; // 2025/26 → due 15 Sep 2027
    const dry = await lebRetention.run(t.ctx, { now: t.clock.now(), dryRun: true });
    expect(dry.find((o) => o.tenantId === w.tenantId)).toMatchObject({ deleted: 2, cutoff: new Date('2025-09-14T22:00:00Z') });
    await lebRetention.run(t.ctx, { now: t.clock.now(), dryRun: false });
    expect(await t.ctx.db.selectFrom('lebs').select('id').where('id', '=', leb.id).executeTakeFirst()).toBeUndefined();
    expect(await t.ctx.db.selectFrom('lebs').select('id').where('id', '=', later.id).executeTakeFirst()).toBeTruthy();
    await request(t.app).patch(`/api/v1/tenants/${w.slug}`).set(bearer(w.adminToken)).send({ settings: { schoolYearStart: null } });
  });

  test('DSR-01: export has grids, items, assessments by a teacher, LEBs and LEB responsibilities', async () => {
    const g = (await putGrid(t, w, w.people.teacher.userId, gridBody(w.people.pupil.userId, 'export', 2))).body;
    const provider = createCompetencyPrivacy(t.clock);
    const rows: { category: string; row: Record<string, unknown> }[] = [];
    for await (const r of provider.export(t.ctx.db, { tenantId: w.tenantId, userId: w.people.pupil.userId })) rows.push(r);
    const cats = rows.map((r) => r.category);
    expect(cats.filter((c) => c === 'competency.grids').length).toBeGreaterThanOrEqual(1);
    expect(rows.find((r) => r.category === 'competency.items' && r.row.gridId === g.id)).toBeTruthy();
    expect(rows.filter((r) => r.category === 'competency.lebs').length).toBe(2); // 2026/27 (open) and 2022/23 (due 2027)
    const teacherRows: { category: string; row: Record<string, unknown> }[] = [];
    for await (const r of provider.export(t.ctx.db, { tenantId: w.tenantId, userId: w.people.teacher.userId })) teacherRows.push(r);
    expect(teacherRows.filter((r) => r.category === 'competency.assessor').length).toBeGreaterThanOrEqual(1);
    expect(teacherRows.filter((r) => r.category === 'competency.leb_teachers').length).toBe(2);
    expect(teacherRows.some((r) => r.category === 'competency.lebs')).toBe(false);
  });

  test('DSR-03 / RET-08: erasure deletes grids, keeps an LEB before its RET-09 date restricted, and hides it', async () => {
    const pupil = w.people.pupil.userId;
    const lebs = await t.ctx.db.selectFrom('lebs').select(['id', 'standard_reached_at']).where('pupil_id', '=', pupil).execute();
    expect(lebs).toHaveLength(2);
    // the full registry erasure (identity included); the registered provider runs on the system clock
    const results = await t.ctx.db.transaction().execute((trx) => eraseSubject(t.ctx.privacy, trx, { tenantId: w.tenantId, userId: pupil }));
    const mine = Object.fromEntries(results.filter((r) => r.category.startsWith('competency.')).map((r) => [r.category, r]));
    expect(mine['competency.grids']!.deleted).toBeGreaterThanOrEqual(1);
    expect(mine['competency.lebs']).toMatchObject({ deleted: 0, kept: 2, keptBecause: 'RET-09' });
    expect(await t.ctx.db.selectFrom('competency_grids').select('id').where('pupil_id', '=', pupil).execute()).toEqual([]);
    expect(await t.ctx.db.selectFrom('users').select('id').where('id', '=', pupil).execute()).toEqual([]);
    const kept = await t.ctx.db.selectFrom('lebs').selectAll().where('pupil_id', '=', pupil).execute();
    expect(kept.every((l) => l.restricted_at !== null)).toBe(true);

    const read = await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${w.c1}/lebs/${kept[0]!.id}?onBehalfOf=${w.people.teacher.userId}`).set(bearer(w.lms));
    expect(read.status).toBe(404);
    expect(read.body.ruleIds).toEqual(['DSR-03']);
    const list = await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${w.c1}/lebs?onBehalfOf=${w.people.teacher.userId}`).set(bearer(w.lms));
    expect(list.body.items).toEqual([]);
    const del = await request(t.app).delete(`/api/v1/tenants/${w.slug}/contexts/${w.c1}/lebs/${kept[0]!.id}?onBehalfOf=${w.people.teacher.userId}`).set(bearer(w.lms));
    expect(del.status).toBe(423);
  });

  test('DSR-03: with the provider\'s clock past the RET-09 date, the due LEB is deleted and the other kept', async () => {
    await request(t.app).patch(`/api/v1/tenants/${w.slug}`).set(bearer(w.adminToken)).send({ settings: { schoolYearStart: null } });
    const p2 = w.people.pupilSameGroup.userId;
    await putLeb(t, w, w.people.teacher.userId, lebBody(w, { pupilId: p2, schoolYear: '2025/26', standardReachedAt: '2026-03-01T10:00:00Z' })); // due 1 Aug 2027
    await putLeb(t, w, w.people.teacher.userId, lebBody(w, { pupilId: p2, schoolYear: '2026/27' })); // no standard yet: kept
    const clock = { now: () => new Date('2027-08-02T00:00:00Z') };
    const results = await t.ctx.db.transaction().execute((trx) => createCompetencyPrivacy(clock).erase(trx, { tenantId: w.tenantId, userId: p2 }));
    expect(results.find((r) => r.category === 'competency.lebs')).toEqual({ category: 'competency.lebs', deleted: 1, kept: 1, keptBecause: 'RET-09' });
    // the teacher's erasure removes their responsibility links and their name from assessments
    const teacherResults = await t.ctx.db.transaction().execute((trx) => createCompetencyPrivacy(clock).erase(trx, { tenantId: w.tenantId, userId: w.people.teacherSameContextNotResponsible.userId }));
    expect(teacherResults.find((r) => r.category === 'competency.lebs')).toMatchObject({ deleted: 0, kept: 0 });
  });

  test('RET-08: grids of an account soft-deleted beyond the purgatory window are removed by the job', async () => {
    const p = w.people.pupilOther;
    await t.ctx.db.updateTable('memberships').set({ roles: ['student'] }).where('user_id', '=', p.userId).execute();
    const g = await putGrid(t, w, w.people.teacherOther.userId, gridBody(p.userId, 'ret8-job'), w.c2);
    expect(g.status).toBe(200);
    await t.ctx.db.updateTable('users').set({ deleted_at: new Date(t.clock.now().getTime() - 10 * DAY) }).where('id', '=', p.userId).execute();
    expect((await gridRetention.run(t.ctx, { now: t.clock.now(), dryRun: false })).find((o) => o.tenantId === w.tenantId)!.deleted).toBe(0);
    const later = new Date(t.clock.now().getTime() + 85 * DAY); // default purgatory 90 days
    expect((await gridRetention.run(t.ctx, { now: later, dryRun: true })).find((o) => o.tenantId === w.tenantId)!.deleted).toBe(1);
    expect((await gridRetention.run(t.ctx, { now: later, dryRun: false })).find((o) => o.tenantId === w.tenantId)!.deleted).toBe(1);
    expect(await t.ctx.db.selectFrom('competency_grids').select('id').where('id', '=', g.body.id).executeTakeFirst()).toBeUndefined();
  });
});
