/**
 * The usage rules for conferences as one pure function (no I/O): every room
 * action is decided here, and the decision names the POLICY_CATALOGUE rules
 * (VC-01 … VC-16, SEC-01) that decided it. What the backend call must carry is
 * returned as obligations, so the BBB/Jitsi adapters only translate them.
 */
import { RESTRICTING_ROLES, TEACHING_ROLES, type AppRole } from '../identity/roles.js';

export const ROOM_ACTIONS = [
  'create',
  'start',
  'join',
  'end',
  'continue-in-fresh-room',
  'create-share-link',
  'join-by-share-link',
  'enable-recording',
  'disable-recording',
] as const;
export type RoomAction = (typeof ROOM_ACTIONS)[number];

/** What a caller may ask for: the four categories plus `art9`, which is always refused (VC-08). */
export type RequestedCategory = 'lesson' | 'staff' | 'sensitive' | 'peer' | 'art9';

/** Who acts: a member whose roles come from verified memberships, a share-link guest, or nobody verified. */
export interface PolicyActor {
  kind: 'member' | 'guest' | 'anonymous';
  /** Pseudonymous users.id (members only). */
  userId?: string;
  /** Roles from `rolesInContext` (verified), never from the request. */
  roles: readonly AppRole[];
}

/** Per-room settings a teacher chooses (stored in rooms.settings). */
export interface RoomSettings {
  /** VC-04: lobby for `lesson` rooms where the tenant lets teachers switch it off. */
  lobby?: boolean;
  /** VC-14: private chat between participants. */
  privateChat?: boolean;
  /** VC-05: the teacher enabled recording (only effective where the tenant permits it). */
  recording?: boolean;
  /** Only the moderator sees webcams. */
  webcamsOnlyForModerator?: boolean;
  /** Lock participants' cameras. */
  disableCam?: boolean;
}

export interface PolicyRoom {
  category: RequestedCategory;
  state: 'idle' | 'running' | 'ended';
  purpose?: string | null;
  settings: RoomSettings;
  backendKind: 'bbb' | 'jitsi';
}

/** The part of the tenant's settings the rules read. */
export interface PolicyTenantSettings {
  consentRequired: boolean;
  conference: { lessonLobby: boolean; recordingAllowed: boolean; shareLinkMaxHours: number; lessonPrivateChat: boolean };
}

/** Facts looked up before deciding (consents, objections, acceptances, share link). */
export interface PolicyFacts {
  /** VC-07: a recorded, unwithdrawn consent to the video module. */
  videoConsent?: boolean;
  /** VC-09: the person agreed to the peer meeting. */
  peerConsent?: boolean;
  /** VC-06: an objection in force. */
  objection?: boolean;
  /** VC-13: accepted the tenant's current usage-rules version (true if the tenant has none). */
  usageRulesAccepted?: boolean;
  /** VC-15: requested lifetime of a new share link, in hours. */
  shareLinkHours?: number;
  /** VC-15: the room has live share links, so guests may arrive (the moderator keeps the lobby on). */
  shareLinksActive?: boolean;
  /** VC-15: the share link presented by a guest. */
  shareLink?: { found: boolean; expired: boolean; passwordOk: boolean };
}

export interface Obligations {
  /** BBB create/join role and Jitsi `moderator`. */
  moderator: boolean;
  /** Joins as a guest (share link): BBB `guest=true`, always through the lobby. */
  guest: boolean;
  /** VC-04: waiting room with admission (BBB guestPolicy=ASK_MODERATOR; Jitsi lobby switched on by the moderator). */
  lobby: boolean;
  /** VC-04: `sensitive` rooms carry a fresh password (SEC-01: ≥ 12 characters). */
  password: boolean;
  /** VC-05: record=true with manual start/stop and a notice; false otherwise. */
  record: boolean;
  /** VC-16 */
  muteOnStart: boolean;
  /** VC-14: false → lockSettingsDisablePrivateChat=true. */
  privateChat: boolean;
  /** VC-10: shared notes go with the room; locked for viewers. */
  disableNotes: boolean;
  webcamsOnlyForModerator: boolean;
  disableCam: boolean;
  /** VC-06: never force the camera on; skip the preview. */
  cameraOff: boolean;
  skipVideoPreview: boolean;
  /** VC-10 */
  endWhenNoModerator: boolean;
  expireWhenLastUserLeftMinutes: number;
  /** VC-10/VC-11: end the current meeting and destroy its secrets (end, continue in a fresh room). */
  destroySecrets: boolean;
  /** VC-10/VC-11: a new random meeting id (start, continue in a fresh room). */
  freshMeeting: boolean;
  /** VC-15: the share link's lifetime in hours. */
  shareLinkHours?: number;
  /** VC-05 (Jitsi): features in the token. */
  features: { recording: boolean; livestreaming: boolean; transcription: boolean };
}

export interface Decision {
  effect: 'permit' | 'deny';
  /** Rule ids that decided (for a permit: the rules whose obligations apply). */
  rules: string[];
  reason: { de: string; en: string };
  /** A permit's obligations; null for a deny. */
  obligations: Obligations | null;
  /** For a deny a pupil should wait (room not running yet), not give up. */
  waiting?: boolean;
}

export const SHARE_LINK_MAX_HOURS = 24; // VC-15 absolute maximum

const MODERATOR_ACTIONS: readonly RoomAction[] = ['create', 'start', 'end', 'continue-in-fresh-room', 'create-share-link', 'enable-recording', 'disable-recording'];

const isTeaching = (roles: readonly AppRole[]) => roles.some((r) => TEACHING_ROLES.includes(r));
const isRestricted = (roles: readonly AppRole[]) => roles.some((r) => RESTRICTING_ROLES.includes(r));

function deny(rules: string[], de: string, en: string, waiting = false): Decision {
  return { effect: 'deny', rules, reason: { de, en }, obligations: null, ...(waiting ? { waiting: true } : {}) };
}

/** VC-04: lobby is mandatory for sensitive, default on elsewhere; only `lesson` may switch it off (tenant + room). */
function lobbyFor(room: PolicyRoom, tenant: PolicyTenantSettings): boolean {
  if (room.category === 'sensitive') return true;
  if (room.category === 'lesson') {
    if (tenant.conference.lessonLobby) return true;
    return room.settings.lobby ?? false;
  }
  return true;
}

/** VC-14: private chat off by default in `lesson` (tenant default), teachers may switch it off anywhere. */
function privateChatFor(room: PolicyRoom, tenant: PolicyTenantSettings): boolean {
  const byDefault = room.category === 'lesson' ? tenant.conference.lessonPrivateChat : room.category !== 'sensitive';
  return room.settings.privateChat ?? byDefault;
}

/** VC-05: only where the tenant permits it AND the teacher enabled it for the room. */
export function recordingFor(room: PolicyRoom, tenant: PolicyTenantSettings): boolean {
  return tenant.conference.recordingAllowed && room.settings.recording === true;
}

function baseObligations(room: PolicyRoom, tenant: PolicyTenantSettings): Obligations {
  const record = recordingFor(room, tenant);
  return {
    moderator: false,
    guest: false,
    lobby: lobbyFor(room, tenant),
    password: room.category === 'sensitive',
    record,
    muteOnStart: true,
    privateChat: privateChatFor(room, tenant),
    disableNotes: true,
    webcamsOnlyForModerator: room.settings.webcamsOnlyForModerator ?? false,
    disableCam: room.settings.disableCam ?? false,
    cameraOff: false,
    skipVideoPreview: false,
    endWhenNoModerator: true,
    expireWhenLastUserLeftMinutes: 1,
    destroySecrets: false,
    freshMeeting: false,
    features: { recording: false, livestreaming: false, transcription: false },
  };
}

/** Rules whose obligations every permitted backend call carries. */
function obligationRules(o: Obligations): string[] {
  const rules = ['VC-04', 'VC-10', 'VC-12', 'VC-14', 'VC-16'];
  rules.push('VC-05');
  if (o.password) rules.push('SEC-01');
  if (o.cameraOff) rules.push('VC-06');
  return rules;
}

const uniq = (xs: string[]) => [...new Set(xs)].sort();

export function decide(action: RoomAction, actor: PolicyActor, room: PolicyRoom, tenant: PolicyTenantSettings, facts: PolicyFacts = {}): Decision {
  // VC-08 first: no special categories, no social work / school psychology, for any backend and action.
  if (room.category === 'art9') {
    return deny(['VC-08'], 'Besondere Kategorien personenbezogener Daten (Art. 9 DSGVO) dürfen in Videokonferenzen nicht verarbeitet werden (VC-08).', 'Special categories of personal data (Art. 9 GDPR) must not be processed in video conferences (VC-08).');
  }
  if (isRestricted(actor.roles)) {
    return deny(['VC-08'], 'Schulsozialarbeit und Schulpsychologie dürfen diesen Dienst nicht nutzen (VC-08).', 'School social work and school psychology must not use this service (VC-08).');
  }

  // VC-01: nobody without a verified identity or a valid share link.
  if (action === 'join-by-share-link') return decideShareJoin(room, tenant, facts);
  if (actor.kind !== 'member' || actor.roles.length === 0) {
    return deny(['VC-01'], 'Teilnehmen dürfen nur berechtigte Personen: bitte über Moodle oder IServ anmelden (VC-01).', 'Only authorised persons take part: please sign in through Moodle or IServ (VC-01).');
  }

  const teaching = isTeaching(actor.roles);
  if (MODERATOR_ACTIONS.includes(action) && !teaching) {
    return deny(['VC-03'], 'Nur Lehrkräfte (oder die Schulleitung) legen Konferenzen an, starten und beenden sie (VC-03).', 'Only teachers (or school leadership) create, start and end conferences (VC-03).');
  }

  const o = baseObligations(room, tenant);
  switch (action) {
    case 'create': {
      if ((room.category === 'staff' || room.category === 'sensitive') && !(room.purpose && room.purpose.trim().length >= 3)) {
        return deny(['VC-09'], 'Für Dienstbesprechungen und vertrauliche Gespräche bitte kurz den Zweck angeben (VC-09).', 'Staff and sensitive meetings need a short purpose (VC-09).');
      }
      return permit(['VC-03', 'VC-09'], o, 'Raum angelegt.', 'Room created.');
    }
    case 'start': {
      if (room.state === 'running') return permit(['VC-03'], { ...o, moderator: true }, 'Die Konferenz läuft bereits.', 'The conference is already running.');
      return permit(['VC-03', 'VC-10', 'VC-11'], { ...o, moderator: true, freshMeeting: true }, 'Konferenz gestartet (neue Raumkennung).', 'Conference started (new meeting id).');
    }
    case 'end': {
      if (room.state !== 'running') return deny(['VC-10'], 'Die Konferenz läuft nicht.', 'The conference is not running.');
      return permit(['VC-10', 'RET-04'], { ...o, moderator: true, destroySecrets: true }, 'Konferenz für alle beendet; Raumkennung, Links und Passwort sind gelöscht.', 'Conference ended for everyone; meeting id, links and password are destroyed.');
    }
    case 'continue-in-fresh-room': {
      if (room.category !== 'sensitive') {
        return deny(['VC-11'], '„In frischem Raum fortsetzen“ gibt es nur für vertrauliche Gespräche (VC-11).', '"Continue in a fresh room" is only for sensitive meetings (VC-11).');
      }
      if (room.state !== 'running') return deny(['VC-11'], 'Die Konferenz läuft nicht.', 'The conference is not running.');
      return permit(['VC-11', 'VC-10', 'RET-04'], { ...o, moderator: true, destroySecrets: true, freshMeeting: true }, 'Die Konferenz geht in einem neuen Raum mit neuer Kennung und neuem Passwort weiter.', 'The meeting continues in a new room with a new id and password.');
    }
    case 'create-share-link': {
      const hours = facts.shareLinkHours ?? tenant.conference.shareLinkMaxHours;
      const max = Math.min(SHARE_LINK_MAX_HOURS, tenant.conference.shareLinkMaxHours);
      if (!(hours > 0) || hours > max) {
        return deny(['VC-15'], `Freigabelinks gelten höchstens ${max} Stunden (VC-15).`, `Share links are valid for at most ${max} hours (VC-15).`);
      }
      return permit(['VC-15', 'SEC-01'], { ...o, moderator: true, lobby: true, shareLinkHours: hours }, 'Freigabelink erstellt (mit Passwort und Ablaufzeit).', 'Share link created (with password and expiry).');
    }
    case 'enable-recording': {
      if (!tenant.conference.recordingAllowed) {
        return deny(['VC-05'], 'Die Schule erlaubt keine Aufzeichnungen (VC-05).', 'The school does not permit recordings (VC-05).');
      }
      return permit(['VC-05'], { ...o, moderator: true }, 'Aufzeichnung für diesen Raum erlaubt; Teilnehmende werden darauf hingewiesen.', 'Recording allowed for this room; participants are notified.');
    }
    case 'disable-recording':
      return permit(['VC-05'], { ...o, moderator: true, record: false }, 'Keine Aufzeichnung in diesem Raum.', 'No recording in this room.');
    case 'join':
      return decideMemberJoin(actor, teaching, room, tenant, facts, o);
    default:
      return deny(['VC-01'], 'Unbekannte Aktion.', 'Unknown action.');
  }
}

function permit(rules: string[], o: Obligations, de: string, en: string): Decision {
  return { effect: 'permit', rules: uniq([...rules, ...obligationRules(o)]), reason: { de, en }, obligations: o };
}

function decideMemberJoin(actor: PolicyActor, teaching: boolean, room: PolicyRoom, tenant: PolicyTenantSettings, facts: PolicyFacts, o: Obligations): Decision {
  const roles = actor.roles;
  // VC-09: staff meetings are for leadership and teachers (incl. trainees and staff), not for pupils or guests.
  if (room.category === 'staff' && !roles.some((r) => r === 'teacher' || r === 'leadership' || r === 'staff' || r === 'laa')) {
    return deny(['VC-09'], 'Dienstbesprechungen sind nur für Lehrkräfte und Schulleitung (VC-09).', 'Staff meetings are for teachers and leadership only (VC-09).');
  }
  // VC-13: usage rules accepted for the current version.
  if (facts.usageRulesAccepted !== true) {
    return deny(['VC-13'], 'Bitte zuerst die Nutzungsregeln lesen und bestätigen (VC-13).', 'Please read and accept the usage rules first (VC-13).');
  }
  if (room.state !== 'running') {
    if (teaching) return deny(['VC-03'], 'Die Konferenz läuft noch nicht: bitte zuerst starten (VC-03).', 'The conference is not running: please start it first (VC-03).');
    return deny(['VC-03'], 'Warten auf die Lehrkraft: die Konferenz ist noch nicht gestartet (VC-03).', 'Waiting for the teacher: the conference has not started yet (VC-03).', true);
  }
  if (teaching) {
    // VC-15: guests always wait in the lobby, so with live share links the moderator switches it on.
    const lobby = o.lobby || facts.shareLinksActive === true;
    return permit(['VC-01', 'VC-02', 'VC-03', 'VC-13'], { ...o, lobby, moderator: true, features: { recording: o.record, livestreaming: false, transcription: false } }, 'Beitritt als Moderator/in.', 'Joining as moderator.');
  }
  const isStudent = roles.includes('student');
  // VC-07: pupils need a recorded, unwithdrawn consent where the tenant requires it.
  if (isStudent && tenant.consentRequired && facts.videoConsent !== true) {
    return deny(['VC-07'], 'Für die Teilnahme fehlt die Einwilligung in das Videomodul (VC-07). Bitte bei der Schule nachfragen.', 'Consent to the video module is missing (VC-07). Please ask the school.');
  }
  // VC-09: peer meetings only after the participant agreed (recorded).
  if (room.category === 'peer' && facts.peerConsent !== true) {
    return deny(['VC-09'], 'Bei Peer-Treffen müssen alle Teilnehmenden zustimmen: bitte zuerst zustimmen (VC-09).', 'Peer meetings need every participant’s agreement: please agree first (VC-09).');
  }
  const rules = ['VC-01', 'VC-02', 'VC-13'];
  if (isStudent && tenant.consentRequired) rules.push('VC-07');
  if (room.category === 'peer') rules.push('VC-09');
  const obligations: Obligations = { ...o, moderator: false };
  if (facts.objection) {
    // VC-06: never force a camera on; join with camera off and without the preview.
    obligations.cameraOff = true;
    obligations.skipVideoPreview = true;
  }
  return permit(rules, obligations, 'Beitritt als Teilnehmende/r.', 'Joining as participant.');
}

function decideShareJoin(room: PolicyRoom, tenant: PolicyTenantSettings, facts: PolicyFacts): Decision {
  const link = facts.shareLink;
  if (!link || !link.found || link.expired) {
    return deny(['VC-15', 'VC-01'], 'Dieser Freigabelink ist ungültig oder abgelaufen (VC-15).', 'This share link is invalid or has expired (VC-15).');
  }
  if (!link.passwordOk) return deny(['VC-15', 'SEC-01'], 'Das Passwort stimmt nicht (VC-15).', 'The password is wrong (VC-15).');
  if (room.state !== 'running') {
    return deny(['VC-03'], 'Warten auf die Lehrkraft: die Konferenz ist noch nicht gestartet (VC-03).', 'Waiting for the teacher: the conference has not started yet (VC-03).', true);
  }
  const o = baseObligations(room, tenant);
  // VC-15/VC-04: guests always wait in the lobby for admission.
  return permit(['VC-15', 'VC-01', 'VC-02'], { ...o, guest: true, lobby: true, moderator: false }, 'Beitritt als Gast über den Warteraum.', 'Joining as a guest through the lobby.');
}
