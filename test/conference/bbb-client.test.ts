import { createHash } from 'node:crypto';
import { BbbClient, checksum, createParams, queryString, type ChecksumAlgorithm } from '../../src/conference/bbb.js';
import { decide, type PolicyTenantSettings } from '../../src/conference/policy.js';
import { ProblemError } from '../../src/shared/errors.js';
import { lastCall, startBbbServer, type BbbTestServer } from '../support/bbb-server.js';

const tenant: PolicyTenantSettings = { consentRequired: true, conference: { lessonLobby: true, recordingAllowed: false, shareLinkMaxHours: 24, lessonPrivateChat: false } };
const startObligations = (recording = false, allowed = false) =>
  decide('start', { kind: 'member', userId: 'u', roles: ['teacher'] }, { category: 'lesson', state: 'idle', settings: { recording }, backendKind: 'bbb' }, { ...tenant, conference: { ...tenant.conference, recordingAllowed: allowed } }).obligations!;

describe('BigBlueButton client against the bbb-web-like test server', () => {
  let bbb: BbbTestServer;
  beforeAll(async () => {
    bbb = await startBbbServer();
  });
  afterAll(async () => {
    await bbb.close();
  });
  const client = (algo: ChecksumAlgorithm = 'sha256', secret?: string) => new BbbClient({ name: 'bbb-main', baseUrl: bbb.baseUrl, secret: secret ?? bbb.secret, checksumAlgorithm: algo }, { timeoutMs: 500 });

  test('checksum = hex(HASH(callName + query + secret)) for sha1/256/384/512', async () => {
    const q = queryString([['meetingID', 'a b&c'], ['name', 'Mathe ä']]);
    expect(q).toBe('meetingID=a%20b%26c&name=Mathe%20%C3%A4');
    for (const algo of ['sha1', 'sha256', 'sha384', 'sha512'] as const) {
      expect(checksum(algo, 'create', q, 's3cret')).toBe(createHash(algo).update(`create${q}s3cret`).digest('hex'));
      await client(algo).isMeetingRunning('nope');
      expect(bbb.calls.at(-1)).toMatchObject({ call: 'isMeetingRunning', algorithm: algo, ok: true });
    }
  });

  test('wrong secret or unsupported algorithm → checksumError → 502 naming the backend', async () => {
    const err = await client('sha256', 'wrong-secret-123456').isMeetingRunning('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProblemError);
    expect(err).toMatchObject({ status: 502, type: 'backend-failed' });
    expect((err as ProblemError).detail).toContain('bbb-main');
    expect((err as ProblemError).detail).toContain('checksumError');
    const missing = await fetch(`${bbb.baseUrl}/api/create?meetingID=x&name=y`);
    expect(await missing.text()).toContain('checksumError');
    expect(bbb.meetings.has('x')).toBe(false);
    bbb.supported.delete('sha1');
    await expect(client('sha1').isMeetingRunning('x')).rejects.toMatchObject({ status: 502 });
    bbb.supported.add('sha1');
  });

  test('VC-04/05/10/12/14/16: create carries every obligation; create is idempotent', async () => {
    const c = client();
    const o = startObligations();
    const first = await c.create({ meetingId: 'm-1', name: 'Mathe 7a', roomId: 'room-1', obligations: o });
    const again = await c.create({ meetingId: 'm-1', name: 'Mathe 7a', roomId: 'room-1', obligations: o });
    expect(again.createTime).toBe(first.createTime);
    const p = lastCall(bbb, 'create')!;
    expect(p).toMatchObject({
      record: 'false',
      meetingKeepEvents: 'false',
      guestPolicy: 'ASK_MODERATOR',
      lockSettingsDisablePrivateChat: 'true',
      lockSettingsDisableNotes: 'true',
      muteOnStart: 'true',
      endWhenNoModerator: 'true',
      meetingExpireWhenLastUserLeftInMinutes: '1',
      disabledFeatures: 'learningDashboard',
      meta_schulbrueckeroom: 'room-1',
    });
    expect(Object.keys(p).filter((k) => k.startsWith('meta_'))).toEqual(['meta_schulbrueckeroom']);
    expect(p.notifyRecordingIsOn).toBeUndefined();
  });

  test('VC-04/VC-15: guestPolicy=ASK_MODERATOR even where the lesson lobby is off (guests always wait)', () => {
    const o = decide('start', { kind: 'member', userId: 'u', roles: ['teacher'] }, { category: 'lesson', state: 'idle', settings: { lobby: false }, backendKind: 'bbb' }, { ...tenant, conference: { ...tenant.conference, lessonLobby: false } }).obligations!;
    expect(o.lobby).toBe(false);
    expect(Object.fromEntries(createParams({ meetingId: 'm', name: 'n', roomId: 'r', obligations: o })).guestPolicy).toBe('ASK_MODERATOR');
  });

  test('VC-05: recording only with record=true, manual start, notice', () => {
    const p = Object.fromEntries(createParams({ meetingId: 'm', name: 'n', roomId: 'r', obligations: startObligations(true, true) }));
    expect(p).toMatchObject({ record: 'true', autoStartRecording: 'false', allowStartStopRecording: 'true', notifyRecordingIsOn: 'true' });
  });

  test('join needs an existing meeting and its createTime; objector joins camera-off (VC-06)', async () => {
    const c = client();
    const { createTime } = await c.create({ meetingId: 'm-2', name: 'Raum', roomId: 'room-2', obligations: startObligations() });
    const o = decide('join', { kind: 'member', userId: 'u2', roles: ['student'] }, { category: 'lesson', state: 'running', settings: {}, backendKind: 'bbb' }, tenant, { videoConsent: true, usageRulesAccepted: true, objection: true }).obligations!;
    const url = c.joinUrl({ meetingId: 'm-2', createTime, fullName: 'Kim', userId: 'u2', obligations: o });
    const ok = await fetch(url, { redirect: 'manual' });
    expect(ok.status).toBe(302);
    expect(lastCall(bbb, 'join')).toMatchObject({ role: 'VIEWER', userID: 'u2', guest: 'false', 'userdata-bbb_auto_share_webcam': 'false', 'userdata-bbb_skip_video_preview': 'true' });
    const stale = await fetch(c.joinUrl({ meetingId: 'm-2', createTime: '1', fullName: 'Kim', userId: 'u2', obligations: o }), { redirect: 'manual' });
    expect(await stale.text()).toContain('mismatchCreateTimeParam');
    const none = await fetch(c.joinUrl({ meetingId: 'nope', createTime, fullName: 'Kim', userId: 'u2', obligations: o }), { redirect: 'manual' });
    expect(await none.text()).toContain('invalidMeetingIdentifier');
    const tampered = await fetch(url.replace('role=VIEWER', 'role=MODERATOR'), { redirect: 'manual' });
    expect(await tampered.text()).toContain('checksumError');
  });

  test('getMeetingInfo, end, getRecordings and deleteRecordings', async () => {
    const c = client('sha512');
    await c.create({ meetingId: 'm-3', name: 'Raum', roomId: 'room-3', obligations: startObligations(true, true) });
    expect(await c.getMeetingInfo('m-3')).toMatchObject({ meetingID: 'm-3', running: false });
    expect(await c.end('m-3')).toBe(true);
    expect(await c.getMeetingInfo('m-3')).toBeNull();
    expect(await c.end('m-3')).toBe(false);
    const recs = await c.getRecordings('room-3');
    expect(recs).toHaveLength(1);
    expect(recs[0]!.roomId).toBe('room-3');
    expect(await c.getRecordings('room-other')).toEqual([]);
    expect(await c.deleteRecordings([recs[0]!.recordID])).toBe(true);
    expect(await c.getRecordings('room-3')).toEqual([]);
  });

  test('returncode FAILED, bad XML, timeout and unreachable → 502 problem, never a hang', async () => {
    for (const mode of ['failed', 'bad-xml', 'hang'] as const) {
      bbb.mode = mode;
      const started = Date.now();
      const err = await client().getMeetingInfo('x').catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 502, type: 'backend-failed' });
      expect(Date.now() - started).toBeLessThan(3000);
    }
    bbb.mode = 'normal';
    const gone = new BbbClient({ name: 'bbb-gone', baseUrl: 'http://127.0.0.1:1/bigbluebutton', secret: 'x'.repeat(20), checksumAlgorithm: 'sha256' });
    await expect(gone.end('x')).rejects.toMatchObject({ status: 502, extra: { backend: 'bbb-gone' } });
  });
});
