import request from 'supertest';
import { createTenant, createToken, type TestTenant } from '../harness/people.js';
import { describeWithDatabases } from '../harness/db.js';
import { Browser } from '../support/browser.js';
import { DEFAULT_RULES, RESTRICTING_RULES } from '../../src/iserv/index.js';
import { startBridge, type RunningBridge } from './bridge.js';

const SECRET = 'sehr-geheimes-client-geheimnis-4711';

describeWithDatabases('IServ configuration API (admin)', (use) => {
  let bridge: RunningBridge;
  let a: TestTenant;
  let b: TestTenant;

  beforeAll(async () => {
    bridge = await startBridge(use());
    a = await createTenant(bridge, 'gy-west');
    b = await createTenant(bridge, 'gy-ost');
  });
  afterAll(async () => {
    await bridge?.close();
  });

  const put = (slug: string, token: string, body: unknown) => request(bridge.app).put(`/api/v1/tenants/${slug}/iserv`).set(bridge.auth(token)).send(body as object);

  test('the first setup needs the client secret; nothing is stored without it', async () => {
    const res = await put('gy-west', a.adminToken, { baseUrl: 'https://schule.example.de', clientId: 'abc' });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].field).toBe('clientSecret');
    expect(await bridge.ctx.db.selectFrom('iserv_configs').selectAll().execute()).toHaveLength(0);
  });

  test('set up: defaults, redirect URI to enter in IServ, the secret sealed and never returned (RET-03 audited)', async () => {
    const res = await put('gy-west', a.adminToken, { baseUrl: 'https://schule.example.de/', clientId: '42_abcdef', clientSecret: SECRET });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      baseUrl: 'https://schule.example.de',
      issuer: null,
      clientId: '42_abcdef',
      secretSet: true,
      scopes: 'openid profile email uuid groups roles',
      redirectUri: `${bridge.url}/iserv/gy-west/callback`,
      loginUrl: `${bridge.url}/iserv/gy-west/login`,
      discoveryUrl: 'https://schule.example.de/.well-known/openid-configuration',
    });
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
    const got = await request(bridge.app).get('/api/v1/tenants/gy-west/iserv').set(bridge.auth(a.adminToken));
    expect(got.status).toBe(200);
    expect(JSON.stringify(got.body)).not.toContain(SECRET);
    const row = await bridge.ctx.db.selectFrom('iserv_configs').selectAll().executeTakeFirstOrThrow();
    expect(row.client_secret_sealed).not.toContain(SECRET);
    expect(bridge.ctx.secrets.openText(row.client_secret_sealed, `iserv:${a.id}:client-secret`)).toBe(SECRET);
    // Sealed for this tenant: the same ciphertext does not open as another tenant's.
    expect(() => bridge.ctx.secrets.openText(row.client_secret_sealed, `iserv:${b.id}:client-secret`)).toThrow();

    // Changing the address keeps the secret.
    const again = await put('gy-west', a.adminToken, { baseUrl: 'https://iserv.gy-west.example', clientId: '42_abcdef', scopes: 'openid profile uuid groups roles' });
    expect(again.status).toBe(200);
    const kept = await bridge.ctx.db.selectFrom('iserv_configs').selectAll().executeTakeFirstOrThrow();
    expect(bridge.ctx.secrets.openText(kept.client_secret_sealed, `iserv:${a.id}:client-secret`)).toBe(SECRET);

    const audit = await bridge.ctx.db.selectFrom('admin_log').selectAll().where('object_type', '=', 'iserv-config').orderBy('at').execute();
    expect(audit.map((r) => r.action)).toEqual(['iserv.config.create', 'iserv.config.replace']);
    expect(audit.every((r) => r.actor.startsWith('token:') && r.rule_ids.includes('RET-03') && r.tenant_id === a.id)).toBe(true);
    expect(audit.map((r) => (r.details as { secretChanged: boolean }).secretChanged)).toEqual([true, false]);
    expect(JSON.stringify(audit)).not.toContain(SECRET);
    expect(bridge.logs.join('\n')).not.toContain(SECRET);
  });

  test('invalid input → 422: scopes without openid, URLs with query or credentials, unknown fields', async () => {
    for (const body of [
      { baseUrl: 'https://schule.example.de', clientId: 'x', clientSecret: 'y', scopes: 'profile email' },
      { baseUrl: 'https://schule.example.de/?a=1', clientId: 'x', clientSecret: 'y' },
      { baseUrl: 'https://u:p@schule.example.de', clientId: 'x', clientSecret: 'y' },
      { baseUrl: 'ftp://schule.example.de', clientId: 'x', clientSecret: 'y' },
      { baseUrl: 'https://schule.example.de', clientId: 'x', clientSecret: 'y', trusted: true },
    ]) {
      const res = await put('gy-ost', b.adminToken, body);
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });

  test('ACC-04: another tenant\'s token sees nothing; only the admin scope may change it', async () => {
    const foreign = await request(bridge.app).get('/api/v1/tenants/gy-west/iserv').set(bridge.auth(b.adminToken));
    expect(foreign.status).toBe(404);
    expect(foreign.body.ruleIds).toEqual(['ACC-04']);
    const lms = await createToken(bridge, 'gy-west', ['lms']);
    expect((await request(bridge.app).get('/api/v1/tenants/gy-west/iserv').set(bridge.auth(lms))).status).toBe(403);
    expect((await put('gy-west', lms, { baseUrl: 'https://evil.example', clientId: 'x', clientSecret: 'y' })).status).toBe(403);
    expect((await request(bridge.app).get('/api/v1/tenants/gy-ost/iserv').set(bridge.auth(b.adminToken))).status).toBe(404);
  });

  test('role mapping: defaults, replace, reset; restricting rules always listed (VC-08)', async () => {
    const url = '/api/v1/tenants/gy-west/iserv/role-mapping';
    const defaults = await request(bridge.app).get(url).set(bridge.auth(a.adminToken));
    expect(defaults.status).toBe(200);
    expect(defaults.body.isDefault).toBe(true);
    expect(defaults.body.rules).toHaveLength(DEFAULT_RULES.length);
    expect(defaults.body.restrictingRules).toHaveLength(RESTRICTING_RULES.length);

    const bad = await request(bridge.app).put(url).set(bridge.auth(a.adminToken)).send({ rules: [{ on: 'role', match: 'Lehrer', roles: ['superuser'] }] });
    expect(bad.status).toBe(422);
    const replaced = await request(bridge.app)
      .put(url)
      .set(bridge.auth(a.adminToken))
      .send({ rules: [{ on: 'group', match: 'schulleitung', roles: ['leadership', 'teacher'] }, { on: 'role', match: 'Lehrer', roles: ['teacher'] }] });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ isDefault: false, rules: [{ on: 'group', match: 'schulleitung', roles: ['leadership', 'teacher'] }, { on: 'role', match: 'Lehrer', roles: ['teacher'] }] });
    // Another tenant still has the defaults.
    expect((await request(bridge.app).get('/api/v1/tenants/gy-ost/iserv/role-mapping').set(bridge.auth(b.adminToken))).body.isDefault).toBe(true);
    const reset = await request(bridge.app).put(url).set(bridge.auth(a.adminToken)).send({ rules: null });
    expect(reset.body.isDefault).toBe(true);
    const audit = await bridge.ctx.db.selectFrom('admin_log').select('action').where('object_type', '=', 'iserv-role-mapping').orderBy('at').execute();
    expect(audit.map((r) => r.action)).toEqual(['iserv.role-mapping.update', 'iserv.role-mapping.reset']);
  });

  test('the IServ routes are in the OpenAPI document', async () => {
    const doc = await request(bridge.app).get('/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/tenants/{slug}/iserv', '/tenants/{slug}/iserv/role-mapping']));
    expect(Object.keys(doc.body.paths['/tenants/{slug}/iserv'])).toEqual(expect.arrayContaining(['get', 'put', 'delete']));
  });

  test('a client secret that no longer opens (e.g. another ENCRYPTION_KEY) → German 500 page, not a stack trace', async () => {
    await put('gy-ost', b.adminToken, { baseUrl: 'https://schule-ost.example', clientId: 'ost', clientSecret: 'ost-geheimnis' });
    const sealed = (await bridge.ctx.db.selectFrom('iserv_configs').select('client_secret_sealed').where('tenant_id', '=', b.id).executeTakeFirstOrThrow()).client_secret_sealed;
    await bridge.ctx.db.updateTable('iserv_configs').set({ client_secret_sealed: sealed.slice(0, -4) + 'AAAA' }).where('tenant_id', '=', b.id).execute();
    const page = await new Browser().request(`${bridge.url}/iserv/gy-ost/login`);
    expect(page.status).toBe(500);
    expect(page.body).toContain('<html lang="de">');
    expect(page.body).toContain('Interner Fehler');
    expect(page.body).not.toMatch(/at .*\.js|Error:/);
    await request(bridge.app).delete('/api/v1/tenants/gy-ost/iserv').set(bridge.auth(b.adminToken));
  });

  test('delete switches the login off (audited); the login page then says it is not set up', async () => {
    expect((await request(bridge.app).delete('/api/v1/tenants/gy-west/iserv').set(bridge.auth(a.adminToken))).status).toBe(204);
    expect((await request(bridge.app).delete('/api/v1/tenants/gy-west/iserv').set(bridge.auth(a.adminToken))).status).toBe(404);
    expect(await bridge.ctx.db.selectFrom('iserv_configs').selectAll().where('tenant_id', '=', a.id).execute()).toHaveLength(0);
    const page = await new Browser().request(`${bridge.url}/iserv/gy-west/login`);
    expect(page.status).toBe(404);
    expect(page.body).toContain('nicht eingerichtet');
    const audit = await bridge.ctx.db.selectFrom('admin_log').select('action').where('action', '=', 'iserv.config.delete').where('tenant_id', '=', a.id).execute();
    expect(audit).toHaveLength(1);
  });
});

describeWithDatabases('IServ over plain http is refused in production (SEC-02)', (use) => {
  let bridge: RunningBridge;
  let t: TestTenant;
  beforeAll(async () => {
    bridge = await startBridge(use(), 'production');
    t = await createTenant(bridge, 'gy-prod');
  });
  afterAll(async () => {
    await bridge?.close();
  });

  test('an http IServ address cannot be entered; https can', async () => {
    const http = await request(bridge.app).put('/api/v1/tenants/gy-prod/iserv').set(bridge.auth(t.adminToken)).send({ baseUrl: 'http://schule.example.de', clientId: 'x', clientSecret: 'y' });
    expect(http.status).toBe(422);
    const https = await request(bridge.app).put('/api/v1/tenants/gy-prod/iserv').set(bridge.auth(t.adminToken)).send({ baseUrl: 'https://schule.example.de', clientId: 'x', clientSecret: 'y' });
    expect(https.status).toBe(200);
  });

  test('an http address stored earlier (e.g. in development) is never used: 503 page, no request to it', async () => {
    await bridge.ctx.db.updateTable('iserv_configs').set({ base_url: 'http://127.0.0.1:9' }).where('tenant_id', '=', t.id).execute();
    const res = await request(bridge.app).get('/iserv/gy-prod/login');
    expect(res.status).toBe(503);
    expect(res.text).toContain('Unsichere Verbindung');
    expect(res.text).toContain('SEC-02');
  });
});
