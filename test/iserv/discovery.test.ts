import request from 'supertest';
import { createTenant, type TestTenant } from '../harness/people.js';
import { describeWithDatabases } from '../harness/db.js';
import { Browser, throughIServ } from '../support/browser.js';
import { startIServProvider, type IServAccount, type RunningIServ } from '../support/iserv-provider.js';
import { startBridge, type RunningBridge } from './bridge.js';

const teacher: IServAccount = {
  username: 'jonas.becker',
  uuid: '5a5b5c5d-1111-4222-8333-944455556666',
  name: 'Jonas Becker',
  groups: [{ act: 'klasse-9b', name: 'Klasse 9b' }],
  roles: [{ id: 'ROLE_TEACHER', name: 'Lehrer' }],
};

async function storedCount(b: RunningBridge): Promise<number> {
  const n = async (table: 'users' | 'contexts' | 'memberships' | 'sessions') =>
    Number((await b.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return (await n('users')) + (await n('contexts')) + (await n('memberships')) + (await n('sessions'));
}

/**
 * An IServ whose issuer carries a path and that publishes no discovery document
 * at the host's root: the bridge falls back to IServ's known endpoints.
 */
describeWithDatabases('IServ without discovery: known endpoints, issuer checks', (use) => {
  let bridge: RunningBridge;
  let iserv: RunningIServ;
  let tenant: TestTenant;
  const slug = 'gs-pfad';
  const callback = () => `${bridge.url}/iserv/${slug}/callback`;

  beforeAll(async () => {
    bridge = await startBridge(use());
    iserv = await startIServProvider({
      accounts: [teacher],
      clients: [{ clientId: 'bridge', clientSecret: 'geheimnis-0123456789', redirectUris: [`${bridge.url}/iserv/${slug}/callback`] }],
      issuerPath: '/iserv/oidc',
      discoveryAtRoot: false,
    });
    tenant = await createTenant(bridge, slug);
  });

  afterAll(async () => {
    await bridge?.close();
    await iserv?.close();
  });

  const configure = (issuer: string | null) =>
    request(bridge.app)
      .put(`/api/v1/tenants/${slug}/iserv`)
      .set(bridge.auth(tenant.adminToken))
      .send({ baseUrl: iserv.baseUrl, clientId: 'bridge', clientSecret: 'geheimnis-0123456789', issuer });

  test('wrong issuer: the base URL is assumed as issuer, IServ answers as another → refused, nothing stored', async () => {
    expect((await configure(null)).status).toBe(200);
    const before = await storedCount(bridge);
    const browser = new Browser();
    const { callbackUrl, hops } = await throughIServ(browser, `${bridge.url}/iserv/${slug}/login`, { account: teacher.username, stopAt: callback() });
    // The fallback endpoints on the school's host were used.
    expect(new URL(hops[1]!.url).pathname).toBe('/iserv/oauth/v2/auth');
    const res = await browser.request(callbackUrl);
    expect(res.status).toBe(400);
    expect(res.body).toContain('Antwort von einem anderen Server');
    expect(await storedCount(bridge)).toBe(before);
  });

  test('wrong issuer in the id_token itself (no iss parameter in the answer) → refused, nothing stored', async () => {
    const before = await storedCount(bridge);
    const browser = new Browser();
    const { callbackUrl } = await throughIServ(browser, `${bridge.url}/iserv/${slug}/login`, { account: teacher.username, stopAt: callback() });
    const stripped = new URL(callbackUrl);
    stripped.searchParams.delete('iss');
    const res = await browser.request(stripped.href);
    expect(res.status).toBe(400);
    expect(res.body).toContain('Antwort von einem anderen Server');
    expect(await storedCount(bridge)).toBe(before);
    await bridge.ctx.audit.flush();
    const reasons = await bridge.ctx.db.selectFrom('activity_log').select('details').where('action', '=', 'iserv.login').execute();
    expect(reasons.map((r) => (r.details as { reason?: string }).reason)).toEqual(['wrong-issuer', 'wrong-issuer']);
    // The first was caught at the answer's `iss` parameter, the second at the id_token's `iss` claim.
    const refusals = bridge.logs.filter((l) => l.includes('iserv login refused')).map((l) => JSON.parse(l) as { code: string });
    expect(refusals.map((r) => r.code)).toEqual(['OAUTH_INVALID_RESPONSE', 'OAUTH_JWT_CLAIM_COMPARISON_FAILED']);
  });

  test('with the issuer entered explicitly, the login works over the known endpoints', async () => {
    expect((await configure(iserv.issuer)).status).toBe(200);
    const browser = new Browser();
    const { callbackUrl } = await throughIServ(browser, `${bridge.url}/iserv/${slug}/login`, { account: teacher.username, stopAt: callback() });
    const res = await browser.request(callbackUrl);
    expect(res.status).toBe(303);
    expect(res.location).toBe(`${bridge.url}/home`);
    const user = await bridge.ctx.db.selectFrom('users').selectAll().where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow();
    expect(user).toMatchObject({ issuer: `${iserv.baseUrl}/iserv/oidc`, subject: teacher.uuid, source: 'iserv' });
  });

  test('a discovery document naming another issuer than the one entered is refused', async () => {
    // Discovery at the root exists on this IServ (issuer = base URL), but the admin entered a different issuer.
    const rooted = await startIServProvider({
      accounts: [teacher],
      clients: [{ clientId: 'bridge', clientSecret: 'geheimnis-0123456789', redirectUris: [callback()] }],
    });
    try {
      const put = await request(bridge.app)
        .put(`/api/v1/tenants/${slug}/iserv`)
        .set(bridge.auth(tenant.adminToken))
        .send({ baseUrl: rooted.baseUrl, clientId: 'bridge', issuer: 'https://andere-schule.example' });
      expect(put.status).toBe(200);
      const res = await new Browser().request(`${bridge.url}/iserv/${slug}/login`);
      expect(res.status).toBe(400);
      expect(res.body).toContain('Antwort von einem anderen Server');
    } finally {
      await rooted.close();
    }
  });

  test('IServ unreachable when the code is exchanged → 502 page, nothing stored', async () => {
    const flaky = await startIServProvider({
      accounts: [teacher],
      clients: [{ clientId: 'bridge', clientSecret: 'geheimnis-0123456789', redirectUris: [callback()] }],
    });
    const put = await request(bridge.app)
      .put(`/api/v1/tenants/${slug}/iserv`)
      .set(bridge.auth(tenant.adminToken))
      .send({ baseUrl: flaky.baseUrl, clientId: 'bridge', clientSecret: 'geheimnis-0123456789', issuer: null });
    expect(put.status).toBe(200);
    const browser = new Browser();
    const { callbackUrl } = await throughIServ(browser, `${bridge.url}/iserv/${slug}/login`, { account: teacher.username, stopAt: callback() });
    await flaky.close();
    const before = await storedCount(bridge);
    const res = await browser.request(callbackUrl);
    expect(res.status).toBe(502);
    expect(res.body).toContain('IServ nicht erreichbar');
    expect(await storedCount(bridge)).toBe(before);
  });
});
