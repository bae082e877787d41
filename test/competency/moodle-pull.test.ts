/** Optional pull from Moodle web services (report_competency_data_for_report), against a local server speaking the same protocol. */
import request from 'supertest';
import { levelFromMoodleGrade } from '../../src/competency/moodle.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { startMoodleWs, type MoodleWsServer } from '../support/moodle-ws.js';
import { bearer, buildWorld, type World } from './world.js';

const TOKEN = 'ws-token-0123456789abcdef';

describeWithDatabases('competency pull from Moodle web services', (use) => {
  let t: TestApp;
  let w: World;
  let moodle: MoodleWsServer;
  let contextId: string;
  let ids: Record<string, string>;
  const pull = (onBehalfOf: string, body: Record<string, unknown> = {}) =>
    request(t.app).post(`/api/v1/tenants/${w.slug}/contexts/${contextId}/grids/pull?onBehalfOf=${onBehalfOf}`).set(bearer(w.lms)).send({ moodleUrl: moodle.url, token: TOKEN, ...body });
  const gridCount = async () => Number((await t.ctx.db.selectFrom('competency_grids').select((eb) => eb.fn.countAll<number>().as('n')).where('context_id', '=', contextId).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    t = await createTestApp(use());
    w = await buildWorld(t, 'gs-pull');
    const lsm = { id: 1, idnumber: 'LS-M-7', shortname: 'Mathematik 7' };
    const lsd = { id: 2, idnumber: 'LS-D-7', shortname: 'Deutsch 7' };
    moodle = await startMoodleWs(TOKEN, [
      { id: 101, idnumber: 'M7.1', shortname: 'Brüche addieren', framework: lsm },
      { id: 102, idnumber: 'M7.2', shortname: 'Terme vereinfachen', framework: lsm },
      { id: 201, idnumber: 'D7.1', shortname: 'Erörtern', framework: lsd },
    ]);
    moodle.ratings.set(7, new Map([
      [4, new Map<number, number | null>([[101, 2], [102, null], [201, 4]])],
      [5, new Map<number, number | null>([[101, 1], [102, 3], [201, null]])],
    ]));
    contextId = (await request(t.app).put(`/api/v1/tenants/${w.slug}/contexts`).set(bearer(w.lms)).send({ issuer: moodle.url, externalId: '7', title: 'Klasse 7' })).body.id;
    const roster = await request(t.app).put(`/api/v1/tenants/${w.slug}/contexts/${contextId}/members`).set(bearer(w.lms)).send({
      members: [
        { subject: '2', displayName: 'Lehrerin', roles: ['teacher'] },
        { subject: '4', displayName: 'Schülerin Vier', roles: ['student'] },
        { subject: '5', displayName: 'Schüler Fünf', roles: ['student'] },
      ],
    });
    ids = Object.fromEntries(roster.body.members.map((m: { subject: string; userId: string }) => [m.subject, m.userId]));
  });
  afterAll(async () => {
    await moodle.close();
    await t.ctx.audit.close();
  });

  test('Moodle scale values (1-based) map onto the grading scheme (0-based)', () => {
    expect(levelFromMoodleGrade(null, 4)).toBeNull();
    expect(levelFromMoodleGrade(1, 4)).toBe(0);
    expect(levelFromMoodleGrade(4, 4)).toBe(3);
    expect(levelFromMoodleGrade(7, 4)).toBe(3);
  });

  test('ACC-01: only a teacher of the course may pull; a pupil is refused before Moodle is asked', async () => {
    const res = await pull(ids['4']!);
    expect(res.status).toBe(404);
    expect(res.body.ruleIds).toEqual(['ACC-01']);
    expect(moodle.calls).toHaveLength(0);
  });

  test('a teacher pulls: one grid per pupil and framework, ratings as teacher assessments', async () => {
    const res = await pull(ids['2']!);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ grids: 4, pupils: 2 });
    expect(moodle.calls.map((c) => [c.wsfunction, c.params.courseid, c.params.userid]).sort()).toEqual([
      ['report_competency_data_for_report', '7', '4'],
      ['report_competency_data_for_report', '7', '5'],
    ]);
    const list = await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${contextId}/grids?onBehalfOf=${ids['4']}`).set(bearer(w.lms));
    expect(list.body.items.map((g: { framework: string }) => g.framework).sort()).toEqual(['LS-D-7', 'LS-M-7']);
    const math = list.body.items.find((g: { framework: string }) => g.framework === 'LS-M-7');
    const grid = await request(t.app).get(`/api/v1/tenants/${w.slug}/contexts/${contextId}/grids/${math.id}?onBehalfOf=${ids['4']}`).set(bearer(w.lms));
    expect(grid.body.items.map((i: { competencyId: string; teacherAssessment: { level: number } | null }) => [i.competencyId, i.teacherAssessment?.level ?? null])).toEqual([['M7.1', 1], ['M7.2', null]]);
    expect(grid.body.items[0].teacherAssessment.assessorId).toBe(ids['2']);
    // pulling again is idempotent
    expect((await pull(ids['2']!)).status).toBe(200);
    expect(await gridCount()).toBe(4);
  });

  test('Moodle refuses (wrong token, pupil not enrolled there) → 502, nothing stored; the token is never logged', async () => {
    const before = await gridCount();
    const wrong = await pull(ids['2']!, { token: 'not-the-token-123' });
    expect(wrong.status).toBe(502);
    expect(wrong.body.detail).toContain('invalidtoken');
    await request(t.app).put(`/api/v1/tenants/${w.slug}/contexts/${contextId}/members`).set(bearer(w.lms)).send({ members: [{ subject: '6', displayName: 'Neu', roles: ['student'] }] });
    moodle.ratings.get(7)!.get(4)!.set(101, 4);
    const partial = await pull(ids['2']!);
    expect(partial.status).toBe(502);
    expect(await gridCount()).toBe(before);
    const stored = await t.ctx.db.selectFrom('competency_items').select('teacher_level').where('context_id', '=', contextId).where('pupil_id', '=', ids['4']!).where('competency_id', '=', 'M7.1').executeTakeFirstOrThrow();
    expect(stored.teacher_level).toBe(1); // unchanged: all or nothing
    await t.ctx.audit.flush();
    const logs = JSON.stringify([...(await t.ctx.db.selectFrom('activity_log').selectAll().execute()), ...(await t.ctx.db.selectFrom('admin_log').selectAll().execute()), ...(await t.ctx.db.selectFrom('access_log').selectAll().execute())]);
    expect(logs).not.toContain(TOKEN);
  });

  test('only the Moodle the course came from is asked (no requests to other hosts)', async () => {
    const calls = moodle.calls.length;
    const res = await pull(ids['2']!, { moodleUrl: 'http://169.254.169.254' });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].field).toBe('moodleUrl');
    expect(moodle.calls).toHaveLength(calls);
  });
});
