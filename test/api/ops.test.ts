import request from 'supertest';
import { createTestApp } from '../harness/app.js';
import { databaseKinds, openTestDatabase } from '../harness/db.js';

describe.each(databaseKinds())('operations [%s]', (kind) => {
  test('healthz, readyz, metrics, OpenAPI; security headers (SEC-02)', async () => {
    const database = await openTestDatabase(kind);
    const t = await createTestApp(database);
    try {
      expect((await request(t.app).get('/healthz')).body).toEqual({ status: 'ok' });
      expect((await request(t.app).get('/readyz')).body).toEqual({ status: 'ready', database: kind });
      await request(t.app).get('/api/v1/tenants').set(t.auth());
      const metrics = await request(t.app).get('/metrics');
      expect(metrics.text).toContain('http_request_duration_seconds_bucket');
      expect(metrics.text).toContain('route="/api/v1/tenants"');

      const doc = await request(t.app).get('/api/v1/openapi.json');
      expect(doc.status).toBe(200);
      expect(doc.body.openapi).toBe('3.1.0');
      const create = doc.body.paths['/tenants'].post;
      expect(create.requestBody.content['application/json'].schema.properties.slug.pattern).toBe('^[a-z0-9][a-z0-9-]{1,62}$');
      expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '401', '409', '422', '413']));
      expect(doc.body.paths['/tenants/{slug}/backends/{name}'].put.requestBody.content['application/json'].schema.oneOf ?? doc.body.paths['/tenants/{slug}/backends/{name}'].put.requestBody.content['application/json'].schema.anyOf).toHaveLength(2);

      const res = await request(t.app).get('/healthz');
      expect(res.headers['strict-transport-security']).toContain('max-age=31536000');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-powered-by']).toBeUndefined();
    } finally {
      await t.ctx.audit.close();
      await database.dispose();
    }
  });

  test('RET-02: the access log keeps route templates and anonymised IPs only', async () => {
    const database = await openTestDatabase(kind);
    const t = await createTestApp(database);
    try {
      await request(t.app).get('/api/v1/tenants/some-slug').set('X-Forwarded-For', '203.0.113.77').set(t.auth());
      await request(t.app).get('/healthz').set('X-Forwarded-For', '2001:db8:abcd:12::99');
      await t.ctx.audit.flush();
      const rows = await t.ctx.db.selectFrom('access_log').selectAll().execute();
      const row = rows.find((r) => r.route === '/api/v1/tenants/{slug}')!;
      expect(row).toMatchObject({ method: 'GET', status: 404, ip_anon: '203.0.113.0' });
      expect(JSON.stringify(rows)).not.toContain('203.0.113.77');
      expect(JSON.stringify(rows)).not.toContain('some-slug');
    } finally {
      await t.ctx.audit.close();
      await database.dispose();
    }
  });

  test('database unavailable → 503 problem, readyz 503', async () => {
    const database = await openTestDatabase(kind);
    const t = await createTestApp(database);
    await t.ctx.audit.close();
    await database.close();
    const res = await request(t.app).get('/api/v1/tenants').set(t.auth('sbt_someone'));
    expect(res.status).toBe(503);
    expect(res.body.type).toBe('urn:schulbruecke:problem:database-unavailable');
    expect((await request(t.app).get('/readyz')).status).toBe(503);
    expect((await request(t.app).get('/healthz')).status).toBe(200);
    if (kind === 'postgres') await database.dispose().catch(() => undefined);
  });
});
