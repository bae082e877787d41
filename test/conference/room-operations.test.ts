/**
 * Start, end and "continue in a fresh room" hold no database transaction while
 * BigBlueButton answers: the room is claimed in one short transaction, the
 * backend called with none open, the outcome committed in a second one. A slow
 * BBB server must not freeze the service (PGlite has one connection for the
 * whole process), and concurrent operations on one room still open exactly one
 * meeting (VC-03, VC-10, VC-11, RET-04).
 */
import request from 'supertest';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { createTenant, createToken, personIn, type TestPerson } from '../harness/people.js';
import { startBbbServer, type BbbTestServer } from '../support/bbb-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithDatabases('conference room operations: no transaction across the BBB call', (use) => {
  let t: TestApp;
  let bbb: BbbTestServer;
  let lms: string;
  let teacher: TestPerson;

  const api = (path: string) => `/api/v1/tenants/gym-ost${path}`;
  const act = (roomId: string, op: 'start' | 'end' | 'fresh') => request(t.app).post(api(`/rooms/${roomId}/${op}`)).set(t.auth(lms)).send({ userId: teacher.userId });
  const row = (id: string) => t.ctx.db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const creates = (roomId: string) => bbb.calls.filter((c) => c.call === 'create' && c.ok && c.params.meta_schulbrueckeroom === roomId);
  /** Resolves once BBB has received (not yet answered) a call matching `pred`. */
  async function received(pred: () => boolean): Promise<void> {
    for (let i = 0; i < 300 && !pred(); i++) await sleep(10);
    expect(pred()).toBe(true);
  }
  async function newRoom(title: string, category: 'lesson' | 'sensitive' = 'lesson'): Promise<string> {
    const res = await request(t.app)
      .post(api(`/contexts/${teacher.contextId}/rooms`))
      .set(t.auth(lms))
      .send({ userId: teacher.userId, title, category, backend: 'bbb', ...(category === 'sensitive' ? { purpose: 'Beratung' } : {}) });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  /** Starts a request now (supertest sends on `then`) and records when it finished. */
  function inFlight(req: request.Test) {
    const state = { done: false };
    const promise = req.then((res) => {
      state.done = true;
      return res;
    });
    return { state, promise };
  }

  beforeAll(async () => {
    t = await createTestApp(use());
    bbb = await startBbbServer();
    const tenant = await createTenant(t, 'gym-ost');
    lms = await createToken(t, 'gym-ost', ['lms']);
    const put = await request(t.app).put(api('/backends/bbb')).set(t.auth(tenant.adminToken)).send({ kind: 'bbb', baseUrl: bbb.baseUrl, secret: bbb.secret, checksumAlgorithm: 'sha256' });
    expect(put.status).toBe(200);
    teacher = await personIn(t, tenant.id, { roles: ['teacher'], name: 'Herr Lehrer' });
  });
  afterEach(() => {
    bbb.delays = {};
    bbb.mode = 'normal';
    bbb.failing.clear();
  });
  afterAll(async () => {
    await t.ctx.audit.close();
    await bbb.close();
  });

  test('VC-03: while BBB is slow to create, /readyz and a tenant read answer promptly; the start then completes', async () => {
    const id = await newRoom('Physik 9b');
    bbb.delays.create = 2500;
    const start = inFlight(act(id, 'start'));
    await received(() => creates(id).length === 1);

    const began = Date.now();
    const ready = await request(t.app).get('/readyz');
    const readyMs = Date.now() - began;
    expect(ready.status).toBe(200);
    expect(readyMs).toBeLessThan(1500);
    const read = await request(t.app).get(api(`/rooms/${id}`)).set(t.auth(lms));
    expect(read.status).toBe(200);
    expect(read.body.state).toBe('idle'); // the claim is not a state anyone else sees
    expect(start.state.done).toBe(false); // both answered while BBB was still holding `create`
    expect(Date.now() - began).toBeLessThan(2000);

    const res = await start.promise;
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('running');
    const r = await row(id);
    expect(r).toMatchObject({ state: 'running', meeting_id: creates(id)[0]!.params.meetingID, op: null, op_meeting_id: null, op_until: null });
    expect(bbb.meetings.has(r.meeting_id!)).toBe(true);
    await act(id, 'end');
  });

  test('VC-03: two parallel starts of one room open exactly one meeting; the other caller sees it or a clear 409', async () => {
    const id = await newRoom('Chemie 10a');
    bbb.delays.create = 300;
    const [a, b] = await Promise.all([act(id, 'start'), act(id, 'start')]);
    expect(creates(id)).toHaveLength(1);
    const r = await row(id);
    expect(r.state).toBe('running');
    expect(r.meeting_id).toBe(creates(id)[0]!.params.meetingID);
    expect([a.status, b.status]).toContain(200);
    for (const res of [a, b]) {
      if (res.status === 200) expect(res.body).toMatchObject({ id, state: 'running' });
      else {
        expect(res.status).toBe(409);
        expect(res.body).toMatchObject({ type: 'urn:schulbruecke:problem:conflict' });
        expect(res.body.detail).toContain('gerade gestartet oder beendet');
      }
    }
    // A start after the first one finished sees the same running meeting, no second create.
    const again = await act(id, 'start');
    expect(again.status).toBe(200);
    expect((await row(id)).meeting_id).toBe(r.meeting_id);
    expect(creates(id)).toHaveLength(1);
    await act(id, 'end');
  });

  test('VC-03: a failed BBB create gives the 502 problem and releases the claim; the room can be started right away', async () => {
    const id = await newRoom('Ausfall 2');
    bbb.mode = 'failed';
    const failed = await act(id, 'start');
    expect(failed.status).toBe(502);
    expect(failed.body.detail).toContain('„bbb“');
    expect(await row(id)).toMatchObject({ state: 'idle', meeting_id: null, op: null, op_until: null });
    bbb.mode = 'normal';
    const ok = await act(id, 'start');
    expect(ok.status).toBe(200);
    expect(ok.body.state).toBe('running');
    await act(id, 'end');
  });

  test('VC-10/RET-04: while BBB is slow to end, start and fresh are answered without waiting and the database stays usable; then ids, secrets and links are gone', async () => {
    const id = await newRoom('Bio 8c');
    expect((await act(id, 'start')).status).toBe(200);
    const share = await request(t.app).post(api(`/rooms/${id}/share-links`)).set(t.auth(lms)).send({ userId: teacher.userId, hours: 1 });
    expect(share.status).toBe(201);
    const meetingId = (await row(id)).meeting_id!;
    bbb.delays.end = 1500;
    const end = inFlight(act(id, 'end'));
    await received(() => bbb.calls.some((c) => c.call === 'end' && c.params.meetingID === meetingId));
    const began = Date.now();
    const clash = await act(id, 'start');
    expect(clash.status).toBe(200); // still running until BBB confirms the end: nothing to start
    const fresh = await act(id, 'fresh');
    expect(fresh.status).toBe(403); // a lesson room has no fresh room (VC-11) — decided without waiting
    expect((await request(t.app).get('/readyz')).status).toBe(200);
    expect(Date.now() - began).toBeLessThan(1200);
    expect(end.state.done).toBe(false);
    expect((await end.promise).status).toBe(204);
    expect(await row(id)).toMatchObject({ state: 'ended', meeting_id: null, meeting_sealed: null, op: null });
    expect(await t.ctx.db.selectFrom('share_links').selectAll().where('room_id', '=', id).execute()).toEqual([]);
    expect(bbb.meetings.has(meetingId)).toBe(false);
  });

  test('VC-10: a second end while the first is at BBB gets a clear 409; the first one ends the room', async () => {
    const id = await newRoom('Musik 6a');
    await act(id, 'start');
    const meetingId = (await row(id)).meeting_id!;
    const ends = () => bbb.calls.filter((c) => c.call === 'end' && c.ok && c.params.meetingID === meetingId);
    bbb.delays.end = 1000;
    const first = inFlight(act(id, 'end'));
    await received(() => ends().length === 1);
    const second = await act(id, 'end');
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain('gerade gestartet oder beendet');
    expect((await first.promise).status).toBe(204);
    expect(await row(id)).toMatchObject({ state: 'ended', meeting_id: null, op: null });
    expect(ends()).toHaveLength(1);
  });

  test('VC-11: fresh room while BBB is slow; if the new create fails after the old meeting ended, the room is ended (RET-04) and startable', async () => {
    const id = await newRoom('Elterngespräch 2', 'sensitive');
    expect((await act(id, 'start')).status).toBe(200);
    const old = (await row(id)).meeting_id!;
    bbb.delays.create = 1000;
    const fresh = inFlight(act(id, 'fresh'));
    await received(() => creates(id).length === 2);
    expect((await request(t.app).get('/readyz')).status).toBe(200);
    expect(fresh.state.done).toBe(false);
    const ok = await fresh.promise;
    expect(ok.status).toBe(200);
    const r = await row(id);
    expect(r.meeting_id).toBe(creates(id)[1]!.params.meetingID);
    expect(r.meeting_id).not.toBe(old);
    expect(bbb.meetings.has(old)).toBe(false);

    // The old meeting is ended, then the new create fails: no half state, the 502 problem, startable again.
    bbb.delays = {};
    const before = r.meeting_id!;
    const createsBefore = creates(id).length;
    bbb.failing.add('create');
    const res = await act(id, 'fresh');
    bbb.failing.clear();
    expect(res.status).toBe(502);
    expect(res.body.detail).toContain('„bbb“');
    expect(creates(id).length).toBe(createsBefore + 1);
    expect(bbb.meetings.has(before)).toBe(false);
    expect(await row(id)).toMatchObject({ state: 'ended', meeting_id: null, meeting_sealed: null, op: null });
    expect((await act(id, 'start')).status).toBe(200);
    await act(id, 'end');
  });

  test('a claim whose lease ran out (the process died during the BBB call) is taken over; a live one is respected', async () => {
    const id = await newRoom('Kunst 5b');
    const now = t.clock.now();
    await t.ctx.db.updateTable('rooms').set({ op: 'start', op_meeting_id: 'f'.repeat(40), op_until: new Date(now.getTime() + 30_000) }).where('id', '=', id).execute();
    const busy = await act(id, 'start');
    expect(busy.status).toBe(409);
    expect(creates(id)).toHaveLength(0);
    await t.ctx.db.updateTable('rooms').set({ op_until: new Date(now.getTime() - 1) }).where('id', '=', id).execute();
    const ok = await act(id, 'start');
    expect(ok.status).toBe(200);
    expect(await row(id)).toMatchObject({ state: 'running', op: null, meeting_id: creates(id)[0]!.params.meetingID });
    await act(id, 'end');
  });

  test('RET-01: the decisions keep their activity entries and rule ids (VC-03, VC-10, VC-11, RET-04)', async () => {
    await t.ctx.audit.flush();
    const rows = await t.ctx.db.selectFrom('activity_log').selectAll().where('actor_id', '=', teacher.userId).where('outcome', '=', 'permit').execute();
    const rules = (action: string) => rows.filter((r) => r.action === action).flatMap((r) => r.rule_ids);
    expect(rules('room.start')).toContain('VC-03');
    expect(rules('room.end')).toContain('VC-10');
    expect(rules('room.continue-in-fresh-room')).toEqual(expect.arrayContaining(['VC-11', 'VC-10', 'RET-04']));
    expect(JSON.stringify(rows)).not.toContain('Herr Lehrer');
  });
});
