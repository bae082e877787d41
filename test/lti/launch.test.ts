import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { createTenant, type TestTenant } from '../harness/people.js';
import { Browser, formAction, formFields, LtiPlatform } from '../support/lti-platform.js';
import { allowPlatformFraming } from '../../lti/framing.js';
import { ltiMount } from '../../lti/routes.js';
import { completeLaunch } from '../../lti/launch.js';

const CLAIM = 'https://purl.imsglobal.org/spec/lti/claim/';

describeWithDatabases('LTI 1.3 launches from a Moodle-shaped platform', (use) => {
  let t: TestApp;
  let server: Server;
  let toolUrl: string;
  let moodle: LtiPlatform;
  let tenant: TestTenant;
  let other: TestTenant;
  let platformId: string;

  beforeAll(async () => {
    t = await createTestApp(use(), {
      mounts: [ltiMount, (app, _api, ctx) => app.get('/framed', allowPlatformFraming(ctx), (_req, res) => void res.send('ok'))],
    });
    server = t.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    toolUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    moodle = await new LtiPlatform({ now: () => t.clock.now(), toolJwksUrl: `${toolUrl}/lti/keys` }).start();
    tenant = await createTenant(t, 'gs-nord');
    other = await createTenant(t, 'rs-sued');
    const res = await request(t.app).post('/api/v1/tenants/gs-nord/platforms').set(t.auth(tenant.adminToken)).send(moodle.registration());
    expect(res.status).toBe(201);
    platformId = res.body.id;
    moodle.pending.set('3', { fixture: 'launch-teacher' });
    moodle.pending.set('4', { fixture: 'launch-student' });
    moodle.pending.set('2', { fixture: 'launch-site-admin' });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await moodle.stop();
    await t.ctx.audit.close();
  });

  const browser = () => new Browser(toolUrl);
  const count = async (table: 'users' | 'memberships' | 'sessions') => Number((await t.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const states = async () => Number((await t.ctx.db.selectFrom('lti_documents').select((eb) => eb.fn.countAll<number>().as('n')).where('collection', '=', 'state').executeTakeFirstOrThrow()).n);

  test('VC-01: a teacher launch ends on the course page with a teacher membership and a session; SEC-03 cookie flags', async () => {
    const b = browser();
    const res = await b.launch(moodle, moodle.loginInitiation('launch-teacher'));
    expect(res.status).toBe(303);
    const context = await t.ctx.db.selectFrom('contexts').selectAll().where('tenant_id', '=', tenant.id).where('external_id', '=', '2').executeTakeFirstOrThrow();
    expect(res.headers.get('location')).toBe(`/contexts/${context.id}`);
    expect(context).toMatchObject({ title: 'Mathe 7a', type: 'CourseSection', source: 'lti', issuer: moodle.issuer });
    const user = await t.ctx.db.selectFrom('users').selectAll().where('subject', '=', '3').executeTakeFirstOrThrow();
    expect(user).toMatchObject({ tenant_id: tenant.id, display_name: 'Lena Lehrer', email: null, issuer: moodle.issuer });
    const membership = await t.ctx.db.selectFrom('memberships').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(membership).toMatchObject({ roles: ['teacher'], source: 'launch', context_id: context.id });

    const cookies = res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('sb_session='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/Secure/);
    expect(session).toMatch(/SameSite=None/);
    expect(session).not.toMatch(/Max-Age|Expires/i); // SEC-03: session cookie only
    // The state cookie of the login was a session cookie too, and is cleared now.
    expect(cookies.some((c) => c.startsWith('sb_lti_state_') && /Max-Age=0/.test(c))).toBe(true);
    expect([...b.cookies.keys()].filter((k) => k.startsWith('sb_lti_state_'))).toHaveLength(0);

    await t.ctx.audit.flush();
    const log = await t.ctx.db.selectFrom('activity_log').selectAll().where('action', '=', 'lti.launch').execute();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ tenant_id: tenant.id, actor_id: user.id, outcome: 'ok' });
    expect(JSON.stringify(log)).not.toMatch(/Lena|Lehrer|lehrer1@example.com/);
  });

  test('VC-01: a nonce is single use — a second completeLaunch with the same verified claims is refused (replayed-nonce) and writes nothing', async () => {
    const platform = await t.ctx.db.selectFrom('lti_platforms').selectAll().where('id', '=', platformId).executeTakeFirstOrThrow();
    const settings = (await t.ctx.db.selectFrom('tenants').select('settings').where('id', '=', tenant.id).executeTakeFirstOrThrow()).settings;
    const claims = {
      iss: moodle.issuer,
      sub: 'nonce-test',
      nonce: `n-${Date.now()}-${Math.random()}`,
      name: 'Nina Nonce',
      [`${CLAIM}message_type`]: 'LtiResourceLinkRequest',
      [`${CLAIM}version`]: '1.3.0',
      [`${CLAIM}roles`]: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
      [`${CLAIM}resource_link`]: { id: 'r1' },
      [`${CLAIM}context`]: { id: 'nonce-course', title: 'Nonce-Kurs' },
    };
    const first = await completeLaunch(t.ctx, { platform, tenant: { settings, mapping: null }, claims });
    expect(first.roles).toEqual(['student']);
    const sessions = await count('sessions');
    await expect(completeLaunch(t.ctx, { platform, tenant: { settings, mapping: null }, claims })).rejects.toMatchObject({ status: 401, code: 'replayed-nonce' });
    expect(await count('sessions')).toBe(sessions);
    // A deleted school (no tenant read with the state) is refused before anything is written.
    await expect(completeLaunch(t.ctx, { platform, tenant: null, claims: { ...claims, nonce: `${claims.nonce}-2` } })).rejects.toMatchObject({ status: 404, code: 'unknown-tenant' });
    expect(await count('sessions')).toBe(sessions);
  });

  test('a login by POST works as by GET; a pupil becomes student; the site admin admin+teacher', async () => {
    const pupil = await browser().launch(moodle, moodle.loginInitiation('launch-student'), 'POST');
    expect(pupil.status).toBe(303);
    const admin = await browser().launch(moodle, moodle.loginInitiation('launch-site-admin'));
    expect(admin.status).toBe(303);
    const roles = await t.ctx.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.subject', 'memberships.roles'])
      .where('users.subject', 'in', ['2', '4'])
      .orderBy('users.subject')
      .execute();
    expect(roles).toEqual([
      { subject: '2', roles: ['admin', 'teacher'] },
      { subject: '4', roles: ['student'] },
    ]);
  });

  test('custom room=<id> lands on the room; view=grids on the grids; e-mail is stored only when the tenant says so', async () => {
    const room = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
    moodle.pending.set('3', { fixture: 'launch-teacher', edit: (c) => void ((c[`${CLAIM}custom`] as Record<string, string>).room = room) });
    expect((await browser().launch(moodle, moodle.loginInitiation('launch-teacher'))).headers.get('location')).toBe(`/rooms/${room}`);
    moodle.pending.set('3', { fixture: 'launch-teacher', edit: (c) => void ((c[`${CLAIM}custom`] as Record<string, string>).view = 'grids') });
    expect((await browser().launch(moodle, moodle.loginInitiation('launch-teacher'))).headers.get('location')).toMatch(/^\/contexts\/[0-9a-f-]+\/grids$/);
    moodle.pending.set('3', { fixture: 'launch-teacher' });

    await request(t.app).patch('/api/v1/tenants/gs-nord').set(t.auth()).send({ settings: { identity: { storeEmail: true } } });
    await browser().launch(moodle, moodle.loginInitiation('launch-teacher'));
    expect((await t.ctx.db.selectFrom('users').select('email').where('subject', '=', '3').executeTakeFirstOrThrow()).email).toBe('lehrer1@example.com');
    await request(t.app).patch('/api/v1/tenants/gs-nord').set(t.auth()).send({ settings: { identity: { storeEmail: false } } });
    await browser().launch(moodle, moodle.loginInitiation('launch-teacher'));
    expect((await t.ctx.db.selectFrom('users').select('email').where('subject', '=', '3').executeTakeFirstOrThrow()).email).toBeNull();
  });

  test('VC-08: a custom parameter may add a restricting role (social_work) but never a granting one (admin, leadership)', async () => {
    moodle.pending.set('4', { fixture: 'launch-student', edit: (c) => void ((c[`${CLAIM}custom`] as Record<string, string>).roles = 'social_work,admin,leadership') });
    const res = await browser().launch(moodle, moodle.loginInitiation('launch-student'));
    expect(res.status).toBe(303);
    const user = await t.ctx.db.selectFrom('users').select('id').where('subject', '=', '4').executeTakeFirstOrThrow();
    const m = await t.ctx.db.selectFrom('memberships').select('roles').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(m.roles).toEqual(['social_work', 'student']);
    await t.ctx.audit.flush();
    const entries = await t.ctx.db.selectFrom('activity_log').select(['rule_ids', 'details']).where('actor_id', '=', user.id).execute();
    expect(entries.filter((e) => e.rule_ids.includes('VC-08'))).toHaveLength(1);
    expect(entries.find((e) => e.rule_ids.includes('VC-08'))!.details).toMatchObject({ refusedCustomRoles: 2 });
    moodle.pending.set('4', { fixture: 'launch-student' });
  });

  test('unknown deployment → German error page 404, nothing stored', async () => {
    const [users, sessions, stateCount] = [await count('users'), await count('sessions'), await states()];
    const res = await browser().launch(moodle, moodle.loginInitiation('launch-teacher', { lti_deployment_id: '99' }));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('text/html');
    const page = await res.text();
    expect(page).toContain('lang="de"');
    expect(page).toContain('Deployment');
    // Deployment only named inside the id_token:
    moodle.pending.set('3', { fixture: 'launch-teacher', edit: (c) => void (c[`${CLAIM}deployment_id`] = '99') });
    const login = moodle.loginInitiation('launch-teacher');
    delete login.lti_deployment_id;
    const late = await browser().launch(moodle, login);
    expect(late.status).toBe(404);
    moodle.pending.set('3', { fixture: 'launch-teacher' });
    expect([await count('users'), await count('sessions'), await states()]).toEqual([users, sessions, stateCount]);
  });

  test('unknown platform → 404 page; inactive platform → 403 page, nothing stored', async () => {
    const unknown = await browser().launch(moodle, moodle.loginInitiation('launch-teacher', { client_id: 'someone-else' }));
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('nicht registriert');
    const sessions = await count('sessions');
    expect((await request(t.app).patch(`/api/v1/tenants/gs-nord/platforms/${platformId}`).set(t.auth(tenant.adminToken)).send({ active: false })).status).toBe(200);
    const inactive = await browser().launch(moodle, moodle.loginInitiation('launch-teacher'));
    expect(inactive.status).toBe(403);
    expect(await inactive.text()).toContain('noch nicht freigeschaltet');
    expect(await count('sessions')).toBe(sessions);
    await request(t.app).patch(`/api/v1/tenants/gs-nord/platforms/${platformId}`).set(t.auth(tenant.adminToken)).send({ active: true });
  });

  test('malformed requests get a German 400 page, never a stack trace', async () => {
    const noIss = await request(t.app).get('/lti/login?login_hint=3');
    expect(noIss.status).toBe(400);
    expect(noIss.text).toContain('unvollständig');
    const noToken = await request(t.app).post('/lti/launch').type('form').send({});
    expect(noToken.status).toBe(400);
    const garbage = await request(t.app).post('/lti/launch').type('form').send({ id_token: 'not.a.jwt', state: 'abcdefghijklmnop' });
    expect(garbage.status).toBe(400);
    expect(garbage.text).not.toMatch(/at .*\.js|Error:/);
  });

  test('expired id_token (Moodle: 60 s) → 401', async () => {
    moodle.pending.set('3', { fixture: 'launch-teacher', edit: (c) => Object.assign(c, { iat: (c.iat as number) - 120, exp: (c.iat as number) - 60 }) });
    const res = await browser().launch(moodle, moodle.loginInitiation('launch-teacher'));
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('abgelaufen');
    moodle.pending.set('3', { fixture: 'launch-teacher' });
  });

  test('wrong audience → 401; several audiences without our azp → 401', async () => {
    moodle.pending.set('3', { fixture: 'launch-teacher', edit: (c) => void (c.aud = 'another-tool') });
    expect((await browser().launch(moodle, moodle.loginInitiation('launch-teacher'))).status).toBe(401);
    moodle.pending.set('3', { fixture: 'launch-teacher', edit: (c) => void (c.aud = [moodle.clientId, 'another-tool']) });
    expect((await browser().launch(moodle, moodle.loginInitiation('launch-teacher'))).status).toBe(401);
    moodle.pending.set('3', { fixture: 'launch-teacher', edit: (c) => Object.assign(c, { aud: [moodle.clientId, 'another-tool'], azp: moodle.clientId }) });
    expect((await browser().launch(moodle, moodle.loginInitiation('launch-teacher'))).status).toBe(303);
    moodle.pending.set('3', { fixture: 'launch-teacher' });
  });

  test('replayed id_token: same state refused; with a fresh state the nonce does not match; a second browser without the state cookie is refused', async () => {
    const b = browser();
    const login = await b.request('GET', `/lti/login?${new URLSearchParams(moodle.loginInitiation('launch-teacher'))}`);
    const page = await (await b.request('GET', login.headers.get('location')!)).text();
    const fields = formFields(page);
    const thief = browser();
    expect((await thief.request('POST', formAction(page)!, fields)).status).toBe(400); // no state cookie in this browser
    // The state was spent by the refused attempt too: a state is single-use.
    expect((await b.request('POST', formAction(page)!, fields)).status).toBe(400);

    const b2 = browser();
    const login2 = await b2.request('GET', `/lti/login?${new URLSearchParams(moodle.loginInitiation('launch-teacher'))}`);
    const page2 = await (await b2.request('GET', login2.headers.get('location')!)).text();
    const ok = await b2.request('POST', formAction(page2)!, formFields(page2));
    expect(ok.status).toBe(303);
    const replay = await b2.request('POST', formAction(page2)!, formFields(page2));
    expect(replay.status).toBe(400);
    // Old id_token with a fresh state of the same browser: nonce mismatch.
    const login3 = await b2.request('GET', `/lti/login?${new URLSearchParams(moodle.loginInitiation('launch-teacher'))}`);
    const state3 = new URL(login3.headers.get('location')!).searchParams.get('state')!;
    const mixed = await b2.request('POST', '/lti/launch', { id_token: formFields(page2).id_token!, state: state3 });
    expect(mixed.status).toBe(401);
  });

  test("the platform's JWKS is cached; a rotated key is fetched once; a key the platform never published is refused", async () => {
    await browser().launch(moodle, moodle.loginInitiation('launch-teacher'));
    const before = moodle.jwksRequests;
    for (let i = 0; i < 3; i++) expect((await browser().launch(moodle, moodle.loginInitiation('launch-teacher'))).status).toBe(303);
    expect(moodle.jwksRequests).toBe(before);
    await moodle.rotateKey();
    t.clock.advance(6_000);
    expect((await browser().launch(moodle, moodle.loginInitiation('launch-teacher'))).status).toBe(303);
    expect(moodle.jwksRequests).toBe(before + 1);
    t.clock.advance(6_000);
    moodle.pending.set('3', { fixture: 'launch-teacher', foreignKey: true });
    expect((await browser().launch(moodle, moodle.loginInitiation('launch-teacher'))).status).toBe(401);
    moodle.pending.set('3', { fixture: 'launch-teacher' });
  });

  test('ACC-04: another tenant cannot see, change or take over the platform', async () => {
    const auth = t.auth(other.adminToken);
    expect((await request(t.app).get(`/api/v1/tenants/gs-nord/platforms`).set(auth)).status).toBe(404);
    expect((await request(t.app).get(`/api/v1/tenants/rs-sued/platforms/${platformId}`).set(auth)).status).toBe(404);
    expect((await request(t.app).patch(`/api/v1/tenants/rs-sued/platforms/${platformId}`).set(auth).send({ active: false })).status).toBe(404);
    expect((await request(t.app).delete(`/api/v1/tenants/rs-sued/platforms/${platformId}`).set(auth)).status).toBe(404);
    const steal = await request(t.app).post('/api/v1/tenants/rs-sued/platforms').set(auth).send(moodle.registration('Fremd'));
    expect(steal.status).toBe(409);
    expect(steal.body.ruleIds).toContain('ACC-04');
    expect((await request(t.app).get('/api/v1/tenants/rs-sued/platforms').set(auth)).body.items).toEqual([]);
    const mine = await request(t.app).get('/api/v1/tenants/gs-nord/platforms').set(t.auth(tenant.adminToken));
    expect(mine.body.items).toHaveLength(1);
    expect(mine.body.items[0]).toMatchObject({ issuer: moodle.issuer, clientId: moodle.clientId, deploymentIds: ['1'], active: true, registeredBy: 'static' });
  });

  test('role mapping per tenant: defaults, an override changes the next launch', async () => {
    const auth = t.auth(tenant.adminToken);
    const get = await request(t.app).get('/api/v1/tenants/gs-nord/lti/role-mapping').set(auth);
    expect(get.status).toBe(200);
    expect(get.body.mapping['http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor']).toEqual(['teacher']);
    const bad = await request(t.app).put('/api/v1/tenants/gs-nord/lti/role-mapping').set(auth).send({ overrides: { Instructor: ['superuser'] } });
    expect(bad.status).toBe(422);
    const put = await request(t.app).put('/api/v1/tenants/gs-nord/lti/role-mapping').set(auth).send({ overrides: { 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor': ['teacher', 'laa'] } });
    expect(put.status).toBe(200);
    await browser().launch(moodle, moodle.loginInitiation('launch-teacher'));
    const user = await t.ctx.db.selectFrom('users').select('id').where('subject', '=', '3').executeTakeFirstOrThrow();
    expect((await t.ctx.db.selectFrom('memberships').select('roles').where('user_id', '=', user.id).executeTakeFirstOrThrow()).roles).toEqual(['laa', 'teacher']);
    await request(t.app).put('/api/v1/tenants/gs-nord/lti/role-mapping').set(auth).send({ overrides: {} });
    const admin = await t.ctx.db.selectFrom('admin_log').select('action').where('action', '=', 'lti.role-mapping.update').execute();
    expect(admin.length).toBe(2);
  });

  test('frame-ancestors: exactly the active platforms of the session’s tenant', async () => {
    const b = browser();
    await b.launch(moodle, moodle.loginInitiation('launch-teacher'));
    const framed = await b.request('GET', '/framed');
    expect(framed.headers.get('content-security-policy')).toContain(`frame-ancestors ${moodle.issuer}`);
    const anonymous = await browser().request('GET', '/framed');
    expect(anonymous.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  test('the tool JWKS publishes the public key ltijs keeps for the platform, never a private part', async () => {
    const keys = await request(t.app).get('/lti/keys');
    expect(keys.status).toBe(200);
    expect(keys.body.keys.length).toBeGreaterThan(0);
    for (const k of keys.body.keys) {
      expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(k.d).toBeUndefined();
    }
    // ltijs's own express app answers there, and nothing else of it is reachable.
    expect((await request(t.app).post('/lti/keys').type('form').send({ id_token: 'x', state: 'y' })).status).toBe(404);
    expect((await request(t.app).get('/lti/keys/ltijs-login-unused?iss=x')).status).toBe(404);
    expect((await request(t.app).post('/lti/keys/ltijs-launch-unused').type('form').send({ id_token: 'x' })).status).toBe(404);
  });
});
