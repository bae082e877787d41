import request from 'supertest';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { createTenant, createToken, personIn, type TestPerson, type TestTenant } from '../harness/people.js';
import { startBbbServer, lastCall, type BbbTestServer } from '../support/bbb-server.js';
import { hasObjection } from '../../src/consent/index.js';

describeWithDatabases('consents, objections, usage rules; peer and staff rooms', (use) => {
  let t: TestApp;
  let bbb: BbbTestServer;
  let tenant: TestTenant;
  let lms: string;
  let teacher: TestPerson;
  let laa: TestPerson;
  let pupil: TestPerson;
  const post = (p: TestPerson, path: string, body: Record<string, string> = {}) => request(t.app).post(path).set({ Cookie: p.cookie }).type('form').send({ csrf: p.csrf, ...body });

  beforeAll(async () => {
    t = await createTestApp(use());
    bbb = await startBbbServer();
    tenant = await createTenant(t, 'rs-ost', { consentRequired: true });
    lms = await createToken(t, 'rs-ost', ['lms']);
    await request(t.app).put('/api/v1/tenants/rs-ost/backends/bbb').set(t.auth(tenant.adminToken)).send({ kind: 'bbb', baseUrl: bbb.baseUrl, secret: bbb.secret, checksumAlgorithm: 'sha512' });
    teacher = await personIn(t, tenant.id, { roles: ['teacher'], context: 'seminar' });
    laa = await personIn(t, tenant.id, { roles: ['laa'], context: 'seminar' });
    pupil = await personIn(t, tenant.id, { roles: ['student'], context: 'seminar' });
  });
  afterAll(async () => {
    await t.ctx.audit.close();
    await bbb.close();
  });

  test('VC-13: a new version of the usage rules must be accepted again; old versions are refused', async () => {
    const v1 = await request(t.app).post('/api/v1/tenants/rs-ost/usage-rules').set(t.auth(tenant.adminToken)).send({ textDe: 'Regeln Fassung eins: keine Aufzeichnung.' });
    expect(v1.status).toBe(201);
    expect((await request(t.app).post('/api/v1/tenants/rs-ost/usage-rules').set(t.auth(lms)).send({ textDe: 'LMS darf keine Regeln veröffentlichen.' })).status).toBe(403);
    expect((await request(t.app).post('/api/v1/tenants/rs-ost/usage-rules/acceptances').set(t.auth(lms)).send({ userId: laa.userId, version: 1 })).status).toBe(204);
    const v2 = await request(t.app).post('/api/v1/tenants/rs-ost/usage-rules').set(t.auth(tenant.adminToken)).send({ textDe: 'Regeln Fassung zwei: keine Dritten im Raum.' });
    expect(v2.body.version).toBe(2);
    const old = await request(t.app).post('/api/v1/tenants/rs-ost/usage-rules/acceptances').set(t.auth(lms)).send({ userId: laa.userId, version: 1 });
    expect(old.status).toBe(409);
    expect(old.body.ruleIds).toEqual(['VC-13']);
    const created = await request(t.app).post(`/api/v1/tenants/rs-ost/contexts/${teacher.contextId}/rooms`).set(t.auth(lms)).send({ userId: teacher.userId, title: 'LAA-Treffen', category: 'peer', backend: 'bbb' });
    const roomId = created.body.id as string;
    const page = await request(t.app).get(`/rooms/${roomId}`).set({ Cookie: laa.cookie });
    expect(page.text).toContain('Fassung zwei');
    await post(laa, `/rooms/${roomId}/rules`, { accept: 'yes', version: '2' });
    const list = await request(t.app).get(`/api/v1/tenants/rs-ost/usage-rules/acceptances?userId=${laa.userId}`).set(t.auth(lms));
    expect(list.body.items.map((i: { version: number }) => i.version)).toEqual([1, 2]);
  });

  test('VC-09: peer rooms let a participant in only after they agreed (recorded)', async () => {
    const roomId = (await request(t.app).get(`/api/v1/tenants/rs-ost/contexts/${teacher.contextId}/rooms`).set(t.auth(lms))).body.items[0].id as string;
    await request(t.app).post(`/api/v1/tenants/rs-ost/rooms/${roomId}/start`).set(t.auth(lms)).send({ userId: teacher.userId });
    const before = await post(laa, `/rooms/${roomId}/join`);
    expect(before.status).toBe(403);
    expect(before.text).toContain('VC-09');
    expect((await request(t.app).get(`/rooms/${roomId}`).set({ Cookie: laa.cookie })).text).toContain('Ich stimme zu');
    await post(laa, `/rooms/${roomId}/agree`);
    const consents = await request(t.app).get(`/api/v1/tenants/rs-ost/consents?userId=${laa.userId}`).set(t.auth(lms));
    expect(consents.body.items).toEqual([expect.objectContaining({ scope: 'peer', withdrawnAt: null, source: 'room-page' })]);
    const after = await post(laa, `/rooms/${roomId}/join`);
    expect(after.status).toBe(303);
    await fetch(after.headers.location!, { redirect: 'manual' });
    expect(lastCall(bbb, 'join')).toMatchObject({ userID: laa.userId, role: 'VIEWER' });
  });

  test('VC-09: a pupil cannot join a staff meeting', async () => {
    const created = await request(t.app).post(`/api/v1/tenants/rs-ost/contexts/${teacher.contextId}/rooms`).set(t.auth(lms)).send({ userId: teacher.userId, title: 'Fachkonferenz', category: 'staff', backend: 'bbb', purpose: 'Fachkonferenz Mathematik' });
    await request(t.app).post(`/api/v1/tenants/rs-ost/rooms/${created.body.id}/start`).set(t.auth(lms)).send({ userId: teacher.userId });
    const res = await request(t.app).post(`/api/v1/tenants/rs-ost/rooms/${created.body.id}/join`).set(t.auth(lms)).send({ userId: pupil.userId });
    expect(res.status).toBe(403);
    expect(res.body.ruleIds).toEqual(['VC-09']);
    const noPurpose = await request(t.app).post(`/api/v1/tenants/rs-ost/contexts/${teacher.contextId}/rooms`).set(t.auth(lms)).send({ userId: teacher.userId, title: 'Ohne Zweck', category: 'staff', backend: 'bbb' });
    expect(noPurpose.body.ruleIds).toEqual(['VC-09']);
  });

  test('VC-06/DSR-04: objections recorded and lifted through the API, audited as admin actions', async () => {
    expect((await request(t.app).put(`/api/v1/tenants/rs-ost/objections/${pupil.userId}`).set(t.auth(lms))).status).toBe(204);
    expect((await request(t.app).put(`/api/v1/tenants/rs-ost/objections/${pupil.userId}`).set(t.auth(lms))).status).toBe(204); // idempotent
    expect(await hasObjection(t.ctx.db, tenant.id, pupil.userId)).toBe(true);
    expect((await request(t.app).delete(`/api/v1/tenants/rs-ost/objections/${pupil.userId}`).set(t.auth(lms))).status).toBe(204);
    expect((await request(t.app).delete(`/api/v1/tenants/rs-ost/objections/${pupil.userId}`).set(t.auth(lms))).status).toBe(404);
    expect(await hasObjection(t.ctx.db, tenant.id, pupil.userId)).toBe(false);
    const log = await t.ctx.db.selectFrom('admin_log').select(['action', 'rule_ids']).where('tenant_id', '=', tenant.id).where('object_id', '=', pupil.userId).execute();
    expect(log.map((l) => l.action).sort()).toEqual(['objection.lift', 'objection.record', 'objection.record']);
  });

  test('ACC-04: consents for users of another tenant are refused; other tenants see nothing', async () => {
    const other = await createTenant(t, 'gs-west');
    const stranger = await personIn(t, other.id, { roles: ['student'] });
    const res = await request(t.app).post('/api/v1/tenants/rs-ost/consents/import').set(t.auth(lms)).send({ items: [{ userId: stranger.userId, scope: 'video', givenAt: '2026-09-01T08:00:00Z' }] });
    expect(res.status).toBe(422);
    expect(res.body.ruleIds).toEqual(['ACC-04']);
    const count = await t.ctx.db.selectFrom('consents').select('id').where('user_id', '=', stranger.userId).execute();
    expect(count).toEqual([]);
    const otherLms = await createToken(t, 'gs-west', ['lms']);
    expect((await request(t.app).get(`/api/v1/tenants/rs-ost/usage-rules`).set(t.auth(otherLms))).status).toBe(404);
  });

  test('VC-03/VC-15: a guest with a valid link waits while the room is not running', async () => {
    const created = await request(t.app).post(`/api/v1/tenants/rs-ost/contexts/${teacher.contextId}/rooms`).set(t.auth(lms)).send({ userId: teacher.userId, title: 'Bewerbung', category: 'sensitive', backend: 'bbb', purpose: 'Bewerbungsgespräch' });
    const link = await request(t.app).post(`/api/v1/tenants/rs-ost/rooms/${created.body.id}/share-links`).set(t.auth(lms)).send({ userId: teacher.userId, hours: 1 });
    expect(link.status).toBe(201);
    const path = new URL(link.body.url).pathname;
    const early = await request(t.app).post(path).type('form').send({ name: 'Bewerberin', password: link.body.password, accept: 'yes' });
    expect(early.status).toBe(403);
    expect(early.text).toContain('Warten auf die Lehrkraft');
    await request(t.app).post(`/api/v1/tenants/rs-ost/rooms/${created.body.id}/start`).set(t.auth(lms)).send({ userId: teacher.userId });
    const ok = await request(t.app).post(path).type('form').send({ name: 'Bewerberin', password: link.body.password, accept: 'yes' });
    expect(ok.status).toBe(303);
    t.clock.advance(61 * 60_000);
    const expired = await request(t.app).post(path).type('form').send({ name: 'Bewerberin', password: link.body.password, accept: 'yes' });
    expect(expired.status).toBe(403);
    expect(expired.text).toContain('abgelaufen');
  });
});
