import request from 'supertest';
import { jwtVerify } from 'jose';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { createTenant, createToken, personIn, type TestPerson, type TestTenant } from '../harness/people.js';
import { lastCall, startBbbServer, type BbbTestServer } from '../support/bbb-server.js';
import { eraseSubject } from '../../src/privacy/registry.js';
import { DAY } from '../../src/shared/clock.js';

const JITSI_SECRET = 'j'.repeat(48);

describeWithDatabases('conference rooms: lifecycle, pages, share links', (use) => {
  let t: TestApp;
  let bbb: BbbTestServer;
  let tenant: TestTenant;
  let lms: string;
  let teacher: TestPerson;
  let pupil: TestPerson;
  let objector: TestPerson;
  let noConsent: TestPerson;
  let roomId: string;

  const page = (p: TestPerson) => ({ Cookie: p.cookie });
  const post = (p: TestPerson, path: string, body: Record<string, string> = {}) => request(t.app).post(path).set(page(p)).type('form').send({ csrf: p.csrf, ...body });
  const room = () => t.ctx.db.selectFrom('rooms').selectAll().where('id', '=', roomId).executeTakeFirstOrThrow();

  beforeAll(async () => {
    t = await createTestApp(use());
    bbb = await startBbbServer();
    tenant = await createTenant(t, 'gym-nord', { conference: { recordingAllowed: true, shareLinkMaxHours: 12 } });
    lms = await createToken(t, 'gym-nord', ['lms']);
    const put = (name: string, body: object) => request(t.app).put(`/api/v1/tenants/gym-nord/backends/${name}`).set(t.auth(tenant.adminToken)).send(body);
    expect((await put('bbb', { kind: 'bbb', baseUrl: bbb.baseUrl, secret: bbb.secret, checksumAlgorithm: 'sha256' })).status).toBe(200);
    expect((await put('meet', { kind: 'jitsi', domain: 'meet.schule.test', appId: 'schulbruecke', audience: 'jitsi', alg: 'HS256', secret: JITSI_SECRET })).status).toBe(200);
    teacher = await personIn(t, tenant.id, { roles: ['teacher'], name: 'Frau Lehrerin' });
    pupil = await personIn(t, tenant.id, { roles: ['student'], name: 'Kim Schüler' });
    objector = await personIn(t, tenant.id, { roles: ['student'], name: 'Ole Widerspruch' });
    noConsent = await personIn(t, tenant.id, { roles: ['student'], name: 'Nia Ohne' });
    const imported = await request(t.app)
      .post('/api/v1/tenants/gym-nord/consents/import')
      .set(t.auth(lms))
      .send({ items: [pupil, objector].map((p) => ({ userId: p.userId, scope: 'video', givenAt: '2026-09-01T08:00:00Z' })) });
    expect(imported.body).toEqual({ given: 2, withdrawn: 0 });
    expect((await request(t.app).put(`/api/v1/tenants/gym-nord/objections/${objector.userId}`).set(t.auth(lms))).status).toBe(204);
    const rules = await request(t.app).post('/api/v1/tenants/gym-nord/usage-rules').set(t.auth(tenant.adminToken)).send({ textDe: 'Keine Aufzeichnung. Keine Dritten im Raum. Kein öffentlicher Ort.' });
    expect(rules.body.version).toBe(1);
  });
  afterAll(async () => {
    await t.ctx.audit.close();
    await bbb.close();
  });

  test('VC-08: an art9 room is refused with the rule', async () => {
    const res = await post(teacher, `/contexts/${teacher.contextId}/rooms`, { title: 'Beratung', category: 'art9', backend: 'bbb' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('VC-08');
    const api = await request(t.app).post(`/api/v1/tenants/gym-nord/contexts/${teacher.contextId}/rooms`).set(t.auth(lms)).send({ userId: teacher.userId, title: 'X', category: 'art9', backend: 'bbb' });
    expect(api.status).toBe(403);
    expect(api.body).toMatchObject({ type: 'urn:schulbruecke:problem:policy-denied', ruleIds: ['VC-08'] });
  });

  test('VC-03: a teacher creates a room on the context page; a pupil cannot', async () => {
    const denied = await post(pupil, `/contexts/${pupil.contextId}/rooms`, { title: 'Mathe', category: 'lesson', backend: 'bbb' });
    expect(denied.status).toBe(403);
    expect(denied.text).toContain('VC-03');
    const res = await post(teacher, `/contexts/${teacher.contextId}/rooms`, { title: 'Mathe 7a', category: 'lesson', backend: 'bbb' });
    expect(res.status).toBe(303);
    roomId = res.headers.location!.split('/').pop()!;
    const list = await request(t.app).get(`/contexts/${teacher.contextId}`).set(page(pupil));
    expect(list.status).toBe(200);
    expect(list.text).toContain('Mathe 7a');
    expect(list.text).not.toContain('Raum anlegen');
    const home = await request(t.app).get('/home').set(page(pupil));
    expect(home.text).toContain(`/contexts/${pupil.contextId}`);
  });

  test('VC-01: no session → no room page; missing CSRF token → refused', async () => {
    expect((await request(t.app).get(`/rooms/${roomId}`)).status).toBe(401);
    const noCsrf = await request(t.app).post(`/rooms/${roomId}/start`).set(page(teacher)).type('form').send({});
    expect(noCsrf.status).toBe(403);
    expect((await room()).state).toBe('idle');
  });

  test('VC-13 then VC-03: pupil accepts the usage rules once, then waits for the teacher', async () => {
    const first = await request(t.app).get(`/rooms/${roomId}`).set(page(pupil));
    expect(first.text).toContain('Keine Aufzeichnung. Keine Dritten');
    const joinEarly = await post(pupil, `/rooms/${roomId}/join`);
    expect(joinEarly.status).toBe(403);
    expect(joinEarly.text).toContain('VC-13');
    expect((await post(pupil, `/rooms/${roomId}/rules`, { accept: 'yes', version: '1' })).status).toBe(303);
    const waiting = await request(t.app).get(`/rooms/${roomId}`).set(page(pupil));
    expect(waiting.text).toContain('Warten auf die Lehrkraft');
    const en = await request(t.app).get(`/rooms/${roomId}?lang=en`).set(page(pupil));
    expect(en.text).toContain('Waiting for the teacher');
    const start = await post(pupil, `/rooms/${roomId}/start`);
    expect(start.status).toBe(403);
    expect(start.text).toContain('VC-03');
    const teacherFirst = await request(t.app).get(`/rooms/${roomId}`).set(page(teacher));
    expect(teacherFirst.text).toContain('id="accept-rules"'); // VC-13 applies to teachers too
    expect(teacherFirst.text).not.toContain('id="start"');
    for (const p of [objector, noConsent, teacher]) await post(p, `/rooms/${roomId}/rules`, { accept: 'yes', version: '1' });
  });

  test('teacher sees counts only (VC-06, VC-07) and starts: create carries the obligations, new random meeting id', async () => {
    const view = await request(t.app).get(`/rooms/${roomId}`).set(page(teacher));
    expect(view.text).toMatch(/Ohne Einwilligung \(VC-07\): 1 von 3/);
    expect(view.text).toMatch(/Mit Widerspruch gegen Video \(VC-06\): 1/);
    expect(view.text).not.toContain('Ole Widerspruch');
    expect((await post(teacher, `/rooms/${roomId}/start`)).status).toBe(303);
    const r = await room();
    expect(r.state).toBe('running');
    expect(r.meeting_id).toMatch(/^[0-9a-f]{40}$/);
    const create = lastCall(bbb, 'create')!;
    expect(create).toMatchObject({ meetingID: r.meeting_id, record: 'false', guestPolicy: 'ASK_MODERATOR', muteOnStart: 'true', lockSettingsDisablePrivateChat: 'true', lockSettingsDisableNotes: 'true', endWhenNoModerator: 'true', meetingExpireWhenLastUserLeftInMinutes: '1', meetingKeepEvents: 'false', disabledFeatures: 'learningDashboard', meta_schulbrueckeroom: roomId });
    expect(JSON.stringify(create)).not.toContain('Lehrerin');
  });

  test('VC-02/VC-06/VC-07: personal join URLs at the moment of joining; objector camera-off; no consent refused', async () => {
    const r = await room();
    const teacherJoin = await post(teacher, `/rooms/${roomId}/join`);
    expect(teacherJoin.status).toBe(303);
    expect(teacherJoin.headers['cache-control']).toBe('no-store');
    const follow = await fetch(teacherJoin.headers.location!, { redirect: 'follow' });
    expect(await follow.text()).toContain('BigBlueButton client');
    expect(lastCall(bbb, 'join')).toMatchObject({ role: 'MODERATOR', userID: teacher.userId, fullName: 'Frau Lehrerin', guest: 'false', createTime: bbb.meetings.get(r.meeting_id!)!.createTime });
    const pupilJoin = await post(pupil, `/rooms/${roomId}/join`);
    expect(pupilJoin.status).toBe(303);
    await fetch(pupilJoin.headers.location!, { redirect: 'manual' });
    const pj = lastCall(bbb, 'join')!;
    expect(pj).toMatchObject({ role: 'VIEWER', userID: pupil.userId });
    expect(pj['userdata-bbb_auto_share_webcam']).toBeUndefined();
    const objJoin = await post(objector, `/rooms/${roomId}/join`);
    await fetch(objJoin.headers.location!, { redirect: 'manual' });
    expect(lastCall(bbb, 'join')).toMatchObject({ userID: objector.userId, 'userdata-bbb_auto_share_webcam': 'false', 'userdata-bbb_skip_video_preview': 'true' });
    const refused = await post(noConsent, `/rooms/${roomId}/join`);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('VC-07');
    const refusalPage = await request(t.app).get(`/rooms/${roomId}`).set(page(noConsent));
    expect(refusalPage.text).toContain('Für die Teilnahme fehlt die Einwilligung');
    expect(refusalPage.text).not.toContain('id="join"');
  });

  test('VC-07: a withdrawal takes effect at the next join', async () => {
    await request(t.app).post('/api/v1/tenants/gym-nord/consents/import').set(t.auth(lms)).send({ items: [{ userId: pupil.userId, scope: 'video', givenAt: '2026-09-01T08:00:00Z', withdrawnAt: '2026-11-22T08:00:00Z' }] });
    expect((await post(pupil, `/rooms/${roomId}/join`)).status).toBe(403);
    await request(t.app).post('/api/v1/tenants/gym-nord/consents/import').set(t.auth(lms)).send({ items: [{ userId: pupil.userId, scope: 'video', givenAt: '2026-11-22T08:00:00Z' }] });
    expect((await post(pupil, `/rooms/${roomId}/join`)).status).toBe(303);
  });

  let shareUrl = '';
  let sharePassword = '';
  test('VC-15/SEC-01: share link with expiry ≤ tenant max, password ≥ 12 chars stored hashed; guest joins via lobby', async () => {
    const tooLong = await post(teacher, `/rooms/${roomId}/share`, { hours: '13' });
    expect(tooLong.status).toBe(403);
    expect(tooLong.text).toContain('VC-15');
    const res = await post(teacher, `/rooms/${roomId}/share`, { hours: '2' });
    expect(res.status).toBe(201);
    shareUrl = /id="share-url">([^<]+)</.exec(res.text)![1]!;
    sharePassword = /id="share-password">([^<]+)</.exec(res.text)![1]!;
    expect(sharePassword.length).toBeGreaterThanOrEqual(12);
    const stored = await t.ctx.db.selectFrom('share_links').selectAll().where('room_id', '=', roomId).executeTakeFirstOrThrow();
    expect(stored.password_hash).not.toContain(sharePassword);
    expect(stored.token_hash).not.toBe(shareUrl.split('/').pop());
    expect(stored.expires_at.getTime() - t.clock.now().getTime()).toBe(2 * 3600_000);
    const path = new URL(shareUrl).pathname;
    expect((await request(t.app).get(path)).text).toContain('Als Gast teilnehmen');
    const wrong = await request(t.app).post(path).type('form').send({ name: 'Herr Gast', password: 'falsch-falsch-falsch', accept: 'yes' });
    expect(wrong.status).toBe(403);
    expect(wrong.text).toContain('VC-15');
    const ok = await request(t.app).post(path).type('form').send({ name: 'Herr Gast', password: sharePassword, accept: 'yes' });
    expect(ok.status).toBe(303);
    await fetch(ok.headers.location!, { redirect: 'manual' });
    const gj = lastCall(bbb, 'join')!;
    expect(gj).toMatchObject({ role: 'VIEWER', guest: 'true', fullName: 'Herr Gast' });
    expect(gj.userID).toMatch(/^guest-/);
  });

  test('VC-10/RET-04: end for everyone destroys meeting id, secrets and share links; a new start gets a new id', async () => {
    const before = await room();
    expect((await post(teacher, `/rooms/${roomId}/end`)).status).toBe(303);
    expect(lastCall(bbb, 'end')).toEqual({ meetingID: before.meeting_id });
    expect(bbb.meetings.has(before.meeting_id!)).toBe(false);
    const after = await room();
    expect(after).toMatchObject({ state: 'ended', meeting_id: null, meeting_sealed: null });
    expect(await t.ctx.db.selectFrom('share_links').selectAll().where('room_id', '=', roomId).execute()).toEqual([]);
    expect((await request(t.app).get(new URL(shareUrl).pathname)).status).toBe(404);
    expect((await post(pupil, `/rooms/${roomId}/join`)).text).toContain('Warten auf die Lehrkraft');
    await post(teacher, `/rooms/${roomId}/start`);
    const again = await room();
    expect(again.meeting_id).not.toBe(before.meeting_id);
    await post(teacher, `/rooms/${roomId}/end`);
  });

  test('RET-01: decisions are in the activity log with rule ids and pseudonymous ids, never names', async () => {
    await t.ctx.audit.flush();
    const rows = await t.ctx.db.selectFrom('activity_log').selectAll().where('object_id', '=', roomId).execute();
    const denied = rows.find((r) => r.action === 'room.join' && r.outcome === 'deny' && r.actor_id === noConsent.userId);
    expect(denied?.rule_ids).toContain('VC-07');
    expect(rows.some((r) => r.action === 'room.start' && r.outcome === 'permit' && r.actor_id === teacher.userId)).toBe(true);
    expect(rows.find((r) => r.action === 'room.create')).toMatchObject({ outcome: 'permit', actor_id: teacher.userId, context_id: teacher.contextId });
    const art9 = await t.ctx.db.selectFrom('activity_log').selectAll().where('action', '=', 'room.create').where('outcome', '=', 'deny').execute();
    expect(art9.some((r) => r.rule_ids.includes('VC-08') && r.object_id === null)).toBe(true);
    expect(rows.some((r) => r.action === 'room.join-by-share-link' && r.outcome === 'permit' && r.actor_id === null)).toBe(true);
    const text = JSON.stringify(rows);
    for (const secret of ['Frau Lehrerin', 'Kim', 'Herr Gast', sharePassword, 'checksum']) expect(text).not.toContain(secret);
  });

  test('VC-04/VC-11: sensitive room with password; continue in a fresh room gives a new id and password', async () => {
    const created = await request(t.app).post(`/api/v1/tenants/gym-nord/contexts/${teacher.contextId}/rooms`).set(t.auth(lms)).send({ userId: teacher.userId, title: 'Elterngespräch', category: 'sensitive', backend: 'bbb', purpose: 'Beratung Schullaufbahn' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const started = await request(t.app).post(`/api/v1/tenants/gym-nord/rooms/${id}/start`).set(t.auth(lms)).send({ userId: teacher.userId });
    expect(started.body.state).toBe('running');
    expect(JSON.stringify(started.body)).not.toMatch(/meeting|password/i);
    const first = lastCall(bbb, 'create')!;
    expect(first.attendeePW!.length).toBeGreaterThanOrEqual(12);
    expect(first.guestPolicy).toBe('ASK_MODERATOR');
    const r1 = await t.ctx.db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(r1.meeting_sealed).not.toContain(first.attendeePW!);
    const fresh = await request(t.app).post(`/api/v1/tenants/gym-nord/rooms/${id}/fresh`).set(t.auth(lms)).send({ userId: teacher.userId });
    expect(fresh.status).toBe(200);
    const second = lastCall(bbb, 'create')!;
    expect(second.meetingID).not.toBe(first.meetingID);
    expect(second.attendeePW).not.toBe(first.attendeePW);
    expect(bbb.meetings.has(first.meetingID!)).toBe(false);
    const lessonFresh = await request(t.app).post(`/api/v1/tenants/gym-nord/rooms/${roomId}/fresh`).set(t.auth(lms)).send({ userId: teacher.userId });
    expect(lessonFresh.body.ruleIds).toEqual(['VC-11']);
    await request(t.app).post(`/api/v1/tenants/gym-nord/rooms/${id}/end`).set(t.auth(lms)).send({ userId: teacher.userId });
  });

  test('Jitsi: teacher and pupil get personal tokens; CSP allows only the tenant Jitsi domain; lobby/password for the moderator (VC-04)', async () => {
    const created = await request(t.app).post(`/api/v1/tenants/gym-nord/contexts/${teacher.contextId}/rooms`).set(t.auth(lms)).send({ userId: teacher.userId, title: 'Jitsi Sprechstunde', category: 'sensitive', backend: 'meet', purpose: 'Sprechstunde' });
    const id = created.body.id as string;
    await post(teacher, `/rooms/${id}/start`);
    const r = await t.ctx.db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(r.meeting_id).toMatch(/^[a-z2-7]{32}$/);
    const res = await post(teacher, `/rooms/${id}/join`);
    expect(res.status).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self' https://meet.schule.test");
    expect(csp).toContain('frame-src https://meet.schule.test');
    expect(res.text).not.toMatch(/<script>(?!<)/);
    const jwt = /data-jwt="([^"]+)"/.exec(res.text)![1]!;
    const { payload } = await jwtVerify(jwt, new TextEncoder().encode(JITSI_SECRET), { issuer: 'schulbruecke', audience: 'jitsi', subject: 'meet.schule.test', currentDate: t.clock.now() });
    expect(payload.room).toBe(r.meeting_id);
    expect(payload.context).toMatchObject({ user: { id: teacher.userId, name: 'Frau Lehrerin', moderator: 'true' } });
    expect(res.text).toContain('data-lobby="true"');
    expect(/data-password="([^"]*)"/.exec(res.text)![1]!.length).toBeGreaterThanOrEqual(12);
    expect(res.text).toContain('data-jitsi-end="true"');
    const pj = await post(objector, `/rooms/${id}/join`);
    expect(pj.status).toBe(200);
    expect(pj.text).toContain('data-moderator="false"');
    expect(pj.text).toContain('data-camera-off="true"');
    // VC-15 on Jitsi: a guest gets a non-moderator token for the same room and a password for the room.
    const share = await post(teacher, `/rooms/${id}/share`, { hours: '1' });
    const guestPath = new URL(/id="share-url">([^<]+)</.exec(share.text)![1]!).pathname;
    const guestPassword = /id="share-password">([^<]+)</.exec(share.text)![1]!;
    const guest = await request(t.app).post(guestPath).type('form').send({ name: 'Frau Extern', password: guestPassword, accept: 'yes' });
    expect(guest.status).toBe(200);
    const guestJwt = /data-jwt="([^"]+)"/.exec(guest.text)![1]!;
    const gp = (await jwtVerify(guestJwt, new TextEncoder().encode(JITSI_SECRET), { currentDate: t.clock.now() })).payload;
    expect(gp.room).toBe(r.meeting_id);
    expect(gp.context).toMatchObject({ user: { name: 'Frau Extern', moderator: 'false' } });
    expect(String((gp.context as { user: { id: string } }).user.id)).toMatch(/^guest-/);
    await post(teacher, `/rooms/${id}/end`);
    expect((await request(t.app).post(guestPath).type('form').send({ name: 'Frau Extern', password: guestPassword, accept: 'yes' })).status).toBe(404);
    expect((await t.ctx.db.selectFrom('rooms').select(['meeting_id', 'state']).where('id', '=', id).executeTakeFirstOrThrow())).toEqual({ meeting_id: null, state: 'ended' });
  });

  test('BBB failure → 502 problem naming the backend; the room stays idle', async () => {
    const created = await request(t.app).post(`/api/v1/tenants/gym-nord/contexts/${teacher.contextId}/rooms`).set(t.auth(lms)).send({ userId: teacher.userId, title: 'Ausfall', category: 'lesson', backend: 'bbb' });
    bbb.mode = 'failed';
    const res = await request(t.app).post(`/api/v1/tenants/gym-nord/rooms/${created.body.id}/start`).set(t.auth(lms)).send({ userId: teacher.userId });
    bbb.mode = 'normal';
    expect(res.status).toBe(502);
    expect(res.body.detail).toContain('„bbb“');
    expect((await request(t.app).get(`/api/v1/tenants/gym-nord/rooms/${created.body.id}`).set(t.auth(lms))).body.state).toBe('idle');
  });

  test('RET-04: a room whose BBB meeting vanished is ended and its secrets destroyed by the retention run', async () => {
    await post(teacher, `/rooms/${roomId}/start`);
    const r = await room();
    bbb.vanish(r.meeting_id!);
    const cat = t.ctx.retention.all().find((c) => c.ruleId === 'RET-04')!;
    const dry = await cat.run(t.ctx, { now: t.clock.now(), dryRun: true });
    expect(dry.find((o) => o.tenantId === tenant.id)?.details?.roomsEnded).toBe(1);
    expect((await room()).state).toBe('running');
    await cat.run(t.ctx, { now: t.clock.now(), dryRun: false });
    expect(await room()).toMatchObject({ state: 'ended', meeting_id: null, meeting_sealed: null });
  });

  test('RET-05/VC-05: recordings only where allowed; deleted after retention.recordingDays and the deletion recorded', async () => {
    const denied = await request(t.app).put(`/api/v1/tenants/gym-nord/rooms/${roomId}/recording`).set(t.auth(lms)).send({ userId: pupil.userId, enabled: true });
    expect(denied.status).toBe(403);
    expect((await request(t.app).put(`/api/v1/tenants/gym-nord/rooms/${roomId}/recording`).set(t.auth(lms)).send({ userId: teacher.userId, enabled: true })).status).toBe(200);
    await post(teacher, `/rooms/${roomId}/start`);
    expect(lastCall(bbb, 'create')).toMatchObject({ record: 'true', notifyRecordingIsOn: 'true', autoStartRecording: 'false', allowStartStopRecording: 'true' });
    await post(teacher, `/rooms/${roomId}/end`);
    expect(bbb.recordings.filter((x) => x.meta.schulbrueckeroom === roomId)).toHaveLength(1);
    const cat = t.ctx.retention.all().find((c) => c.ruleId === 'RET-05')!;
    const early = await cat.run(t.ctx, { now: new Date(Date.now() + 6 * DAY), dryRun: false });
    expect(early.find((o) => o.tenantId === tenant.id)?.deleted).toBe(0);
    const due = await cat.run(t.ctx, { now: new Date(Date.now() + 8 * DAY), dryRun: false });
    expect(due.find((o) => o.tenantId === tenant.id)?.deleted).toBe(1);
    expect(bbb.recordings.filter((x) => x.meta.schulbrueckeroom === roomId)).toHaveLength(0);
    expect(lastCall(bbb, 'deleteRecordings')).toBeDefined();
    const log = await t.ctx.db.selectFrom('recording_deletions').selectAll().where('room_id', '=', roomId).execute();
    expect(log).toHaveLength(1);
  });

  test('VC-14: a teacher may allow private chat for a room on the create form', async () => {
    const res = await post(teacher, `/contexts/${teacher.contextId}/rooms`, { title: 'AG Robotik', category: 'lesson', backend: 'bbb', privateChat: 'yes' });
    const id = res.headers.location!.split('/').pop()!;
    await post(teacher, `/rooms/${id}/start`);
    expect(lastCall(bbb, 'create')).toMatchObject({ lockSettingsDisablePrivateChat: 'false', guestPolicy: 'ASK_MODERATOR' });
    await post(teacher, `/rooms/${id}/end`);
  });

  test('OpenAPI lists the conference and consent routes', async () => {
    const res = await request(t.app).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    for (const path of ['/tenants/{slug}/rooms/{roomId}/start', '/tenants/{slug}/contexts/{contextId}/rooms', '/tenants/{slug}/consents/import', '/tenants/{slug}/usage-rules/acceptances']) expect(Object.keys(res.body.paths)).toContain(path);
  });

  test('VC-10: a teacher joining a meeting that vanished on BBB is told to start again; the room is ended', async () => {
    await post(teacher, `/rooms/${roomId}/start`);
    bbb.vanish((await room()).meeting_id!);
    const res = await post(teacher, `/rooms/${roomId}/join`);
    expect(res.status).toBe(409);
    expect(res.text).toContain('bitte neu starten');
    expect(await room()).toMatchObject({ state: 'ended', meeting_id: null });
  });

  test('ACC-04: another tenant sees nothing', async () => {
    const other = await createTenant(t, 'rs-sued');
    const otherLms = await createToken(t, 'rs-sued', ['lms']);
    expect((await request(t.app).get(`/api/v1/tenants/gym-nord/rooms/${roomId}`).set(t.auth(otherLms))).status).toBe(404);
    const stranger = await personIn(t, other.id, { roles: ['teacher'], context: 'course-x' });
    expect((await request(t.app).get(`/rooms/${roomId}`).set(page(stranger))).status).toBe(404);
  });

  test('privacy: erasing a teacher unlinks rooms and removes their share links and acceptances', async () => {
    await post(teacher, `/rooms/${roomId}/share`, { hours: '1' });
    const results = await t.ctx.db.transaction().execute((trx) => eraseSubject(t.ctx.privacy, trx, { tenantId: tenant.id, userId: teacher.userId }));
    expect(results.find((r) => r.category === 'conference.share_links')?.deleted).toBe(1);
    expect(results.find((r) => r.category === 'consent.usage_rule_acceptances')?.deleted).toBe(1);
    expect((await room()).created_by).toBeNull();
  });
});
