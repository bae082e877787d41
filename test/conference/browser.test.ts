/**
 * A real browser (Debian chromium via playwright-core): the room pages inside an
 * iframe of a stand-in "Moodle" page; the teacher starts, the waiting pupil's page
 * notices by itself, the pupil joins and lands in the BBB test server's client.
 * Skips with a clear message only when /usr/bin/chromium is absent.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { chromium, type Browser } from 'playwright-core';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { createTenant, personIn, type TestPerson } from '../harness/people.js';
import { startBbbServer, type BbbTestServer } from '../support/bbb-server.js';
import { SESSION_COOKIE } from '../../src/session/index.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`SKIPPED browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const maybe = available ? describeWithDatabases : (name: string) => describe.skip(`${name} (skipped: ${CHROMIUM} missing)`, () => test('skipped', () => undefined));

const listen = async (handler: http.RequestListener) => {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};

maybe('browser: teacher starts, pupil joins, pages inside an iframe', (use) => {
  let t: TestApp;
  let bbb: BbbTestServer;
  let browser: Browser;
  let app: { server: http.Server; origin: string };
  let moodle: { server: http.Server; origin: string };
  let teacher: TestPerson;
  let pupil: TestPerson;
  let roomId: string;

  beforeAll(async () => {
    t = await createTestApp(use());
    bbb = await startBbbServer();
    const tenant = await createTenant(t, 'gs-browser', { consentRequired: false });
    await request(t.app).put('/api/v1/tenants/gs-browser/backends/bbb').set(t.auth(tenant.adminToken)).send({ kind: 'bbb', baseUrl: bbb.baseUrl, secret: bbb.secret });
    teacher = await personIn(t, tenant.id, { roles: ['teacher'], name: 'Frau Lehrerin' });
    pupil = await personIn(t, tenant.id, { roles: ['student'], name: 'Kim' });
    const created = await request(t.app).post(`/contexts/${teacher.contextId}/rooms`).set('Cookie', teacher.cookie).type('form').send({ csrf: teacher.csrf, title: 'Mathe 7a', category: 'lesson', backend: 'bbb' });
    roomId = created.headers.location!.split('/').pop()!;
    app = await listen(t.app);
    moodle = await listen((req, res) => {
      const target = new URL(req.url ?? '/', 'http://x').searchParams.get('u') ?? '/';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="de"><title>Moodle</title><iframe id="lti" title="Schulbrücke" width="900" height="700" src="${app.origin}${target}"></iframe></html>`);
    });
    // The real framing rule (lti/framing.ts): only the tenant's active platforms may frame the pages.
    await request(t.app)
      .post('/api/v1/tenants/gs-browser/platforms')
      .set(t.auth(tenant.adminToken))
      .send({ issuer: moodle.origin, clientId: 'browser-test', deploymentIds: ['1'], authEndpoint: `${moodle.origin}/auth`, tokenEndpoint: `${moodle.origin}/token`, jwksUrl: `${moodle.origin}/jwks`, name: 'Moodle (Test)' })
      .expect(201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => app?.server.close(r));
    await new Promise((r) => moodle?.server.close(r));
    await bbb?.close();
    await t?.ctx.audit.close();
  });

  const contextFor = async (p: TestPerson) => {
    const context = await browser.newContext({ locale: 'de-DE' });
    await context.addCookies([{ name: SESSION_COOKIE, value: p.cookie.split('=').slice(1).join('='), domain: '127.0.0.1', path: '/', httpOnly: true, secure: false, sameSite: 'Lax' }]);
    return context;
  };

  test('VC-03: pupil waits; teacher starts inside the iframe; pupil page notices and joins BBB as VIEWER', async () => {
    const pupilCtx = await contextFor(pupil);
    const teacherCtx = await contextFor(teacher);
    const pupilPage = await pupilCtx.newPage();
    const errors: string[] = [];
    pupilPage.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await pupilPage.goto(`${moodle.origin}/?u=/rooms/${roomId}`);
    const pupilFrame = pupilPage.frameLocator('#lti');
    await expect(pupilFrame.locator('#waiting').textContent()).resolves.toContain('Warten auf die Lehrkraft');

    const teacherPage = await teacherCtx.newPage();
    await teacherPage.goto(`${moodle.origin}/?u=/rooms/${roomId}`);
    const teacherFrame = teacherPage.frameLocator('#lti');
    await teacherFrame.locator('#start').click();
    await teacherFrame.locator('#end').waitFor({ timeout: 10_000 });
    await teacherFrame.locator('#join').click();
    await teacherFrame.locator('#bbb-client').waitFor({ timeout: 10_000 });

    // The waiting page polls /rooms/{id}/status (conference-room.js) and reloads when running.
    await pupilFrame.locator('#join').waitFor({ timeout: 15_000 });
    await pupilFrame.locator('#join').click();
    await pupilFrame.locator('#bbb-client').waitFor({ timeout: 10_000 });
    expect(await pupilFrame.locator('#bbb-user').textContent()).toBe(pupil.userId);

    const meeting = [...bbb.meetings.values()][0]!;
    expect(meeting.participants.map((p) => [p.userID, p.role])).toEqual([
      [teacher.userId, 'MODERATOR'],
      [pupil.userId, 'VIEWER'],
    ]);
    expect(errors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
    await pupilCtx.close();
    await teacherCtx.close();
  }, 60_000);
});
