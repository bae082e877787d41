import request from 'supertest';
import { SESSION_COOKIE, loadSession } from '../../src/session/index.js';
import { hashToken } from '../../src/crypto/secrets.js';
import { createTenant, type TestTenant } from '../harness/people.js';
import { describeWithDatabases } from '../harness/db.js';
import { Browser, throughIServ } from '../support/browser.js';
import { startIServProvider, type IServAccount, type RunningIServ } from '../support/iserv-provider.js';
import { startBridge, type RunningBridge } from './bridge.js';

const teacher: IServAccount = {
  username: 'anna.lindner',
  uuid: '6f1c2a54-0d1e-4c57-9a0e-2b7f4e1d9a01',
  name: 'Anna Lindner',
  email: 'anna.lindner@schule.example',
  groups: [
    { act: 'klasse-7a', name: 'Klasse 7a' },
    { act: 'fachschaft-mathe', name: 'Fachschaft Mathematik' },
  ],
  roles: [{ id: 'ROLE_TEACHER', name: 'Lehrer' }],
};
const student: IServAccount = {
  username: 'max.mueller',
  uuid: '0b9a77d3-31f4-4f1b-8d6c-5c2e0a9e7f12',
  name: 'Max Müller',
  email: 'max.mueller@schule.example',
  groups: [{ act: 'klasse-7a', name: 'Klasse 7a' }],
  roles: [{ id: 'ROLE_STUDENT', name: 'Schüler' }],
};
const socialWorker: IServAccount = {
  username: 'sara.sozial',
  uuid: '2d4e6f80-1a2b-4c3d-8e9f-a0b1c2d3e4f5',
  name: 'Sara Sozial',
  groups: [{ act: 'beratung', name: 'Beratung' }],
  roles: [
    { id: 'ROLE_TEACHER', name: 'Lehrer' },
    { id: 'ssa', name: 'Schulsozialarbeit' },
  ],
};
const parent: IServAccount = {
  username: 'eva.eltern',
  uuid: '9e8d7c6b-5a49-4382-a170-f0e1d2c3b4a5',
  name: 'Eva Eltern',
  groups: [{ act: 'eltern-7a', name: 'Eltern 7a' }],
  roles: [{ id: 'ROLE_PARENT', name: 'Eltern' }],
};
// Two pupils whose IServ lists the same groups in opposite orders (concurrent logins must not deadlock).
const pupils: IServAccount[] = ['kim', 'lea', 'ole', 'pia'].map((n, i) => ({
  username: `${n}.schueler`,
  uuid: `00000000-0000-4000-8000-00000000000${i}`,
  name: `${n} Schüler`,
  groups: i % 2 ? [{ act: 'ag-robotik', name: 'AG Robotik' }, { act: 'alle', name: 'Alle' }] : [{ act: 'alle', name: 'Alle' }, { act: 'ag-robotik', name: 'AG Robotik' }],
  roles: [{ id: 'ROLE_STUDENT', name: 'Schüler' }],
}));
const ACCOUNTS = [teacher, student, socialWorker, parent, ...pupils];
const NAMES = /Anna|Lindner|Max|Müller|Mueller|Sara|Sozial|Eva Eltern|schule\.example|anna\.lindner|max\.mueller/;

async function counts(b: RunningBridge) {
  const n = async (table: 'users' | 'contexts' | 'memberships' | 'sessions') =>
    Number((await b.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { users: await n('users'), contexts: await n('contexts'), memberships: await n('memberships'), sessions: await n('sessions') };
}

/** `Set-Cookie` of a named cookie, attributes lower-cased for checks. */
function cookieLine(setCookies: string[], name: string): string | undefined {
  return setCookies.find((c) => c.startsWith(`${name}=`));
}

describeWithDatabases('IServ single sign-on (OpenID Connect)', (use) => {
  let bridge: RunningBridge;
  let iserv: RunningIServ;
  let other: RunningIServ;
  let a: TestTenant;
  let b: TestTenant;
  let bare: TestTenant;

  const callbackOf = (slug: string) => `${bridge.url}/iserv/${slug}/callback`;
  const loginOf = (slug: string) => `${bridge.url}/iserv/${slug}/login`;

  beforeAll(async () => {
    bridge = await startBridge(use());
    const redirectUris = ['gy-nord', 'gs-sued', 'rs-ohne'].map((slug) => `${bridge.url}/iserv/${slug}/callback`);
    iserv = await startIServProvider({
      accounts: ACCOUNTS,
      clients: [
        { clientId: 'bridge-nord', clientSecret: 'geheim-nord-0123456789', redirectUris },
        { clientId: 'bridge-sued', clientSecret: 'geheim-sued-0123456789', redirectUris, trusted: true },
      ],
    });
    // Another school's IServ: the same client registration, a different issuer.
    other = await startIServProvider({
      accounts: ACCOUNTS,
      clients: [{ clientId: 'bridge-nord', clientSecret: 'geheim-nord-0123456789', redirectUris }],
    });
    a = await createTenant(bridge, 'gy-nord');
    b = await createTenant(bridge, 'gs-sued', { identity: { storeEmail: true } });
    bare = await createTenant(bridge, 'rs-ohne');
    for (const [t, clientId, secret] of [
      [a, 'bridge-nord', 'geheim-nord-0123456789'],
      [b, 'bridge-sued', 'geheim-sued-0123456789'],
    ] as const) {
      const res = await request(bridge.app).put(`/api/v1/tenants/${t.slug}/iserv`).set(bridge.auth(t.adminToken)).send({ baseUrl: iserv.baseUrl, clientId, clientSecret: secret });
      expect(res.status).toBe(200);
    }
  });

  afterAll(async () => {
    await bridge?.close();
    await iserv?.close();
    await other?.close();
  });

  async function login(slug: string, account: IServAccount, consent: 'accept' | 'deny' = 'accept') {
    const browser = new Browser();
    const { callbackUrl, hops } = await throughIServ(browser, loginOf(slug), { account: account.username, consent, stopAt: callbackOf(slug) });
    return { browser, callbackUrl, hops };
  }

  test('SEC-03: a teacher logs in through IServ and lands on /home with a session cookie only', async () => {
    const { browser, callbackUrl, hops } = await login('gy-nord', teacher);
    // The start: PKCE, state and nonce go to IServ's authorization endpoint; the login cookie is session-only.
    const started = hops[0]!;
    expect(started.status).toBe(303);
    const loginCookie = cookieLine(started.setCookies, 'sb_iserv_login')!;
    expect(loginCookie).toMatch(/; Path=\/iserv\/gy-nord\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(loginCookie).not.toMatch(/Max-Age|Expires/i);
    const auth = new URL(hops[1]!.url);
    expect(auth.origin + auth.pathname).toBe(`${iserv.baseUrl}/iserv/oauth/v2/auth`);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('scope')).toBe('openid profile email uuid groups roles');
    expect(auth.searchParams.get('state')).toBeTruthy();
    expect(auth.searchParams.get('nonce')).toBeTruthy();
    expect(new URL(callbackUrl).searchParams.get('iss')).toBe(iserv.issuer);

    const done = await browser.request(callbackUrl);
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${bridge.url}/home`);
    const session = cookieLine(done.setCookies, SESSION_COOKIE)!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; Secure/);
    expect(session).toMatch(/; SameSite=None/);
    expect(session).not.toMatch(/Max-Age|Expires/i);
    // The login cookie is gone once used.
    expect(cookieLine(done.setCookies, 'sb_iserv_login')).toMatch(/Max-Age=0/);

    const user = await bridge.ctx.db.selectFrom('users').selectAll().where('tenant_id', '=', a.id).where('subject', '=', teacher.uuid).executeTakeFirstOrThrow();
    expect(user).toMatchObject({ source: 'iserv', issuer: iserv.issuer, display_name: 'Anna Lindner', email: null });
    const contexts = await bridge.ctx.db.selectFrom('contexts').selectAll().where('tenant_id', '=', a.id).orderBy('external_id').execute();
    expect(contexts.map((c) => [c.external_id, c.title, c.type, c.source, c.issuer])).toEqual([
      ['fachschaft-mathe', 'Fachschaft Mathematik', 'group', 'iserv', iserv.issuer],
      ['klasse-7a', 'Klasse 7a', 'group', 'iserv', iserv.issuer],
    ]);
    const memberships = await bridge.ctx.db.selectFrom('memberships').selectAll().where('user_id', '=', user.id).execute();
    expect(memberships).toHaveLength(2);
    expect(memberships.every((m) => m.roles.join() === 'teacher' && m.source === 'iserv')).toBe(true);

    const token = browser.cookies(bridge.url).find((c) => c.name === SESSION_COOKIE)!.value;
    const row = await bridge.ctx.db.selectFrom('sessions').selectAll().where('id_hash', '=', hashToken(token)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ tenant_id: a.id, user_id: user.id, context_id: null, roles: ['teacher'] });
    const loaded = await loadSession(bridge.ctx.db, bridge.ctx.clock, { headers: { cookie: `${SESSION_COOKIE}=${token}` } } as never);
    expect(loaded?.userId).toBe(user.id);

    await bridge.ctx.audit.flush();
    const activity = await bridge.ctx.db.selectFrom('activity_log').selectAll().where('tenant_id', '=', a.id).where('action', '=', 'iserv.login').where('outcome', '=', 'ok').execute();
    expect(activity).toHaveLength(1);
    expect(activity[0]!.actor_id).toBe(user.id);
  });

  test('a student logs in: student role in the same group context as the teacher', async () => {
    const { browser, callbackUrl } = await login('gy-nord', student);
    const done = await browser.request(callbackUrl);
    expect(done.status).toBe(303);
    const user = await bridge.ctx.db.selectFrom('users').select('id').where('tenant_id', '=', a.id).where('subject', '=', student.uuid).executeTakeFirstOrThrow();
    const rows = await bridge.ctx.db
      .selectFrom('memberships')
      .innerJoin('contexts', 'contexts.id', 'memberships.context_id')
      .select(['contexts.external_id', 'memberships.roles', 'contexts.id'])
      .where('memberships.user_id', '=', user.id)
      .execute();
    expect(rows.map((r) => [r.external_id, r.roles])).toEqual([['klasse-7a', ['student']]]);
    const teacherContext = await bridge.ctx.db.selectFrom('contexts').select('id').where('tenant_id', '=', a.id).where('external_id', '=', 'klasse-7a').execute();
    expect(teacherContext).toHaveLength(1);
    expect(rows[0]!.id).toBe(teacherContext[0]!.id);
    const session = await bridge.ctx.db.selectFrom('sessions').select('roles').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(session.roles).toEqual(['student']);
  });

  test('a trusted client skips the consent page; e-mail kept only where the tenant stores it', async () => {
    const { browser, callbackUrl, hops } = await login('gs-sued', student);
    expect(hops.filter((h) => h.url.includes('/interaction/')).length).toBe(2); // login form and its submission, no consent
    expect((await browser.request(callbackUrl)).status).toBe(303);
    const user = await bridge.ctx.db.selectFrom('users').selectAll().where('tenant_id', '=', b.id).where('subject', '=', student.uuid).executeTakeFirstOrThrow();
    expect(user.email).toBe('max.mueller@schule.example');
  });

  test('VC-08: restricting roles are always kept, even when the tenant mapping leaves them out', async () => {
    const put = await request(bridge.app)
      .put('/api/v1/tenants/gy-nord/iserv/role-mapping')
      .set(bridge.auth(a.adminToken))
      .send({ rules: [{ on: 'role', match: 'lehrer', roles: ['teacher'] }, { on: 'role', match: 'ROLE_STUDENT', roles: ['student'] }] });
    expect(put.status).toBe(200);
    const { browser, callbackUrl } = await login('gy-nord', socialWorker);
    expect((await browser.request(callbackUrl)).status).toBe(303);
    const user = await bridge.ctx.db.selectFrom('users').select('id').where('tenant_id', '=', a.id).where('subject', '=', socialWorker.uuid).executeTakeFirstOrThrow();
    const m = await bridge.ctx.db.selectFrom('memberships').select('roles').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(m.roles).toEqual(['teacher', 'social_work']);
    await request(bridge.app).put('/api/v1/tenants/gy-nord/iserv/role-mapping').set(bridge.auth(a.adminToken)).send({ rules: null });
  });

  test('an IServ role without mapping is refused (403), nothing stored', async () => {
    const before = await counts(bridge);
    const { browser, callbackUrl } = await login('gy-nord', parent);
    const res = await browser.request(callbackUrl);
    expect(res.status).toBe(403);
    expect(res.body).toContain('Keine passende Rolle');
    expect(await counts(bridge)).toEqual(before);
  });

  test('wrong state: a tampered or foreign state is refused with a German page, nothing stored', async () => {
    const before = await counts(bridge);
    const { browser, callbackUrl } = await login('gy-nord', teacher);
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', 'erfunden-und-falsch');
    const res = await browser.request(tampered.href);
    expect(res.status).toBe(400);
    expect(res.body).toContain('<html lang="de">');
    expect(res.body).toContain('Anmeldung abgelaufen oder ungültig');
    expect(cookieLine(res.setCookies, SESSION_COOKIE)).toBeUndefined();
    // Without state at all.
    const none = new URL(callbackUrl);
    none.searchParams.delete('state');
    expect((await browser.request(none.href)).status).toBe(400);
    expect(await counts(bridge)).toEqual(before);
  });

  test('an answer is bound to the browser that started the login (login CSRF)', async () => {
    const before = await counts(bridge);
    const { callbackUrl } = await login('gy-nord', teacher);
    const victim = new Browser();
    const res = await victim.request(callbackUrl);
    expect(res.status).toBe(400);
    expect(await counts(bridge)).toEqual(before);
  });

  test('a pending login expires after 10 minutes', async () => {
    const before = await counts(bridge);
    const { browser, callbackUrl } = await login('gy-nord', student);
    const now = bridge.clock.now();
    bridge.clock.advance(10 * 60_000 + 1000);
    try {
      const res = await browser.request(callbackUrl);
      expect(res.status).toBe(400);
      expect(res.body).toContain('abgelaufen');
    } finally {
      bridge.clock.set(now);
    }
    expect(await counts(bridge)).toEqual(before);
  });

  test('unfinished logins are removed once expired', async () => {
    const abandoned = await new Browser().request(loginOf('gy-nord'));
    const stateHash = hashToken(new URL(abandoned.location!).searchParams.get('state')!);
    const row = () => bridge.ctx.db.selectFrom('iserv_logins').select('state_hash').where('state_hash', '=', stateHash).execute();
    expect(await row()).toHaveLength(1);
    const now = bridge.clock.now();
    bridge.clock.advance(11 * 60_000);
    try {
      expect((await new Browser().request(loginOf('gy-nord'))).status).toBe(303);
      expect(await row()).toHaveLength(0);
    } finally {
      bridge.clock.set(now);
    }
  });

  test('a replayed callback is refused: the pending login is used once', async () => {
    const { browser, callbackUrl } = await login('gy-nord', student);
    const login1 = await browser.request(callbackUrl);
    expect(login1.status).toBe(303);
    const before = await counts(bridge);
    const cookie = `sb_iserv_login=${'x'.repeat(43)}`;
    const replay = await browser.request(callbackUrl, { headers: { cookie } });
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('schon verwendet');
    expect(await counts(bridge)).toEqual(before);
  });

  test('denied consent at IServ → 403 page, nothing stored', async () => {
    const before = await counts(bridge);
    const { browser, callbackUrl } = await login('gy-nord', teacher, 'deny');
    expect(new URL(callbackUrl).searchParams.get('error')).toBe('access_denied');
    const res = await browser.request(callbackUrl);
    expect(res.status).toBe(403);
    expect(res.body).toContain('Zugriff nicht erlaubt');
    expect(await counts(bridge)).toEqual(before);
  });

  test('wrong issuer: an answer from another IServ (mix-up) is refused, nothing stored', async () => {
    const before = await counts(bridge);
    const browser = new Browser();
    const start = await browser.request(loginOf('gy-nord'));
    // The same authorization request, sent to the other school's IServ.
    const foreign = new URL(start.location!);
    const redirected = `${other.baseUrl}${foreign.pathname}${foreign.search}`;
    const { callbackUrl } = await throughIServ(browser, redirected, { account: teacher.username, stopAt: callbackOf('gy-nord') });
    expect(new URL(callbackUrl).searchParams.get('iss')).toBe(other.issuer);
    const res = await browser.request(callbackUrl);
    expect(res.status).toBe(400);
    expect(res.body).toContain('Antwort von einem anderen Server');
    expect(await counts(bridge)).toEqual(before);
  });

  test('unknown tenant and tenant without IServ → German 404 pages (ACC-04)', async () => {
    const unknown = await new Browser().request(loginOf('gibt-es-nicht'));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('Schule nicht gefunden');
    const notConfigured = await new Browser().request(loginOf('rs-ohne'));
    expect(notConfigured.status).toBe(404);
    expect(notConfigured.body).toContain('IServ-Anmeldung nicht eingerichtet');
    expect(cookieLine(notConfigured.setCookies, 'sb_iserv_login')).toBeUndefined();
    const callback = await new Browser().request(`${callbackOf('rs-ohne')}?code=abc&state=def`);
    expect(callback.status).toBe(400);
    const english = await new Browser().request(`${loginOf('rs-ohne')}?lang=en`);
    expect(english.body).toContain('IServ sign-in not set up');
  });

  test('ACC-04: a login started for tenant A can never create a session in tenant B', async () => {
    const { browser, callbackUrl } = await login('gy-nord', teacher);
    const loginCookie = browser.cookies(bridge.url).find((c) => c.name === 'sb_iserv_login')!;
    expect(loginCookie.path).toBe('/iserv/gy-nord/');
    const before = await counts(bridge);
    const intoB = new URL(callbackUrl);
    intoB.pathname = '/iserv/gs-sued/callback';
    // Even with A's login cookie and A's state handed over, B knows no such login.
    const res = await browser.request(intoB.href, { headers: { cookie: `sb_iserv_login=${loginCookie.value}` } });
    expect(res.status).toBe(400);
    expect(cookieLine(res.setCookies, SESSION_COOKIE)).toBeUndefined();
    expect(await counts(bridge)).toEqual(before);
    // The pending login was not spent by the attempt on B: A's own callback still works once.
    const own = await browser.request(callbackUrl);
    expect(own.status).toBe(303);
    const session = await bridge.ctx.db.selectFrom('sessions').select('tenant_id').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(session.tenant_id).toBe(a.id);
    const inB = await bridge.ctx.db.selectFrom('users').select('id').where('tenant_id', '=', b.id).where('subject', '=', teacher.uuid).execute();
    expect(inB).toHaveLength(0);
    expect(bare.id).toBeTruthy();
  });

  test('groups the person left in IServ are left in the bridge at the next login', async () => {
    const before = teacher.groups;
    teacher.groups = [{ act: 'klasse-7a', name: 'Klasse 7a (neu)' }];
    try {
      const { browser, callbackUrl } = await login('gy-nord', teacher);
      expect((await browser.request(callbackUrl)).status).toBe(303);
    } finally {
      teacher.groups = before;
    }
    const user = await bridge.ctx.db.selectFrom('users').select('id').where('tenant_id', '=', a.id).where('subject', '=', teacher.uuid).executeTakeFirstOrThrow();
    const rows = await bridge.ctx.db
      .selectFrom('memberships')
      .innerJoin('contexts', 'contexts.id', 'memberships.context_id')
      .select(['contexts.external_id', 'contexts.title'])
      .where('memberships.user_id', '=', user.id)
      .execute();
    expect(rows).toEqual([{ external_id: 'klasse-7a', title: 'Klasse 7a (neu)' }]);
  });

  test('RET-06: an account in the purgatory is not revived by an IServ login', async () => {
    const user = await bridge.ctx.db.selectFrom('users').select('id').where('tenant_id', '=', a.id).where('subject', '=', student.uuid).executeTakeFirstOrThrow();
    await bridge.ctx.db.updateTable('users').set({ deleted_at: bridge.clock.now() }).where('id', '=', user.id).execute();
    try {
      const before = await counts(bridge);
      const { browser, callbackUrl } = await login('gy-nord', student);
      const res = await browser.request(callbackUrl);
      expect(res.status).toBe(403);
      expect(res.body).toContain('Konto gelöscht');
      expect(await counts(bridge)).toEqual(before);
    } finally {
      await bridge.ctx.db.updateTable('users').set({ deleted_at: null }).where('id', '=', user.id).execute();
    }
  });

  test('concurrent logins sharing groups (listed in different orders) all succeed', async () => {
    const results = await Promise.all(
      [...pupils, ...pupils].map(async (p) => {
        const { browser, callbackUrl } = await login('gy-nord', p);
        return (await browser.request(callbackUrl)).status;
      }),
    );
    expect(results).toEqual(Array(8).fill(303));
    const shared = await bridge.ctx.db.selectFrom('contexts').select('id').where('tenant_id', '=', a.id).where('external_id', 'in', ['alle', 'ag-robotik']).execute();
    expect(shared).toHaveLength(2);
    const members = await bridge.ctx.db.selectFrom('memberships').select('user_id').where('context_id', 'in', shared.map((c) => c.id)).execute();
    expect(members).toHaveLength(8);
  });

  test('discovery and IServ\'s keys are fetched once per tenant, not per login', () => {
    // Two tenants (gy-nord, gs-sued) use this IServ; many logins happened above.
    expect(iserv.hits.get('/iserv/oauth/v2/token')).toBeGreaterThan(5);
    expect(iserv.hits.get('/.well-known/openid-configuration')).toBe(2);
    expect(iserv.hits.get('/iserv/public/jwk')).toBe(2);
  });

  test('logs, activity and admin entries carry no names, e-mails, secrets or codes', async () => {
    await bridge.ctx.audit.flush();
    const activity = await bridge.ctx.db.selectFrom('activity_log').selectAll().execute();
    const admin = await bridge.ctx.db.selectFrom('admin_log').selectAll().execute();
    const access = await bridge.ctx.db.selectFrom('access_log').selectAll().execute();
    expect(activity.filter((r) => r.action === 'iserv.login').length).toBeGreaterThan(5);
    const denied = activity.filter((r) => r.action === 'iserv.login' && r.outcome === 'deny').map((r) => (r.details as { reason: string }).reason);
    expect(denied).toEqual(expect.arrayContaining(['state', 'denied', 'wrong-issuer', 'no-role', 'not-configured']));
    const everything = JSON.stringify([activity, admin, access]) + bridge.logs.join('\n');
    expect(bridge.logs.length).toBeGreaterThan(10);
    expect(everything).not.toMatch(NAMES);
    expect(everything).not.toMatch(/geheim-nord|geheim-sued|code=|state=/);
    expect(access.every((r) => r.route.startsWith('/iserv/{slug}') || r.route.startsWith('/api/v1'))).toBe(true);
  });
});
