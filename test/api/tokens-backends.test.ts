import request from 'supertest';
import { loadBackend } from '../../src/backends/store.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { createTenant, createToken, type TestTenant } from '../harness/people.js';

describeWithDatabases('admin API: tokens and backends', (use) => {
  let t: TestApp;
  let a: TestTenant;
  let b: TestTenant;
  beforeAll(async () => {
    t = await createTestApp(use());
    a = await createTenant(t, 'schule-a');
    b = await createTenant(t, 'schule-b');
  });
  afterAll(() => t.ctx.audit.close());

  test('a token is shown once and stored only as its SHA-256 hash', async () => {
    const res = await request(t.app).post('/api/v1/tenants/schule-a/tokens').set(t.auth(a.adminToken)).send({ label: 'LMS Moodle BW', scopes: ['lms'] });
    expect(res.status).toBe(201);
    expect(res.body.token).toMatch(/^sbt_[A-Za-z0-9_-]{40,}$/);
    const row = await t.ctx.db.selectFrom('api_tokens').selectAll().where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(res.body.token);
    const listed = await request(t.app).get('/api/v1/tenants/schule-a/tokens').set(t.auth(a.adminToken));
    expect(JSON.stringify(listed.body)).not.toContain(res.body.token);
    expect(listed.body.items.find((x: { id: string }) => x.id === res.body.id)).toMatchObject({ label: 'LMS Moodle BW', scopes: ['lms'], createdBy: expect.stringMatching(/^token:/) });
  });

  test('ACC-05: a revoked token stops working at once; revoking twice is 404', async () => {
    const created = await request(t.app).post('/api/v1/tenants/schule-a/tokens').set(t.auth()).send({ label: 'Herr B', scopes: ['admin'] });
    expect((await request(t.app).get('/api/v1/tenants/schule-a').set(t.auth(created.body.token))).status).toBe(200);
    expect((await request(t.app).delete(`/api/v1/tenants/schule-a/tokens/${created.body.id}`).set(t.auth(a.adminToken))).status).toBe(204);
    expect((await request(t.app).get('/api/v1/tenants/schule-a').set(t.auth(created.body.token))).status).toBe(401);
    expect((await request(t.app).delete(`/api/v1/tenants/schule-a/tokens/${created.body.id}`).set(t.auth(a.adminToken))).status).toBe(404);
  });

  test('an expired token is refused', async () => {
    const soon = new Date(t.clock.now().getTime() + 60_000).toISOString();
    const created = await request(t.app).post('/api/v1/tenants/schule-a/tokens').set(t.auth()).send({ label: 'kurz', scopes: ['dpo'], expiresAt: soon });
    expect((await request(t.app).get('/api/v1/tenants/schule-a').set(t.auth(created.body.token))).status).toBe(200);
    t.clock.advance(61_000);
    expect((await request(t.app).get('/api/v1/tenants/schule-a').set(t.auth(created.body.token))).status).toBe(401);
  });

  test('wrong scope → 403 naming the required scope', async () => {
    const lms = await createToken(t, 'schule-a', ['lms']);
    const res = await request(t.app).post('/api/v1/tenants/schule-a/tokens').set(t.auth(lms)).send({ label: 'x', scopes: ['admin'] });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ type: 'urn:schulbruecke:problem:forbidden', requiredScopes: ['admin'] });
    const create = await request(t.app).post('/api/v1/tenants').set(t.auth(a.adminToken)).send({ slug: 'neu', name: 'Neu' });
    expect(create.status).toBe(403);
  });

  test('ACC-04: a token of tenant A gets nothing of tenant B', async () => {
    const calls: [string, string, object?][] = [
      ['get', '/api/v1/tenants/schule-b'],
      ['patch', '/api/v1/tenants/schule-b', { name: 'übernommen' }],
      ['get', '/api/v1/tenants/schule-b/tokens'],
      ['post', '/api/v1/tenants/schule-b/tokens', { label: 'x', scopes: ['admin'] }],
      ['get', '/api/v1/tenants/schule-b/backends'],
      ['put', '/api/v1/tenants/schule-b/backends/bbb', { kind: 'bbb', baseUrl: 'https://bbb.test/bigbluebutton', secret: 'x'.repeat(32) }],
    ];
    for (const [method, path, body] of calls) {
      const req = (request(t.app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set(t.auth(a.adminToken));
      const res = body ? await req.send(body) : await req;
      expect({ path, method, status: res.status }).toEqual({ path, method, status: 404 });
      expect(res.body.ruleIds).toEqual(['ACC-04']);
    }
    const list = await request(t.app).get('/api/v1/tenants').set(t.auth(a.adminToken));
    expect(list.body.items.map((x: { slug: string }) => x.slug)).toEqual(['schule-a']);
    const unchanged = await request(t.app).get('/api/v1/tenants/schule-b').set(t.auth(b.adminToken));
    expect(unchanged.body.name).toBe('Schule schule-b');
  });

  test('backends: secrets are encrypted at rest and never returned', async () => {
    const secret = 'bbb-shared-secret-0123456789abcdef';
    const put = await request(t.app)
      .put('/api/v1/tenants/schule-a/backends/bbb-main')
      .set(t.auth(a.adminToken))
      .send({ kind: 'bbb', baseUrl: 'https://bbb.schule-a.test/bigbluebutton/', secret });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: 'bbb-main', kind: 'bbb', baseUrl: 'https://bbb.schule-a.test/bigbluebutton', checksumAlgorithm: 'sha256', secretSet: true });
    expect(JSON.stringify(put.body)).not.toContain(secret);
    const row = await t.ctx.db.selectFrom('backends').selectAll().where('name', '=', 'bbb-main').executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.secret_sealed).toMatch(/^v1\./);
    const loaded = await loadBackend(t.ctx.db, t.ctx.secrets, a.id, 'bbb-main');
    expect(loaded?.secret).toBe(secret);
    // The sealed secret is bound to its tenant and name: copied elsewhere it does not open.
    expect(() => t.ctx.secrets.open(row.secret_sealed, `backend:${b.id}:bbb-main`)).toThrow();

    const keep = await request(t.app).put('/api/v1/tenants/schule-a/backends/bbb-main').set(t.auth(a.adminToken)).send({ kind: 'bbb', baseUrl: 'https://bbb2.schule-a.test/bigbluebutton', checksumAlgorithm: 'sha512' });
    expect(keep.status).toBe(200);
    expect((await loadBackend(t.ctx.db, t.ctx.secrets, a.id, 'bbb-main'))?.secret).toBe(secret);

    const log = await t.ctx.db.selectFrom('admin_log').select(['action', 'details']).where('object_type', '=', 'backend').execute();
    expect(log.map((r) => r.action)).toEqual(['backend.create', 'backend.replace']);
    expect(JSON.stringify(log)).not.toContain(secret);
  });

  test('backends: jitsi needs a kid for RS256; a new backend needs its secret; checksum algorithms are checked', async () => {
    const noKid = await request(t.app).put('/api/v1/tenants/schule-a/backends/meet').set(t.auth(a.adminToken)).send({ kind: 'jitsi', domain: 'meet.schule-a.test', appId: 'bridge', alg: 'RS256', secret: 'k'.repeat(64) });
    expect(noKid.status).toBe(422);
    expect(noKid.body.errors[0].field).toBe('kid');
    const noSecret = await request(t.app).put('/api/v1/tenants/schule-a/backends/meet').set(t.auth(a.adminToken)).send({ kind: 'jitsi', domain: 'meet.schule-a.test', appId: 'bridge' });
    expect(noSecret.status).toBe(422);
    const md5 = await request(t.app).put('/api/v1/tenants/schule-a/backends/bbb2').set(t.auth(a.adminToken)).send({ kind: 'bbb', baseUrl: 'https://x.test/bigbluebutton', secret: 's'.repeat(20), checksumAlgorithm: 'md5' });
    expect(md5.status).toBe(422);
    const ok = await request(t.app).put('/api/v1/tenants/schule-a/backends/meet').set(t.auth(a.adminToken)).send({ kind: 'jitsi', domain: 'meet.schule-a.test', appId: 'bridge', secret: 'h'.repeat(40) });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ kind: 'jitsi', alg: 'HS256', audience: 'jitsi', secretSet: true });
    expect((await request(t.app).delete('/api/v1/tenants/schule-a/backends/meet').set(t.auth(a.adminToken))).status).toBe(204);
    expect((await request(t.app).get('/api/v1/tenants/schule-a/backends/meet').set(t.auth(a.adminToken))).status).toBe(404);
  });
});

describeWithDatabases('admin API: credential guessing', (use) => {
  test('failed authentications are rate-limited per client (429), successful ones are not counted', async () => {
    const t = await createTestApp(use());
    for (let i = 0; i < 60; i++) {
      await request(t.app).get('/api/v1/tenants').set(t.auth()).expect(200);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 51; i++) statuses.push((await request(t.app).get('/api/v1/tenants').set(t.auth(`sbt_guess${i}`))).status);
    expect(statuses.slice(0, 50).every((s) => s === 401)).toBe(true);
    const limited = await request(t.app).get('/api/v1/tenants').set(t.auth('sbt_guess-more'));
    expect(limited.status).toBe(429);
    expect(limited.body.type).toBe('urn:schulbruecke:problem:rate-limited');
    await t.ctx.audit.close();
  });
});
