/**
 * The whole service as Moodle and BigBlueButton see it: launches from a
 * Moodle-shaped platform land on the course page (framed only by that Moodle),
 * the teacher creates and starts a room, the pupil joins as VIEWER, the teacher
 * ends it for everyone and the meeting's secrets are gone (VC-01, VC-03, VC-10).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { createTenant } from '../harness/people.js';
import { startBbbServer, type BbbTestServer } from '../support/bbb-server.js';
import { Browser, LtiPlatform } from '../support/lti-platform.js';

const field = (page: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1];

describeWithDatabases('Moodle launch → room on BigBlueButton, through every module', (use) => {
  let t: TestApp;
  let server: Server;
  let toolUrl: string;
  let moodle: LtiPlatform;
  let bbb: BbbTestServer;

  beforeAll(async () => {
    t = await createTestApp(use());
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    toolUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    moodle = await new LtiPlatform({ now: () => t.clock.now(), toolJwksUrl: `${toolUrl}/lti/keys` }).start();
    bbb = await startBbbServer();
    const tenant = await createTenant(t, 'gs-e2e', { consentRequired: false });
    await request(t.app).post('/api/v1/tenants/gs-e2e/platforms').set(t.auth(tenant.adminToken)).send(moodle.registration()).expect(201);
    await request(t.app).put('/api/v1/tenants/gs-e2e/backends/bbb').set(t.auth(tenant.adminToken)).send({ kind: 'bbb', baseUrl: bbb.baseUrl, secret: bbb.secret }).expect(200);
    moodle.pending.set('3', { fixture: 'launch-teacher' });
    moodle.pending.set('4', { fixture: 'launch-student' });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await moodle.stop();
    await bbb.close();
    await t.ctx.audit.close();
  });

  /** Opens a page, accepts the usage rules if asked (VC-13), and returns the page's HTML. */
  async function open(b: Browser, path: string): Promise<string> {
    let res = await b.request('GET', path);
    expect(res.status).toBe(200);
    let page = await res.text();
    if (page.includes('id="accept-rules"')) {
      res = await b.request('POST', `${path}/rules`, { csrf: field(page, 'csrf')!, version: field(page, 'version')!, accept: 'yes' });
      expect(res.status).toBe(303);
      page = await (await b.request('GET', path)).text();
    }
    return page;
  }

  test('teacher starts, pupil joins as VIEWER, teacher ends for everyone; pages are framed only by this Moodle', async () => {
    const teacher = new Browser(toolUrl);
    const landing = await teacher.launch(moodle, moodle.loginInitiation('launch-teacher'));
    expect(landing.status).toBe(303);
    const coursePath = landing.headers.get('location')!;
    expect(coursePath).toMatch(/^\/contexts\/[0-9a-f-]{36}$/);
    const course = await teacher.request('GET', coursePath);
    expect(course.status).toBe(200);
    expect(course.headers.get('content-security-policy')).toContain(`frame-ancestors ${moodle.issuer}`);
    const coursePage = await course.text();

    const created = await teacher.request('POST', `${coursePath}/rooms`, { csrf: field(coursePage, 'csrf')!, title: 'Mathe 7a – Wochenplan', category: 'lesson', backend: 'bbb' });
    expect(created.status).toBe(303);
    const roomPath = created.headers.get('location')!.split('?')[0]!;
    let teacherPage = await open(teacher, roomPath);
    const started = await teacher.request('POST', `${roomPath}/start`, { csrf: field(teacherPage, 'csrf')! });
    expect(started.status).toBe(303);
    const create = bbb.calls.find((c) => c.call === 'create')!;
    expect(create.params).toMatchObject({ record: 'false', muteOnStart: 'true', guestPolicy: 'ASK_MODERATOR', endWhenNoModerator: 'true' });
    // VC-12: the room's title is the meeting's name; ids are random and nobody's name is in the create call.
    expect(create.params.meetingID).toMatch(/^[0-9a-f]{32,}$/);
    expect(JSON.stringify(create.params)).not.toMatch(/Lena|Lehrer|lehrer1|@/);

    const pupil = new Browser(toolUrl);
    expect((await pupil.launch(moodle, moodle.loginInitiation('launch-student'))).headers.get('location')).toBe(coursePath);
    const pupilPage = await open(pupil, roomPath);
    expect(pupilPage).not.toContain(`${roomPath}/start`);
    const joined = await pupil.request('POST', `${roomPath}/join`, { csrf: field(pupilPage, 'csrf')! });
    expect(joined.status).toBe(303);
    const joinUrl = new URL(joined.headers.get('location')!);
    expect(joinUrl.origin).toBe(new URL(bbb.baseUrl).origin);
    expect(joinUrl.searchParams.get('role')).toBe('VIEWER');
    expect(joinUrl.searchParams.get('fullName')).toBe('Sam Schueler');
    expect((await fetch(joinUrl)).status).toBeLessThan(400);

    teacherPage = await open(teacher, roomPath);
    expect((await teacher.request('POST', `${roomPath}/end`, { csrf: field(teacherPage, 'csrf')! })).status).toBe(303);
    const roomId = roomPath.split('/').pop()!;
    const room = await t.ctx.db.selectFrom('rooms').selectAll().where('id', '=', roomId).executeTakeFirstOrThrow();
    expect(room.state).toBe('ended');
    expect(JSON.stringify(room)).not.toContain(create.params.meetingID!);
    expect(bbb.meetings.has(create.params.meetingID!)).toBe(false);
    expect(bbb.calls.find((c) => c.call === 'join')?.params).toMatchObject({ role: 'VIEWER', guest: 'false' });
    expect(bbb.calls.some((c) => c.call === 'end' && c.params.meetingID === create.params.meetingID)).toBe(true);
  });
});
