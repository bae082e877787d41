import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { createTenant, createToken, type TestTenant } from '../harness/people.js';
import { Browser, formAction, formFields, LtiPlatform } from '../support/lti-platform.js';
import { syncRoster } from '../../lti/nrps.js';

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';

describeWithDatabases('LTI services: dynamic registration, deep linking, names and roles', (use) => {
  let t: TestApp;
  let server: Server;
  let toolUrl: string;
  let moodle: LtiPlatform;
  let tenant: TestTenant;

  beforeAll(async () => {
    t = await createTestApp(use());
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    toolUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    moodle = await new LtiPlatform({ now: () => t.clock.now(), toolJwksUrl: `${toolUrl}/lti/keys` }).start();
    tenant = await createTenant(t, 'gs-nord');
    moodle.pending.set('3', { fixture: 'deep-linking-teacher' });
    moodle.pending.set('4', { fixture: 'launch-student' });
    const backend = await request(t.app)
      .put('/api/v1/tenants/gs-nord/backends/bbb1')
      .set(t.auth(tenant.adminToken))
      .send({ kind: 'bbb', baseUrl: 'https://bbb.example.org/bigbluebutton', secret: 'x'.repeat(32) });
    expect([200, 201]).toContain(backend.status);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await moodle.stop();
    await t.ctx.audit.close();
  });

  test('dynamic registration as Moodle does it: one-time per-tenant URL, names only, platform inactive until activated', async () => {
    const auth = t.auth(tenant.adminToken);
    const urlRes = await request(t.app).get('/api/v1/tenants/gs-nord/lti/registration-url').set(auth);
    expect(urlRes.status).toBe(200);
    const url = new URL(urlRes.body.url);
    expect(url.pathname).toBe('/lti/register');
    const token = await moodle.newRegistrationToken('6ZlFRIi4T4fvltm');
    url.searchParams.set('openid_configuration', `${moodle.issuer}/.well-known/openid-configuration`);
    url.searchParams.set('registration_token', token);
    const b = new Browser(toolUrl);
    const res = await b.request('GET', url.toString());
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('Registrierung abgeschlossen');
    expect(page).toContain('/assets/lti-register-close.js');
    expect(page).not.toMatch(/<script>(?!<\/script>)/); // no inline script

    const sent = moodle.registrations[0]!;
    const config = sent['https://purl.imsglobal.org/spec/lti-tool-configuration'] as { claims: string[] };
    expect(config.claims).not.toContain('email');
    expect(sent).toMatchObject({ initiate_login_uri: 'https://bridge.test/lti/login', redirect_uris: ['https://bridge.test/lti/launch'], jwks_uri: 'https://bridge.test/lti/keys' });

    const list = await request(t.app).get('/api/v1/tenants/gs-nord/platforms').set(auth);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ issuer: moodle.issuer, clientId: '6ZlFRIi4T4fvltm', deploymentIds: ['2'], active: false, registeredBy: 'dynamic' });

    // The URL is spent.
    const again = await b.request('GET', url.toString());
    expect(again.status).toBe(403);
    expect(moodle.registrations).toHaveLength(1);

    // Launch is refused until an admin activates it.
    moodle.clientId = '6ZlFRIi4T4fvltm';
    moodle.deploymentId = '2';
    expect((await b.launch(moodle, moodle.loginInitiation('launch-student'))).status).toBe(403);
    const id = list.body.items[0].id;
    expect((await request(t.app).patch(`/api/v1/tenants/gs-nord/platforms/${id}`).set(auth).send({ active: true })).body.active).toBe(true);
    expect((await new Browser(toolUrl).launch(moodle, moodle.loginInitiation('launch-student'))).status).toBe(303);
    const audit = await t.ctx.db.selectFrom('admin_log').select(['action', 'actor']).where('action', 'like', 'lti.platform.%').execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['lti.platform.activate', 'lti.platform.register']);
    const issued = await t.ctx.db.selectFrom('admin_log').select('action').where('action', '=', 'lti.registration-url.create').execute();
    expect(issued).toHaveLength(1);
  });

  test('a tenant with autoActivatePlatforms gets the platform active at once; an expired URL is refused', async () => {
    const second = await createTenant(t, 'rs-sued', { identity: { autoActivatePlatforms: true } });
    const other = await new LtiPlatform({ now: () => t.clock.now() }).start();
    try {
      const urlRes = await request(t.app).get('/api/v1/tenants/rs-sued/lti/registration-url').set(t.auth(second.adminToken));
      const expired = await request(t.app).get('/api/v1/tenants/rs-sued/lti/registration-url').set(t.auth(second.adminToken));
      const url = new URL(urlRes.body.url);
      url.searchParams.set('openid_configuration', `${other.issuer}/.well-known/openid-configuration`);
      url.searchParams.set('registration_token', await other.newRegistrationToken());
      expect((await new Browser(toolUrl).request('GET', url.toString())).status).toBe(200);
      const items = (await request(t.app).get('/api/v1/tenants/rs-sued/platforms').set(t.auth(second.adminToken))).body.items;
      expect(items).toHaveLength(1);
      expect(items[0].active).toBe(true);
      // ACC-04: it landed in rs-sued, not in gs-nord.
      expect((await request(t.app).get('/api/v1/tenants/gs-nord/platforms').set(t.auth(tenant.adminToken))).body.items.map((p: { issuer: string }) => p.issuer)).not.toContain(other.issuer);

      t.clock.advance(25 * 3600_000);
      const late = new URL(expired.body.url);
      late.searchParams.set('openid_configuration', `${other.issuer}/.well-known/openid-configuration`);
      late.searchParams.set('registration_token', await other.newRegistrationToken());
      expect((await new Browser(toolUrl).request('GET', late.toString())).status).toBe(403);
    } finally {
      await other.stop();
    }
  });

  test('deep linking: a teacher creates a room in a German form and Moodle receives a signed ltiResourceLink with room=<id> (VC-09 purpose)', async () => {
    const auth = t.auth(tenant.adminToken);
    const b = new Browser(toolUrl);
    const launch = await b.launch(moodle, moodle.loginInitiation('deep-linking-teacher'));
    expect(launch.status).toBe(303);
    expect(launch.headers.get('location')).toBe('/lti/deep-link');
    const formPage = await b.request('GET', '/lti/deep-link');
    expect(formPage.status).toBe(200);
    const htmlText = await formPage.text();
    expect(htmlText).toContain('Konferenzraum anlegen');
    expect(htmlText).toContain('<label for="title">Titel</label>');
    expect(htmlText).toContain('value="bbb1"');
    expect(formPage.headers.get('content-security-policy')).toContain(`frame-ancestors ${moodle.issuer}`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(htmlText)![1]!;

    const noPurpose = await b.request('POST', '/lti/deep-link', { csrf, title: 'Dienstbesprechung', backend: 'bbb1', category: 'staff' });
    expect(noPurpose.status).toBe(422);
    expect(await noPurpose.text()).toContain('VC-09');
    const badCsrf = await b.request('POST', '/lti/deep-link', { csrf: 'nope', title: 'X', backend: 'bbb1', category: 'lesson' });
    expect(badCsrf.status).toBe(403);

    const created = await b.request('POST', '/lti/deep-link', { csrf, title: 'Mathe-Sprechstunde', backend: 'bbb1', category: 'lesson' });
    expect(created.status).toBe(200);
    const answer = await created.text();
    expect(answer).toContain('/assets/lti-autosubmit.js');
    expect(answer).not.toMatch(/<script>/);
    expect(created.headers.get('content-security-policy')).toMatch(new RegExp(`form-action 'self' ${moodle.issuer.replace(/[.]/g, '\\.')}`));
    const room = await t.ctx.db.selectFrom('rooms').selectAll().where('title', '=', 'Mathe-Sprechstunde').executeTakeFirstOrThrow();
    expect(room).toMatchObject({ tenant_id: tenant.id, category: 'lesson', backend: 'bbb1' });

    const toPlatform = await fetch(formAction(answer)!, { method: 'POST', body: new URLSearchParams(formFields(answer)) });
    expect(moodle.lastError).toBe('');
    expect(toPlatform.status).toBe(200); // the platform verified our signature against /lti/keys
    const items = moodle.deepLinkAnswers.at(-1)!['https://purl.imsglobal.org/spec/lti-dl/claim/content_items'] as Array<Record<string, unknown>>;
    expect(items).toEqual([{ type: 'ltiResourceLink', title: 'Mathe-Sprechstunde', custom: { room: room.id } }]);
    expect(moodle.deepLinkAnswers.at(-1)!['https://purl.imsglobal.org/spec/lti/claim/deployment_id']).toBe(moodle.deploymentId);

    // The room link later lands on the room page.
    moodle.pending.set('4', { fixture: 'launch-student', edit: (c) => void ((c['https://purl.imsglobal.org/spec/lti/claim/custom'] as Record<string, string>).room = room.id) });
    expect((await new Browser(toolUrl).launch(moodle, moodle.loginInitiation('launch-student'))).headers.get('location')).toBe(`/rooms/${room.id}`);
    moodle.pending.set('4', { fixture: 'launch-student' });
    void auth;
  });

  test('VC-03: a pupil in a deep-linking launch cannot create rooms', async () => {
    moodle.pending.set('4', { fixture: 'deep-linking-teacher', edit: (c) => Object.assign(c, { sub: '4', 'https://purl.imsglobal.org/spec/lti/claim/roles': [`${LIS}membership#Learner`] }) });
    const b = new Browser(toolUrl);
    expect((await b.launch(moodle, moodle.loginInitiation('deep-linking-teacher', { login_hint: '4' }))).status).toBe(303);
    const page = await b.request('GET', '/lti/deep-link');
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('VC-03');
    moodle.pending.set('4', { fixture: 'launch-student' });
  });

  test('names and roles: client-credentials token with a signed assertion, all pages along Link headers, memberships from nrps', async () => {
    // A launch tells the bridge where the course's roster is.
    moodle.pending.set('3', { fixture: 'launch-teacher' });
    expect((await new Browser(toolUrl).launch(moodle, moodle.loginInitiation('launch-teacher', { login_hint: '3' }))).status).toBe(303);
    const context = await t.ctx.db.selectFrom('contexts').select('id').where('tenant_id', '=', tenant.id).where('external_id', '=', '2').executeTakeFirstOrThrow();
    moodle.pageSize = 2;
    moodle.members.set('2', [
      { user_id: '3', roles: [`${LIS}membership#Instructor`], name: 'Lena Lehrer', status: 'Active' },
      { user_id: '4', roles: [`${LIS}membership#Learner`], name: 'Sam Schüler', status: 'Active' },
      { user_id: '5', roles: [`${LIS}membership#Learner`], name: 'Alex Schüler', status: 'Active' },
      { user_id: '6', roles: [`${LIS}membership#Learner`], status: 'Active' },
      { user_id: '7', roles: [`${LIS}membership#Learner`], name: 'Weg Gegangen', status: 'Inactive' },
    ]);
    const lms = await createToken(t, 'gs-nord', ['lms']);
    const res = await request(t.app).post(`/api/v1/tenants/gs-nord/lti/contexts/${context.id}/roster-sync`).set(t.auth(lms));
    expect(moodle.lastError).toBe('');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ members: 4, removed: 0 });
    expect(moodle.tokenRequests).toBeGreaterThanOrEqual(1);
    const rows = await t.ctx.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.subject', 'users.display_name', 'memberships.roles', 'memberships.source'])
      .where('memberships.context_id', '=', context.id)
      .orderBy('users.subject')
      .execute();
    const bySubject = Object.fromEntries(rows.map((r) => [r.subject, r]));
    expect(bySubject['5']).toMatchObject({ roles: ['student'], source: 'nrps', display_name: 'Alex Schüler' });
    expect(bySubject['6']).toMatchObject({ roles: ['student'], source: 'nrps' });
    expect(bySubject['7']).toBeUndefined();
    expect(bySubject['3']!.source).toBe('launch'); // the launch's own evidence is kept

    // Someone leaves the course: the next sync removes their roster membership.
    moodle.members.set('2', moodle.members.get('2')!.filter((m) => m.user_id !== '5'));
    expect(await syncRoster(t.ctx, tenant.id, context.id)).toEqual({ members: 3, removed: 1 });

    // Another tenant's token cannot trigger it (ACC-04); a pupil's page request is refused (VC-03).
    const stranger = await createTenant(t, 'gy-west');
    expect((await request(t.app).post(`/api/v1/tenants/gs-nord/lti/contexts/${context.id}/roster-sync`).set(t.auth(stranger.adminToken))).status).toBe(404);
    const pupil = new Browser(toolUrl);
    await pupil.launch(moodle, moodle.loginInitiation('launch-student'));
    const refused = await pupil.request('POST', '/lti/roster-sync', { csrf: 'x' });
    expect(refused.status).toBe(403);
  });
});
