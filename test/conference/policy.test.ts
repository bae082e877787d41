import { decide, type PolicyActor, type PolicyFacts, type PolicyRoom, type PolicyTenantSettings, type RequestedCategory, type RoomAction } from '../../src/conference/policy.js';
import type { AppRole } from '../../src/identity/roles.js';

const tenant = (over: Partial<PolicyTenantSettings['conference']> = {}, consentRequired = true): PolicyTenantSettings => ({
  consentRequired,
  conference: { lessonLobby: true, recordingAllowed: false, shareLinkMaxHours: 24, lessonPrivateChat: false, ...over },
});
const room = (category: RequestedCategory, state: PolicyRoom['state'] = 'running', over: Partial<PolicyRoom> = {}): PolicyRoom => ({
  category,
  state,
  purpose: category === 'staff' || category === 'sensitive' ? 'Elterngespräch' : null,
  settings: {},
  backendKind: 'bbb',
  ...over,
});
const member = (...roles: AppRole[]): PolicyActor => ({ kind: 'member', userId: 'u-1', roles });
const okFacts: PolicyFacts = { videoConsent: true, peerConsent: true, usageRulesAccepted: true, objection: false };

describe('conference policy (pure)', () => {
  test('VC-01: no verified identity → no join, no start', () => {
    for (const action of ['join', 'start'] as RoomAction[]) {
      const d = decide(action, { kind: 'anonymous', roles: [] }, room('lesson'), tenant(), okFacts);
      expect(d.effect).toBe('deny');
      expect(d.rules).toContain('VC-01');
    }
    const noRoles = decide('join', member(), room('lesson'), tenant(), okFacts);
    expect(noRoles.rules).toEqual(['VC-01']);
  });

  test('VC-02: a permitted join is personal (rule carried by the decision)', () => {
    const d = decide('join', member('student'), room('lesson'), tenant(), okFacts);
    expect(d.effect).toBe('permit');
    expect(d.rules).toContain('VC-02');
  });

  test('VC-03: only teachers/leadership create, start, end; pupils wait for the teacher', () => {
    for (const action of ['create', 'start', 'end', 'create-share-link', 'enable-recording'] as RoomAction[]) {
      const d = decide(action, member('student'), room('lesson', 'running'), tenant({ recordingAllowed: true }), okFacts);
      expect({ action, effect: d.effect, rules: d.rules }).toEqual({ action, effect: 'deny', rules: ['VC-03'] });
    }
    expect(decide('start', member('teacher'), room('lesson', 'idle'), tenant()).effect).toBe('permit');
    expect(decide('start', member('leadership'), room('lesson', 'idle'), tenant()).effect).toBe('permit');
    const waiting = decide('join', member('student'), room('lesson', 'idle'), tenant(), okFacts);
    expect(waiting).toMatchObject({ effect: 'deny', rules: ['VC-03'], waiting: true });
    expect(waiting.reason.de).toContain('Warten auf die Lehrkraft');
  });

  test('VC-04: sensitive rooms always have lobby and password; lesson lobby only off where the tenant allows', () => {
    const s = decide('start', member('teacher'), room('sensitive', 'idle', { settings: { lobby: false } }), tenant({ lessonLobby: false }));
    expect(s.obligations).toMatchObject({ lobby: true, password: true });
    expect(s.rules).toEqual(expect.arrayContaining(['VC-04', 'SEC-01']));
    const lessonDefault = decide('start', member('teacher'), room('lesson', 'idle', { settings: { lobby: false } }), tenant());
    expect(lessonDefault.obligations?.lobby).toBe(true);
    const lessonOff = decide('start', member('teacher'), room('lesson', 'idle', { settings: { lobby: false } }), tenant({ lessonLobby: false }));
    expect(lessonOff.obligations?.lobby).toBe(false);
    expect(lessonOff.obligations?.password).toBe(false);
    // VC-15: with live share links the moderator keeps the lobby on even where lesson lobbies are off.
    const withLinks = decide('join', member('teacher'), room('lesson', 'running', { settings: { lobby: false } }), tenant({ lessonLobby: false }), { usageRulesAccepted: true, shareLinksActive: true });
    expect(withLinks.obligations?.lobby).toBe(true);
    const noLinks = decide('join', member('teacher'), room('lesson', 'running', { settings: { lobby: false } }), tenant({ lessonLobby: false }), { usageRulesAccepted: true });
    expect(noLinks.obligations?.lobby).toBe(false);
    const staffOff = decide('start', member('teacher'), room('staff', 'idle', { settings: { lobby: false } }), tenant({ lessonLobby: false }));
    expect(staffOff.obligations?.lobby).toBe(true);
  });

  test('VC-05: no recording unless the tenant permits AND the teacher enabled it', () => {
    const enabledRoom = room('lesson', 'idle', { settings: { recording: true } });
    expect(decide('start', member('teacher'), enabledRoom, tenant()).obligations?.record).toBe(false);
    expect(decide('start', member('teacher'), room('lesson', 'idle'), tenant({ recordingAllowed: true })).obligations?.record).toBe(false);
    expect(decide('start', member('teacher'), enabledRoom, tenant({ recordingAllowed: true })).obligations?.record).toBe(true);
    const refused = decide('enable-recording', member('teacher'), room('lesson'), tenant());
    expect(refused).toMatchObject({ effect: 'deny', rules: ['VC-05'] });
    expect(decide('enable-recording', member('teacher'), room('lesson'), tenant({ recordingAllowed: true })).effect).toBe('permit');
    expect(decide('disable-recording', member('teacher'), room('lesson'), tenant())).toMatchObject({ effect: 'permit', obligations: { record: false } });
    expect(decide('disable-recording', member('student'), room('lesson'), tenant()).rules).toEqual(['VC-03']);
    // Jitsi features follow the same rule and are never on for non-moderators.
    const pupil = decide('join', member('student'), room('lesson', 'running', { settings: { recording: true } }), tenant({ recordingAllowed: true }), okFacts);
    expect(pupil.obligations?.features).toEqual({ recording: false, livestreaming: false, transcription: false });
  });

  test('VC-06: an objection means camera off and no video preview, never a refusal', () => {
    const d = decide('join', member('student'), room('lesson'), tenant(), { ...okFacts, objection: true });
    expect(d.effect).toBe('permit');
    expect(d.obligations).toMatchObject({ cameraOff: true, skipVideoPreview: true });
    expect(d.rules).toContain('VC-06');
    const none = decide('join', member('student'), room('lesson'), tenant(), okFacts);
    expect(none.obligations).toMatchObject({ cameraOff: false, skipVideoPreview: false });
  });

  test('VC-07: pupils need a consent where the tenant requires one', () => {
    const d = decide('join', member('student'), room('lesson'), tenant(), { ...okFacts, videoConsent: false });
    expect(d).toMatchObject({ effect: 'deny', rules: ['VC-07'] });
    expect(decide('join', member('student'), room('lesson'), tenant({}, false), { ...okFacts, videoConsent: false }).effect).toBe('permit');
    expect(decide('join', member('teacher'), room('lesson'), tenant(), { ...okFacts, videoConsent: false }).effect).toBe('permit');
  });

  test('VC-08: art9 and social work / school psychology are refused for every action and backend', () => {
    for (const action of ['create', 'start', 'join', 'end', 'create-share-link', 'join-by-share-link'] as RoomAction[]) {
      for (const backendKind of ['bbb', 'jitsi'] as const) {
        expect(decide(action, member('teacher'), room('art9', 'running', { backendKind }), tenant(), okFacts).rules).toEqual(['VC-08']);
        expect(decide(action, member('teacher', 'social_work'), room('lesson', 'running', { backendKind }), tenant(), okFacts).rules).toEqual(['VC-08']);
        expect(decide(action, member('school_psychology'), room('lesson', 'running', { backendKind }), tenant(), okFacts).effect).toBe('deny');
      }
    }
  });

  test('VC-09: staff/sensitive need a purpose; staff rooms exclude pupils; peer needs agreement', () => {
    expect(decide('create', member('teacher'), room('staff', 'idle', { purpose: '' }), tenant())).toMatchObject({ effect: 'deny', rules: ['VC-09'] });
    expect(decide('create', member('teacher'), room('sensitive', 'idle', { purpose: null }), tenant())).toMatchObject({ effect: 'deny', rules: ['VC-09'] });
    expect(decide('create', member('teacher'), room('staff', 'idle', { purpose: 'Fachkonferenz' }), tenant()).effect).toBe('permit');
    expect(decide('join', member('student'), room('staff'), tenant(), okFacts)).toMatchObject({ effect: 'deny', rules: ['VC-09'] });
    expect(decide('join', member('laa'), room('peer'), tenant(), { ...okFacts, peerConsent: false })).toMatchObject({ effect: 'deny', rules: ['VC-09'] });
    expect(decide('join', member('laa'), room('peer'), tenant(), okFacts).effect).toBe('permit');
  });

  test('VC-10: end destroys the secrets; every start gets a fresh meeting; endWhenNoModerator and 1-minute expiry', () => {
    const end = decide('end', member('teacher'), room('lesson', 'running'), tenant());
    expect(end.obligations).toMatchObject({ destroySecrets: true });
    expect(end.rules).toEqual(expect.arrayContaining(['VC-10', 'RET-04']));
    const start = decide('start', member('teacher'), room('lesson', 'ended'), tenant());
    expect(start.obligations).toMatchObject({ freshMeeting: true, endWhenNoModerator: true, expireWhenLastUserLeftMinutes: 1 });
    expect(decide('end', member('teacher'), room('lesson', 'idle'), tenant())).toMatchObject({ effect: 'deny', rules: ['VC-10'] });
  });

  test('VC-11: continue in a fresh room only for sensitive, with a new id and password', () => {
    const d = decide('continue-in-fresh-room', member('teacher'), room('sensitive'), tenant());
    expect(d.obligations).toMatchObject({ destroySecrets: true, freshMeeting: true, password: true });
    expect(decide('continue-in-fresh-room', member('teacher'), room('lesson'), tenant())).toMatchObject({ effect: 'deny', rules: ['VC-11'] });
  });

  test('VC-12: permitted decisions carry the data-minimisation rule', () => {
    expect(decide('join', member('student'), room('lesson'), tenant(), okFacts).rules).toContain('VC-12');
  });

  test('VC-13: no join before the current usage rules were accepted (teachers too)', () => {
    expect(decide('join', member('student'), room('lesson'), tenant(), { ...okFacts, usageRulesAccepted: false })).toMatchObject({ effect: 'deny', rules: ['VC-13'] });
    expect(decide('join', member('teacher'), room('lesson'), tenant(), { ...okFacts, usageRulesAccepted: false })).toMatchObject({ effect: 'deny', rules: ['VC-13'] });
  });

  test('VC-14: private chat off by default in lesson; teachers may switch it off elsewhere', () => {
    expect(decide('start', member('teacher'), room('lesson', 'idle'), tenant()).obligations?.privateChat).toBe(false);
    expect(decide('start', member('teacher'), room('lesson', 'idle'), tenant({ lessonPrivateChat: true })).obligations?.privateChat).toBe(true);
    expect(decide('start', member('teacher'), room('staff', 'idle'), tenant()).obligations?.privateChat).toBe(true);
    expect(decide('start', member('teacher'), room('staff', 'idle', { settings: { privateChat: false } }), tenant()).obligations?.privateChat).toBe(false);
  });

  test('VC-15: share links at most 24 h (tenant may shorten), guests via lobby, invalid/expired/wrong password refused', () => {
    expect(decide('create-share-link', member('teacher'), room('lesson'), tenant(), { shareLinkHours: 25 })).toMatchObject({ effect: 'deny', rules: ['VC-15'] });
    expect(decide('create-share-link', member('teacher'), room('lesson'), tenant({ shareLinkMaxHours: 4 }), { shareLinkHours: 5 })).toMatchObject({ effect: 'deny', rules: ['VC-15'] });
    expect(decide('create-share-link', member('teacher'), room('lesson'), tenant({ shareLinkMaxHours: 4 }), { shareLinkHours: 4 }).obligations?.shareLinkHours).toBe(4);
    const anon: PolicyActor = { kind: 'guest', roles: [] };
    expect(decide('join-by-share-link', anon, room('lesson'), tenant(), { shareLink: { found: true, expired: true, passwordOk: true } }).rules).toContain('VC-15');
    expect(decide('join-by-share-link', anon, room('lesson'), tenant(), { shareLink: { found: false, expired: false, passwordOk: false } }).effect).toBe('deny');
    expect(decide('join-by-share-link', anon, room('lesson'), tenant(), { shareLink: { found: true, expired: false, passwordOk: false } }).rules).toEqual(['VC-15', 'SEC-01']);
    const ok = decide('join-by-share-link', anon, room('lesson'), tenant({ lessonLobby: false }), { shareLink: { found: true, expired: false, passwordOk: true } });
    expect(ok.obligations).toMatchObject({ guest: true, lobby: true, moderator: false });
  });

  test('VC-16: everyone starts muted', () => {
    expect(decide('start', member('teacher'), room('lesson', 'idle'), tenant()).obligations?.muteOnStart).toBe(true);
    expect(decide('join', member('student'), room('lesson'), tenant(), okFacts).obligations?.muteOnStart).toBe(true);
  });

  test('SEC-01: password obligation for sensitive rooms and share links', () => {
    expect(decide('start', member('teacher'), room('sensitive', 'idle'), tenant()).rules).toContain('SEC-01');
    expect(decide('create-share-link', member('teacher'), room('lesson'), tenant(), { shareLinkHours: 2 }).rules).toContain('SEC-01');
  });
});

/**
 * The matrix: roles × categories × tenant settings × consent/objection state,
 * each expected outcome derived from the rule that decides it (independently of
 * the implementation's branch order, written as the catalogue reads).
 */
describe('conference policy matrix: join', () => {
  const roleSets: AppRole[][] = [['teacher'], ['leadership'], ['student'], ['laa'], ['staff'], ['social_work'], ['school_psychology'], ['teacher', 'school_psychology'], []];
  const categories: RequestedCategory[] = ['lesson', 'staff', 'sensitive', 'peer', 'art9'];
  const consentRequired = [true, false];
  const consents = [true, false];
  const objections = [true, false];
  const accepted = [true, false];

  function expected(roles: AppRole[], category: RequestedCategory, cr: boolean, consent: boolean, objection: boolean, acc: boolean): { effect: string; rule: string; cameraOff?: boolean; moderator?: boolean } {
    if (category === 'art9') return { effect: 'deny', rule: 'VC-08' };
    if (roles.includes('social_work') || roles.includes('school_psychology')) return { effect: 'deny', rule: 'VC-08' };
    if (roles.length === 0) return { effect: 'deny', rule: 'VC-01' };
    const teaching = roles.includes('teacher') || roles.includes('leadership');
    if (category === 'staff' && !(teaching || roles.includes('laa') || roles.includes('staff'))) return { effect: 'deny', rule: 'VC-09' };
    if (!acc) return { effect: 'deny', rule: 'VC-13' };
    if (teaching) return { effect: 'permit', rule: 'VC-03', moderator: true, cameraOff: false };
    if (roles.includes('student') && cr && !consent) return { effect: 'deny', rule: 'VC-07' };
    if (category === 'peer' && !consent) return { effect: 'deny', rule: 'VC-09' };
    return { effect: 'permit', rule: objection ? 'VC-06' : 'VC-13', moderator: false, cameraOff: objection };
  }

  const cases: [string, AppRole[], RequestedCategory, boolean, boolean, boolean, boolean][] = [];
  for (const roles of roleSets)
    for (const category of categories)
      for (const cr of consentRequired)
        for (const consent of consents)
          for (const objection of objections)
            for (const acc of accepted) cases.push([`${roles.join('+') || 'none'}/${category}/consentRequired=${cr}/consent=${consent}/objection=${objection}/accepted=${acc}`, roles, category, cr, consent, objection, acc]);

  test.each(cases)('%s', (_name, roles, category, cr, consent, objection, acc) => {
    const d = decide('join', member(...roles), room(category, 'running'), tenant({}, cr), { videoConsent: consent, peerConsent: consent, objection, usageRulesAccepted: acc });
    const want = expected(roles, category, cr, consent, objection, acc);
    expect(d.effect).toBe(want.effect);
    expect(d.rules).toContain(want.rule);
    if (want.effect === 'deny') {
      expect(d.obligations).toBeNull();
      expect(d.reason.de).toContain(want.rule);
    } else {
      expect(d.obligations?.moderator).toBe(want.moderator);
      expect(d.obligations?.cameraOff).toBe(want.cameraOff);
      expect(d.obligations?.muteOnStart).toBe(true); // VC-16
      expect(d.obligations?.lobby).toBe(true); // VC-04 (lessonLobby default on)
      expect(d.obligations?.password).toBe(category === 'sensitive'); // VC-04
    }
  });
});

describe('conference policy matrix: start', () => {
  const roleSets: AppRole[][] = [['teacher'], ['leadership'], ['student'], ['laa'], ['staff'], ['social_work'], []];
  const categories: RequestedCategory[] = ['lesson', 'staff', 'sensitive', 'peer', 'art9'];
  const settings = [
    { recordingAllowed: false, lessonLobby: true },
    { recordingAllowed: true, lessonLobby: false },
  ];
  const cases: [string, AppRole[], RequestedCategory, (typeof settings)[number], boolean][] = [];
  for (const roles of roleSets) for (const c of categories) for (const s of settings) for (const rec of [true, false]) cases.push([`${roles.join('+') || 'none'}/${c}/${JSON.stringify(s)}/teacherRecording=${rec}`, roles, c, s, rec]);

  test.each(cases)('%s', (_n, roles, category, s, rec) => {
    const d = decide('start', member(...roles), room(category, 'idle', { settings: { recording: rec, lobby: false } }), tenant(s));
    if (category === 'art9' || roles.includes('social_work')) return expect(d.rules).toEqual(['VC-08']);
    if (roles.length === 0) return expect(d.rules).toEqual(['VC-01']);
    if (!(roles.includes('teacher') || roles.includes('leadership'))) return expect(d.rules).toEqual(['VC-03']);
    expect(d.effect).toBe('permit');
    expect(d.obligations?.record).toBe(s.recordingAllowed && rec); // VC-05
    expect(d.obligations?.lobby).toBe(category === 'lesson' ? s.lessonLobby : true); // VC-04
    expect(d.obligations?.freshMeeting).toBe(true); // VC-10
  });
});
