import request from 'supertest';
import { sql } from 'kysely';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { createTenant, createToken, personIn, type TestPerson, type TestTenant } from '../harness/people.js';
import { seedActivity, seedRichPerson } from '../support/privacy-seed.js';
import { binary, unzip } from './zip.js';
import { hasObjection } from '../../src/consent/index.js';
import { isRestricted } from '../../src/privacy/restrictions.js';
import { exportFileRetention, requestRecordRetention } from '../../src/privacy/retention.js';
import { processOpenRequests } from '../../src/privacy/requests.js';
import type { PrivacyProvider } from '../../src/privacy/registry.js';
import { DAY, MINUTE } from '../../src/shared/clock.js';

describeWithDatabases('DSR: data-subject requests', (use) => {
  let t: TestApp;
  let a: TestTenant;
  let b: TestTenant;
  let dpoA: string;
  let lmsA: string;
  let dpoB: string;
  let lmsB: string;
  let pupil: TestPerson;

  const api = (slug: string) => `/api/v1/tenants/${slug}/privacy`;
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const file = (token: string, body: Record<string, unknown>, slug = a.slug) => request(t.app).post(`${api(slug)}/requests`).set(auth(token)).send(body);
  const approve = (id: string, comment = 'Freigegeben.', token = dpoA) => request(t.app).post(`${api(a.slug)}/requests/${id}/approve`).set(auth(token)).send({ comment });
  const adminLog = (id: string) => t.ctx.db.selectFrom('admin_log').select(['action', 'actor', 'rule_ids']).where('object_id', '=', id).orderBy('at').execute();

  async function download(person: TestPerson, id: string): Promise<{ location: string; body: Buffer }> {
    const link = await request(t.app).post(`/privacy/me/requests/${id}/download`).set('Cookie', person.cookie).type('form').send({ csrf: person.csrf });
    expect(link.status).toBe(303);
    const res = await request(t.app).get(link.headers.location!).set('Cookie', person.cookie).buffer(true).parse(binary);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    return { location: link.headers.location!, body: res.body as Buffer };
  }

  beforeAll(async () => {
    t = await createTestApp(use());
    a = await createTenant(t, 'gs-a');
    b = await createTenant(t, 'gs-b');
    dpoA = await createToken(t, a.slug, ['dpo']);
    lmsA = await createToken(t, a.slug, ['lms']);
    dpoB = await createToken(t, b.slug, ['dpo']);
    lmsB = await createToken(t, b.slug, ['lms']);
    pupil = await personIn(t, a.id, { roles: ['student'], subject: 'pupil-1' });
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  test('DSR-01, DSR-02, DSR-05: a pupil requests their data on "Meine Daten", the DPO approves, the pupil downloads one archive holding everything', async () => {
    const seeded = await seedRichPerson(t.ctx.db, t.clock, { tenantId: a.id, subject: 'pupil-1', activity: 1200 });
    expect(seeded.userId).toBe(pupil.userId);
    await seedActivity(t.ctx.db, t.clock, a.id, null, null, 50, 'noise'); // others' entries stay out

    const page = await request(t.app).get('/privacy/me').set('Cookie', pupil.cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html lang="de">');
    expect(page.text).toContain('Meine Daten');
    for (const c of t.ctx.privacy.describe()) expect(page.text).toContain(c.category);

    const noCsrf = await request(t.app).post('/privacy/me/requests').set('Cookie', pupil.cookie).type('form').send({ type: 'export' });
    expect(noCsrf.status).toBe(403);
    const filed = await request(t.app).post('/privacy/me/requests').set('Cookie', pupil.cookie).type('form').send({ csrf: pupil.csrf, type: 'export' });
    expect(filed.status).toBe(303);

    const listed = await request(t.app).get(`${api(a.slug)}/requests?status=awaiting_approval`).set(auth(dpoA));
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(1);
    const id = listed.body.items[0].id as string;
    expect(listed.body.items[0]).toMatchObject({ userId: pupil.userId, type: 'export', filedVia: 'self' });

    const approved = await approve(id, 'Gern, hier ist Ihre Auskunft.');
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('download_ready');
    expect(approved.body.downloadUntil).toBe(new Date(t.clock.now().getTime() + 7 * DAY).toISOString());

    const mine = await request(t.app).get('/privacy/me').set('Cookie', pupil.cookie);
    expect(mine.text).toContain('Gern, hier ist Ihre Auskunft.');
    expect(mine.text).toContain('zum Herunterladen bereit');

    const { location, body } = await download(pupil, id);
    const files = await unzip(body);
    expect([...files.keys()]).toEqual(expect.arrayContaining(['data.json', 'index.html', 'csv/audit.activity.csv', 'csv/identity.users.csv']));
    const data = JSON.parse(files.get('data.json')!.toString('utf8'));
    expect(data.schemaVersion).toBe(1);
    expect(data.subject.userId).toBe(pupil.userId);
    for (const c of t.ctx.privacy.describe()) {
      expect(data.categories[c.category]).toMatchObject({ purpose: c.purpose, retentionRule: c.retentionRule });
    }
    const cat = (name: string) => data.categories[name].rows as Record<string, unknown>[];
    const objects = new Set(cat('audit.activity').map((r) => r.object_id));
    expect(objects.size).toBe(seeded.activity);
    for (let i = 0; i < seeded.activity; i++) expect(objects.has(`seed-${i}`)).toBe(true);
    expect([...objects].some((o) => String(o).startsWith('noise'))).toBe(false);
    expect(cat('identity.users')).toHaveLength(1);
    expect(cat('identity.memberships')).toHaveLength(seeded.contextIds.length + 1);
    expect(cat('identity.sessions').length).toBeGreaterThanOrEqual(seeded.sessions + 1);
    expect(cat('consent.consents')).toHaveLength(seeded.consents);
    expect(cat('consent.objections')).toHaveLength(seeded.objections);
    expect(cat('privacy.restrictions')).toHaveLength(seeded.restrictions);
    expect(cat('privacy.requests').map((r) => r.id)).toContain(id);
    expect(data.categories['audit.activity'].count).toBe(seeded.activity);
    expect(cat('competency.grids').map((g) => g.id).sort()).toEqual([...seeded.gridIds].sort());
    expect(cat('competency.items')).toHaveLength(seeded.gridIds.length * seeded.itemsPerGrid);
    expect(cat('competency.items').filter((i) => i.selfLevel !== null)).toHaveLength(seeded.selfAssessed);
    expect(cat('competency.lebs').map((l) => l.id).sort()).toEqual([...seeded.lebIds].sort());
    expect(cat('consent.usage_rule_acceptances')).toHaveLength(seeded.acceptances);

    // Generic, so modules merged later are checked too: for every described category,
    // the export holds at least as many rows as its table has rows linked to the user.
    for (const c of t.ctx.privacy.describe()) {
      const where = c.userColumns.map((col) => sql`${sql.ref(col)}::text = ${pupil.userId}`);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(c.table)} where ${sql.join(where, sql` or `)}`.execute(t.ctx.db);
      const exported = data.categories[c.category].count as number;
      expect(`${c.category}: ${exported >= rows[0]!.n ? 'complete' : `${exported} exported of ${rows[0]!.n} rows in ${c.table}`}`).toBe(`${c.category}: complete`);
    }

    const csv = files.get('csv/audit.activity.csv')!.toString('utf8').trim().split('\r\n');
    expect(csv).toHaveLength(seeded.activity + 1);
    const index = files.get('index.html')!.toString('utf8');
    expect(index).toContain('<html lang="de">');
    expect(index).toContain('Ihre Daten in der Schulbrücke');
    expect(index).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(index).toContain(`von ${seeded.activity} Einträgen`);

    // DSR-05: single use.
    const again = await request(t.app).get(location).set('Cookie', pupil.cookie);
    expect(again.status).toBe(410);

    const actions = (await adminLog(id)).map((r) => r.action);
    expect(actions).toEqual(['privacy.request.file', 'privacy.request.submit', 'privacy.request.approve', 'privacy.request.start', 'privacy.request.ready', 'privacy.download.link', 'privacy.download']);
    const log = JSON.stringify(await t.ctx.db.selectFrom('admin_log').selectAll().execute());
    expect(log).not.toContain(pupil.userId);
    expect(log).not.toContain('Paula');
  });

  test('DSR-05: the archive is sealed at rest (AES-256-GCM) and a tampered chunk does not open', async () => {
    const row = await t.ctx.db.selectFrom('privacy_requests').select('id').where('user_id', '=', pupil.userId).where('type', '=', 'export').executeTakeFirstOrThrow();
    const chunks = await t.ctx.db.selectFrom('privacy_export_chunks').select(['seq', 'data']).where('request_id', '=', row.id).orderBy('seq').execute();
    expect(chunks.length).toBeGreaterThan(0);
    const all = Buffer.concat(chunks.map((c) => c.data));
    expect(all.includes(Buffer.from('PK\u0003\u0004'))).toBe(false);
    expect(all.includes(Buffer.from('seed-1'))).toBe(false);
    const first = chunks[0]!;
    const tampered = Buffer.from(first.data);
    tampered[20] = tampered[20]! ^ 0xff;
    await t.ctx.db.updateTable('privacy_export_chunks').set({ data: tampered }).where('request_id', '=', row.id).where('seq', '=', 0).execute();
    const link = await request(t.app).post(`/privacy/me/requests/${row.id}/download`).set('Cookie', pupil.cookie).type('form').send({ csrf: pupil.csrf });
    const broken = await request(t.app).get(link.headers.location!).set('Cookie', pupil.cookie);
    expect(broken.status).toBe(500);
    expect(broken.headers['content-type']).not.toContain('zip');
    await t.ctx.db.updateTable('privacy_export_chunks').set({ data: first.data }).where('request_id', '=', row.id).where('seq', '=', 0).execute();
  });

  test('DSR-05: a download link expires, and only the one who asked for it can use it', async () => {
    const row = await t.ctx.db.selectFrom('privacy_requests').select('id').where('user_id', '=', pupil.userId).where('type', '=', 'export').executeTakeFirstOrThrow();
    const link = await request(t.app).post(`/privacy/me/requests/${row.id}/download`).set('Cookie', pupil.cookie).type('form').send({ csrf: pupil.csrf });
    const other = await personIn(t, a.id, { roles: ['student'] });
    expect((await request(t.app).get(link.headers.location!).set('Cookie', other.cookie)).status).toBe(404);
    expect((await request(t.app).get(link.headers.location!)).status).toBe(401);
    const otherLink = await request(t.app).post(`/privacy/me/requests/${row.id}/download`).set('Cookie', other.cookie).type('form').send({ csrf: other.csrf });
    expect(otherLink.status).toBe(404);
    t.clock.advance(16 * MINUTE);
    expect((await request(t.app).get(link.headers.location!).set('Cookie', pupil.cookie)).status).toBe(410);

    // The DPO by token: a link bound to that very token.
    const dpoLink = await request(t.app).post(`${api(a.slug)}/requests/${row.id}/download-link`).set(auth(dpoA)).send({});
    expect(dpoLink.status).toBe(201);
    const otherDpo = await createToken(t, a.slug, ['dpo']);
    expect((await request(t.app).get(dpoLink.body.url).set(auth(otherDpo))).status).toBe(404);
    expect((await request(t.app).get(dpoLink.body.url).set(auth(lmsA))).status).toBe(403);
    const got = await request(t.app).get(dpoLink.body.url).set(auth(dpoA)).buffer(true).parse(binary);
    expect(got.status).toBe(200);
    expect((await unzip(got.body as Buffer)).has('data.json')).toBe(true);
    expect((await request(t.app).get(dpoLink.body.url).set(auth(dpoA))).status).toBe(410);
    expect((await request(t.app).post(`${api(a.slug)}/requests/${row.id}/download-link`).set(auth(lmsA)).send({})).status).toBe(403);
  });

  test('DSR-05, ACC-04: only a DPO of the same tenant approves or rejects, with a comment the requester sees', async () => {
    const filed = await file(lmsA, { userId: pupil.userId, type: 'erasure' });
    expect(filed.status).toBe(201);
    expect(filed.body).toMatchObject({ status: 'awaiting_approval', filedVia: 'lms' });
    const id = filed.body.id as string;
    expect((await approve(id, 'x', lmsA)).status).toBe(403);
    expect((await approve(id, 'x', a.adminToken)).status).toBe(403);
    const foreign = await request(t.app).post(`${api(a.slug)}/requests/${id}/approve`).set(auth(dpoB)).send({});
    expect(foreign.status).toBe(404);
    expect(foreign.body.ruleIds).toEqual(['ACC-04']);
    expect((await request(t.app).post(`${api(b.slug)}/requests/${id}/approve`).set(auth(dpoB)).send({})).status).toBe(404);
    expect((await request(t.app).get(`${api(b.slug)}/requests/${id}`).set(auth(dpoB))).status).toBe(404);

    const noReason = await request(t.app).post(`${api(a.slug)}/requests/${id}/reject`).set(auth(dpoA)).send({});
    expect(noReason.status).toBe(422);
    const rejected = await request(t.app).post(`${api(a.slug)}/requests/${id}/reject`).set(auth(dpoA)).send({ comment: 'Zeugnisdaten müssen wir aufbewahren.' });
    expect(rejected.body.status).toBe('rejected');
    expect((await approve(id)).status).toBe(409);
    const seen = await request(t.app).get(`${api(a.slug)}/requests/${id}`).set(auth(lmsA));
    expect(seen.body).toMatchObject({ status: 'rejected', dpoComment: 'Zeugnisdaten müssen wir aufbewahren.' });
    expect((await request(t.app).get('/privacy/me').set('Cookie', pupil.cookie)).text).toContain('Zeugnisdaten müssen wir aufbewahren.');
    expect((await adminLog(id)).map((r) => r.action)).toEqual(['privacy.request.file', 'privacy.request.submit', 'privacy.request.reject']);
  });

  test('ACC-04: the LMS cannot act for a user of another tenant; DSR-05: one open request per type', async () => {
    const other = await personIn(t, b.id, { roles: ['student'] });
    const refused = await file(lmsA, { userId: other.userId, type: 'export' });
    expect(refused.status).toBe(404);
    expect(refused.body.ruleIds).toEqual(['ACC-04']);
    expect((await file(lmsB, { userId: pupil.userId, type: 'export' }, b.slug)).status).toBe(404);
    expect((await file(lmsB, { userId: pupil.userId, type: 'export' })).status).toBe(404);
    expect((await file(a.adminToken, { userId: pupil.userId, type: 'export' })).status).toBe(403);
    const first = await file(lmsB, { userId: other.userId, type: 'other', message: 'Welche Daten haben Sie?' }, b.slug);
    expect(first.status).toBe(201);
    const dup = await file(dpoB, { userId: other.userId, type: 'other', message: 'Nochmal' }, b.slug);
    expect(dup.status).toBe(409);
  });

  test('DSR-05: a tenant may auto-approve exports (not erasures)', async () => {
    const c = await createTenant(t, 'gs-auto', { privacy: { autoApproveExports: true } });
    const lms = await createToken(t, c.slug, ['lms']);
    const person = await personIn(t, c.id, { roles: ['student'] });
    const exp = await file(lms, { userId: person.userId, type: 'export' }, c.slug);
    expect(exp.status).toBe(201);
    expect(exp.body.status).toBe('download_ready');
    const log = await adminLog(exp.body.id);
    expect(log.find((r) => r.action === 'privacy.request.approve')).toMatchObject({ actor: 'system' });
    const erase = await file(lms, { userId: person.userId, type: 'erasure' }, c.slug);
    expect(erase.body.status).toBe('awaiting_approval');
  });

  test('DSR-05: the requester withdraws a request before it is carried out', async () => {
    const person = await personIn(t, a.id, { roles: ['student'] });
    await request(t.app).post('/privacy/me/requests').set('Cookie', person.cookie).type('form').send({ csrf: person.csrf, type: 'objection' });
    const [row] = await t.ctx.db.selectFrom('privacy_requests').select('id').where('user_id', '=', person.userId).execute();
    const cancel = await request(t.app).post(`/privacy/me/requests/${row!.id}/cancel`).set('Cookie', person.cookie).type('form').send({ csrf: person.csrf });
    expect(cancel.status).toBe(303);
    const again = await request(t.app).post(`/privacy/me/requests/${row!.id}/cancel`).set('Cookie', person.cookie).type('form').send({ csrf: person.csrf });
    expect(again.status).toBe(409);
    expect(again.text).toContain('zurückgezogen');
    expect((await approve(row!.id)).status).toBe(409);
  });

  test('DSR-03: erasure leaves no row referencing the user except what the result names as kept', async () => {
    const person = await personIn(t, a.id, { roles: ['student'], subject: 'erase-me' });
    const seeded = await seedRichPerson(t.ctx.db, t.clock, { tenantId: a.id, subject: 'erase-me', activity: 300, rooms: 3 });
    const bystander = await seedRichPerson(t.ctx.db, t.clock, { tenantId: a.id, subject: 'bystander', activity: 40 });
    const filed = await file(dpoA, { userId: person.userId, type: 'erasure' });
    expect(filed.body.filedVia).toBe('dpo');
    const done = await approve(filed.body.id, 'Wird gelöscht.');
    expect(done.body.status).toBe('completed');
    const result = done.body.result.categories as { category: string; deleted: number; kept: number; keptBecause?: string }[];
    const byCat = Object.fromEntries(result.map((r) => [r.category, r]));
    expect(byCat['audit.activity']).toMatchObject({ deleted: seeded.activity, kept: 0 });
    expect(byCat['identity.users']).toMatchObject({ deleted: 1 });
    expect(byCat['consent.consents']).toMatchObject({ deleted: seeded.consents });
    expect(byCat['privacy.requests']).toMatchObject({ deleted: 0, kept: 1, keptBecause: 'DSR-05' });
    expect(byCat['competency.grids']).toMatchObject({ deleted: seeded.gridIds.length, kept: 0 });
    expect(byCat['competency.items']).toMatchObject({ deleted: seeded.gridIds.length * seeded.itemsPerGrid, kept: 0 });
    expect(byCat['competency.lebs']).toMatchObject({ deleted: 1, kept: 1, keptBecause: 'RET-09' });
    expect(byCat['consent.usage_rule_acceptances']).toMatchObject({ deleted: seeded.acceptances });
    for (const c of t.ctx.privacy.describe()) expect(byCat[c.category]).toBeDefined();

    const remaining = await rowsMentioning(person.userId);
    const keptTables = new Set(result.filter((r) => r.kept > 0).map((r) => t.ctx.privacy.describe().find((c) => c.category === r.category)!.table));
    for (const [table, n] of Object.entries(remaining)) {
      expect(keptTables.has(table)).toBe(true);
      expect(n).toBe(result.filter((r) => t.ctx.privacy.describe().find((c) => c.category === r.category)?.table === table).reduce((s, r) => s + r.kept, 0));
    }
    // The rooms they created stay for the course, without them.
    const rooms = await t.ctx.db.selectFrom('rooms').select('created_by').where('id', 'in', seeded.roomIds).execute();
    expect(rooms.every((r) => r.created_by === null)).toBe(true);
    // Nobody else lost anything.
    const left = await t.ctx.db.selectFrom('activity_log').select((eb) => eb.fn.countAll<number>().as('n')).where('actor_id', '=', bystander.userId).executeTakeFirstOrThrow();
    expect(Number(left.n)).toBe(bystander.activity);
    expect((await request(t.app).get('/privacy/me').set('Cookie', person.cookie)).status).toBe(401);
  });

  async function rowsMentioning(userId: string): Promise<Record<string, number>> {
    const tables = await sql<{ table_name: string }>`
      select c.relname as table_name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition`.execute(t.ctx.db);
    const found: Record<string, number> = {};
    for (const { table_name } of tables.rows) {
      if (table_name.startsWith('kysely_')) continue;
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table_name)} as x where x::text like ${`%${userId}%`}`.execute(t.ctx.db);
      if (rows[0]!.n > 0) found[table_name] = rows[0]!.n;
    }
    return found;
  }

  test('DSR-03: a partial failure leaves the erasure `processing` with the error, nothing half-deleted; a re-run finishes it', async () => {
    let failures = 2;
    const flaky: PrivacyProvider = {
      name: 'flaky-test-module',
      describe: () => [],
      // eslint-disable-next-line require-yield
      async *export() {
        return;
      },
      async erase() {
        if (failures-- > 0) throw new Error('backend unreachable');
        return [];
      },
    };
    t.ctx.privacy.register(flaky);
    const person = await personIn(t, a.id, { roles: ['student'] });
    await seedActivity(t.ctx.db, t.clock, a.id, person.userId, null, 20, 'flaky');
    const filed = await file(dpoA, { userId: person.userId, type: 'erasure' });
    const failed = await approve(filed.body.id);
    expect(failed.body.status).toBe('processing');
    expect(failed.body.error).toContain('backend unreachable');
    const still = await t.ctx.db.selectFrom('activity_log').select((eb) => eb.fn.countAll<number>().as('n')).where('actor_id', '=', person.userId).executeTakeFirstOrThrow();
    expect(Number(still.n)).toBe(20);
    // A job retries what was left behind (not at once: the DPO may be re-running it right now).
    expect(await processOpenRequests(t.ctx)).toEqual({ done: 0, failed: 0 });
    t.clock.advance(6 * MINUTE);
    expect(await processOpenRequests(t.ctx)).toEqual({ done: 0, failed: 1 });
    const rerun = await request(t.app).post(`${api(a.slug)}/requests/${filed.body.id}/run`).set(auth(dpoA)).send({});
    expect(rerun.body).toMatchObject({ status: 'completed', error: null });
    expect(await t.ctx.db.selectFrom('users').select('id').where('id', '=', person.userId).executeTakeFirst()).toBeUndefined();
    expect((await adminLog(filed.body.id)).map((r) => r.action)).toEqual(expect.arrayContaining(['privacy.request.failed', 'privacy.request.complete']));
  });

  test('DSR-03: restriction (Art. 18) freezes the named categories until the DPO lifts it', async () => {
    const person = await personIn(t, a.id, { roles: ['student'] });
    expect((await file(lmsA, { userId: person.userId, type: 'restriction', categories: ['nope.nothing'] })).status).toBe(422);
    const filed = await file(lmsA, { userId: person.userId, type: 'restriction', categories: ['consent.consents', 'audit'] });
    const done = await approve(filed.body.id);
    expect(done.body.status).toBe('completed');
    expect(await isRestricted(t.ctx.db, a.id, person.userId, 'consent.consents')).toBe(true);
    expect(await isRestricted(t.ctx.db, a.id, person.userId, 'audit.activity')).toBe(true);
    expect(await isRestricted(t.ctx.db, a.id, person.userId, 'identity.users')).toBe(false);
    expect((await request(t.app).post(`${api(a.slug)}/requests/${filed.body.id}/lift`).set(auth(lmsA)).send({})).status).toBe(403);
    const lifted = await request(t.app).post(`${api(a.slug)}/requests/${filed.body.id}/lift`).set(auth(dpoA)).send({});
    expect(lifted.body).toEqual({ lifted: 2 });
    expect(await isRestricted(t.ctx.db, a.id, person.userId, 'consent.consents')).toBe(false);
  });

  test('DSR-04, VC-06: an objection is recorded in the objections the conference module reads', async () => {
    const person = await personIn(t, a.id, { roles: ['student'] });
    expect(await hasObjection(t.ctx.db, a.id, person.userId)).toBe(false);
    const filed = await file(lmsA, { userId: person.userId, type: 'objection' });
    await approve(filed.body.id);
    expect(await hasObjection(t.ctx.db, a.id, person.userId)).toBe(true);
  });

  test('DSR-03: rectification text is sealed, read by the DPO only, and gone once finished', async () => {
    const person = await personIn(t, a.id, { roles: ['student'] });
    const filed = await file(lmsA, { userId: person.userId, type: 'rectification', message: 'Mein Name ist falsch geschrieben.' });
    expect(filed.status).toBe(201);
    const stored = await t.ctx.db.selectFrom('privacy_requests').select('message_sealed').where('id', '=', filed.body.id).executeTakeFirstOrThrow();
    expect(stored.message_sealed).not.toContain('Name');
    expect((await request(t.app).get(`${api(a.slug)}/requests/${filed.body.id}/message`).set(auth(lmsA))).status).toBe(403);
    const read = await request(t.app).get(`${api(a.slug)}/requests/${filed.body.id}/message`).set(auth(dpoA));
    expect(read.body.message).toBe('Mein Name ist falsch geschrieben.');
    const done = await approve(filed.body.id, 'In Moodle korrigiert.');
    expect(done.body).toMatchObject({ status: 'completed', hasMessage: false });
    expect((await file(lmsA, { userId: person.userId, type: 'other' })).status).toBe(422);
  });

  test('the DPO page lists requests and approves with a comment (session with the dpo role)', async () => {
    const dpo = await personIn(t, a.id, { roles: ['dpo'] });
    const person = await personIn(t, a.id, { roles: ['student'] });
    const filed = await file(lmsA, { userId: person.userId, type: 'export' });
    expect((await request(t.app).get('/privacy/dpo').set('Cookie', person.cookie)).status).toBe(403);
    const page = await request(t.app).get('/privacy/dpo').set('Cookie', dpo.cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain(filed.body.id);
    const decided = await request(t.app).post(`/privacy/dpo/requests/${filed.body.id}/decide`).set('Cookie', dpo.cookie).type('form').send({ csrf: dpo.csrf, decision: 'approve', comment: 'ok' });
    expect(decided.status).toBe(303);
    const row = await t.ctx.db.selectFrom('privacy_requests').select('status').where('id', '=', filed.body.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('download_ready');
    const log = await adminLog(filed.body.id);
    expect(log.find((r) => r.action === 'privacy.request.approve')!.actor).toBe(`user:${dpo.userId}`);

    // The DPO files for a person in the session, too; a person of another tenant does not exist here (ACC-04).
    const byDpo = await request(t.app).post('/privacy/dpo/requests').set('Cookie', dpo.cookie).type('form').send({ csrf: dpo.csrf, userId: person.userId, type: 'objection' });
    expect(byDpo.status).toBe(303);
    const filedByDpo = await t.ctx.db.selectFrom('privacy_requests').select(['filed_via', 'status']).where('user_id', '=', person.userId).where('type', '=', 'objection').executeTakeFirstOrThrow();
    expect(filedByDpo).toEqual({ filed_via: 'dpo', status: 'awaiting_approval' });
    const stranger = await personIn(t, b.id, { roles: ['student'] });
    const foreign = await request(t.app).post('/privacy/dpo/requests').set('Cookie', dpo.cookie).type('form').send({ csrf: dpo.csrf, userId: stranger.userId, type: 'export' });
    expect(foreign.status).toBe(404);
    expect(foreign.text).toContain('ACC-04');
    const mine = await request(t.app).get('/privacy/me').set('Cookie', person.cookie);
    expect(mine.text).toContain('Verfügbar bis');
  });

  test('DSR-05: two filings of the same kind at once leave one open request', async () => {
    const person = await personIn(t, a.id, { roles: ['student'] });
    const results = await Promise.all([file(lmsA, { userId: person.userId, type: 'erasure' }), file(dpoA, { userId: person.userId, type: 'erasure' })]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const open = await t.ctx.db.selectFrom('privacy_requests').select('id').where('user_id', '=', person.userId).execute();
    expect(open).toHaveLength(1);
  });

  test('RET-10: the archive is deleted after 7 days (tenant may shorten) and the request is `expired`', async () => {
    const person = await personIn(t, a.id, { roles: ['student'] });
    const filed = await file(dpoA, { userId: person.userId, type: 'export' });
    await approve(filed.body.id);
    const short = await createTenant(t, 'gs-short', { retention: { exportFileDays: 2 } });
    const dpoShort = await createToken(t, short.slug, ['dpo']);
    const shortPerson = await personIn(t, short.id, { roles: ['student'] });
    const shortFiled = await file(dpoShort, { userId: shortPerson.userId, type: 'export' }, short.slug);
    await request(t.app).post(`${api(short.slug)}/requests/${shortFiled.body.id}/approve`).set(auth(dpoShort)).send({});

    t.clock.advance(2 * DAY + MINUTE);
    await exportFileRetention.run(t.ctx, { now: t.clock.now(), dryRun: false });
    const status = async (id: string) => (await t.ctx.db.selectFrom('privacy_requests').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
    expect(await status(shortFiled.body.id)).toBe('expired');
    expect(await status(filed.body.id)).toBe('download_ready');

    t.clock.advance(5 * DAY);
    const dry = await exportFileRetention.run(t.ctx, { now: t.clock.now(), dryRun: true });
    expect(dry.find((o) => o.tenantId === a.id)?.deleted).toBeGreaterThanOrEqual(1);
    expect(await status(filed.body.id)).toBe('download_ready');
    await exportFileRetention.run(t.ctx, { now: t.clock.now(), dryRun: false });
    expect(await status(filed.body.id)).toBe('expired');
    const chunks = await t.ctx.db.selectFrom('privacy_export_chunks').select('seq').where('request_id', '=', filed.body.id).execute();
    expect(chunks).toHaveLength(0);
    const link = await request(t.app).post(`${api(a.slug)}/requests/${filed.body.id}/download-link`).set(auth(dpoA)).send({});
    expect(link.status).toBe(410);
    expect(link.body.ruleIds).toEqual(['RET-10']);
    expect((await adminLog(filed.body.id)).at(-1)).toMatchObject({ action: 'privacy.request.expire', actor: 'system' });
  });

  test('request records are kept until the end of the following school year, then deleted', async () => {
    const before = await t.ctx.db.selectFrom('privacy_requests').select('id').where('tenant_id', '=', a.id).execute();
    t.clock.set('2027-07-31T12:00:00Z');
    const early = await requestRecordRetention.run(t.ctx, { now: t.clock.now(), dryRun: false });
    expect(early.find((o) => o.tenantId === a.id)).toBeUndefined();
    t.clock.set('2028-08-01T00:00:00Z');
    const late = await requestRecordRetention.run(t.ctx, { now: t.clock.now(), dryRun: false });
    const finished = before.length - (await t.ctx.db.selectFrom('privacy_requests').select('id').where('tenant_id', '=', a.id).execute()).length;
    expect(late.find((o) => o.tenantId === a.id)?.deleted).toBe(finished);
    expect(finished).toBeGreaterThan(0);
    const open = await t.ctx.db.selectFrom('privacy_requests').select('status').where('tenant_id', '=', a.id).execute();
    expect(open.every((r) => ['pending', 'awaiting_approval', 'approved', 'processing', 'download_ready'].includes(r.status))).toBe(true);
  });
});
