import request from 'supertest';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { DAY } from '../../src/shared/clock.js';

const PROBLEM = 'application/problem+json';

describeWithDatabases('admin API: tenants', (use) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(use());
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  test('operator creates a tenant with default settings', async () => {
    const res = await request(t.app).post('/api/v1/tenants').set(t.auth()).send({ slug: 'gs-nord', name: 'Grundschule Nord' });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe('/api/v1/tenants/gs-nord');
    expect(res.body).toMatchObject({ slug: 'gs-nord', name: 'Grundschule Nord', deletedAt: null });
    expect(res.body.settings).toMatchObject({ locale: 'de', schoolYearStart: '08-01', consentRequired: true, retention: { activityLogDays: 35, accessLogDays: 7, adminLogDays: 56 } });
  });

  test('duplicate slug → 409 problem', async () => {
    const res = await request(t.app).post('/api/v1/tenants').set(t.auth()).send({ slug: 'gs-nord', name: 'Noch eine' });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toContain(PROBLEM);
    expect(res.body.type).toBe('urn:schulbruecke:problem:conflict');
  });

  test('schema violation → 422 with field errors, nothing written', async () => {
    const res = await request(t.app).post('/api/v1/tenants').set(t.auth()).send({ slug: 'X!', name: '' });
    expect(res.status).toBe(422);
    expect(res.body.type).toBe('urn:schulbruecke:problem:validation-failed');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['name', 'slug']);
    const count = await t.ctx.db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  test('retention settings may only shorten the catalogue maxima (RET-01, RET-02, RET-03)', async () => {
    const longer = await request(t.app)
      .patch('/api/v1/tenants/gs-nord')
      .set(t.auth())
      .send({ settings: { retention: { activityLogDays: 36, accessLogDays: 8, adminLogDays: 57 } } });
    expect(longer.status).toBe(422);
    const messages = longer.body.errors.map((e: { message: string }) => e.message).join(' ');
    expect(messages).toContain('RET-01');
    expect(messages).toContain('RET-02');
    expect(messages).toContain('RET-03');
    const shorter = await request(t.app).patch('/api/v1/tenants/gs-nord').set(t.auth()).send({ settings: { retention: { activityLogDays: 14 } } });
    expect(shorter.status).toBe(200);
    expect(shorter.body.settings.retention).toMatchObject({ activityLogDays: 14, accessLogDays: 7 });
    const reset = await request(t.app).patch('/api/v1/tenants/gs-nord').set(t.auth()).send({ settings: { retention: { activityLogDays: null } } });
    expect(reset.body.settings.retention.activityLogDays).toBe(35);
  });

  test('malformed JSON → 400, wrong media type → 415, body over 1 MiB → 413', async () => {
    const malformed = await request(t.app).post('/api/v1/tenants').set(t.auth()).set('Content-Type', 'application/json').send('{"slug": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.type).toBe('urn:schulbruecke:problem:malformed-json');
    expect(JSON.stringify(malformed.body)).not.toMatch(/at .*\.js|SyntaxError/);
    const text = await request(t.app).post('/api/v1/tenants').set(t.auth()).set('Content-Type', 'text/plain').send('slug=x');
    expect(text.status).toBe(415);
    const big = await request(t.app).post('/api/v1/tenants').set(t.auth()).send({ slug: 'big', name: 'x'.repeat(1024 * 1024 + 10) });
    expect(big.status).toBe(413);
    expect(big.headers['content-type']).toContain(PROBLEM);
  });

  test('no token → 401; unknown token → 401', async () => {
    const none = await request(t.app).get('/api/v1/tenants');
    expect(none.status).toBe(401);
    expect(none.body.type).toBe('urn:schulbruecke:problem:unauthenticated');
    const wrong = await request(t.app).get('/api/v1/tenants').set(t.auth('sbt_nope'));
    expect(wrong.status).toBe(401);
  });

  test('soft delete hides the tenant and its tokens; restore within the window (RET-06)', async () => {
    await request(t.app).post('/api/v1/tenants').set(t.auth()).send({ slug: 'rs-sued', name: 'Realschule Süd', settings: { retention: { purgatoryDays: 60 } } });
    const tok = await request(t.app).post('/api/v1/tenants/rs-sued/tokens').set(t.auth()).send({ label: 'Admin Frau A', scopes: ['admin'] });
    expect((await request(t.app).get('/api/v1/tenants/rs-sued').set(t.auth(tok.body.token))).status).toBe(200);

    expect((await request(t.app).delete('/api/v1/tenants/rs-sued').set(t.auth())).status).toBe(204);
    expect((await request(t.app).get('/api/v1/tenants/rs-sued').set(t.auth())).status).toBe(404);
    expect((await request(t.app).get('/api/v1/tenants/rs-sued').set(t.auth(tok.body.token))).status).toBe(401);
    const listed = await request(t.app).get('/api/v1/tenants?includeDeleted=true').set(t.auth());
    const deleted = listed.body.items.find((x: { slug: string }) => x.slug === 'rs-sued');
    expect(new Date(deleted.restorableUntil).getTime() - new Date(deleted.deletedAt).getTime()).toBe(60 * DAY);
    expect((await request(t.app).post('/api/v1/tenants').set(t.auth()).send({ slug: 'rs-sued', name: 'Neu' })).status).toBe(409);

    t.clock.advance(59 * DAY);
    const restored = await request(t.app).post('/api/v1/tenants/rs-sued/restore').set(t.auth());
    expect(restored.status).toBe(200);
    expect(restored.body.deletedAt).toBeNull();

    await request(t.app).delete('/api/v1/tenants/rs-sued').set(t.auth());
    t.clock.advance(60 * DAY);
    const late = await request(t.app).post('/api/v1/tenants/rs-sued/restore').set(t.auth());
    expect(late.status).toBe(410);
    expect(late.body.ruleIds).toEqual(['RET-06']);
  });

  test('every admin action is in the admin-action log without secrets or bodies (RET-03)', async () => {
    const rows = await t.ctx.db.selectFrom('admin_log').selectAll().orderBy('at').execute();
    const actions = rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['tenant.create', 'tenant.update', 'tenant.delete', 'tenant.restore', 'token.create']));
    expect(rows.every((r) => r.actor === 'operator')).toBe(true);
    expect(JSON.stringify(rows)).not.toMatch(/sbt_|Grundschule Nord|Frau A/);
  });

  test('unknown routes answer 404 problem+json', async () => {
    const res = await request(t.app).get('/api/v1/nothing-here').set(t.auth());
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain(PROBLEM);
  });
});
