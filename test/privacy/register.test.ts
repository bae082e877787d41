import request from 'supertest';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { createTenant, createToken, personIn } from '../harness/people.js';

describeWithDatabases('the processing record (register of every provider’s describe())', (use) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(use());
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  test('admin and DPO read it as JSON and as a German HTML page; it lists every category with purpose and retention rule', async () => {
    const a = await createTenant(t, 'reg-a');
    const dpo = await createToken(t, a.slug, ['dpo']);
    const json = await request(t.app).get('/api/v1/tenants/reg-a/privacy/register').set({ Authorization: `Bearer ${a.adminToken}` });
    expect(json.status).toBe(200);
    const described = t.ctx.privacy.describe();
    expect(json.body.categories).toHaveLength(described.length);
    for (const c of described) {
      expect(json.body.categories).toContainEqual(expect.objectContaining({ category: c.category, table: c.table, retentionRule: c.retentionRule, purpose: c.purpose, fields: c.fields }));
    }
    const page = await request(t.app).get('/api/v1/tenants/reg-a/privacy/register').set({ Authorization: `Bearer ${dpo}`, Accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('<html lang="de">');
    expect(page.text).toContain('Verzeichnis der Verarbeitungstätigkeiten');
    for (const c of described) {
      expect(page.text).toContain(c.category);
      expect(page.text).toContain(c.retentionRule);
    }
    const en = await request(t.app).get('/api/v1/tenants/reg-a/privacy/register?lang=en').set({ Authorization: `Bearer ${dpo}`, Accept: 'text/html' });
    expect(en.text).toContain('Record of processing activities');
  });

  test('ACC-04: other scopes and other tenants are refused', async () => {
    const b = await createTenant(t, 'reg-b');
    const lms = await createToken(t, 'reg-a', ['lms']);
    expect((await request(t.app).get('/api/v1/tenants/reg-a/privacy/register').set({ Authorization: `Bearer ${lms}` })).status).toBe(403);
    const foreign = await request(t.app).get('/api/v1/tenants/reg-a/privacy/register').set({ Authorization: `Bearer ${b.adminToken}` });
    expect(foreign.status).toBe(404);
    expect(foreign.body.ruleIds).toEqual(['ACC-04']);
  });

  test('the /privacy/register page is for the DPO and admins in a session', async () => {
    const a = await createTenant(t, 'reg-c');
    const pupil = await personIn(t, a.id, { roles: ['student'] });
    const dpo = await personIn(t, a.id, { roles: ['dpo'] });
    expect((await request(t.app).get('/privacy/register').set('Cookie', pupil.cookie)).status).toBe(403);
    const page = await request(t.app).get('/privacy/register').set('Cookie', dpo.cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Schule reg-c');
    expect((await request(t.app).get('/privacy/register')).status).toBe(401);
  });
});
