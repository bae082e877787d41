/**
 * Who may read, write and delete competency grids (ACC-01) and learning-
 * development reports (ACC-02). Pure: the facts about the caller come from the
 * bridge's own records (launch, NRPS, IServ, roster pushed by the LMS), never
 * from a request body.
 */
import { TEACHING_ROLES, type AppRole } from '../identity/roles.js';

/** What the bridge knows about the person acting (directly in a page, or named by the LMS). */
export interface CallerFacts {
  userId: string;
  /** Verified roles in the resource's context. */
  rolesHere: readonly AppRole[];
  /** Union of verified roles in the tenant's other contexts. */
  rolesElsewhere: readonly AppRole[];
}

export type Decision =
  | { allow: true; ruleIds: string[] }
  | { allow: false; status: 403 | 404 | 409 | 423; type: string; ruleIds: string[]; detail: string };

export type GridAction = 'read' | 'write' | 'self-assess' | 'delete';
export type LebAction = 'read' | 'write' | 'delete';

export interface GridFacts {
  pupilId: string;
  standardReachedAt: Date | null;
  /** Art. 18 restriction on the pupil's grids (DSR-03). */
  restricted: boolean;
}

export interface LebFacts {
  pupilId: string;
  responsibleTeacherIds: readonly string[];
  restricted: boolean;
}

const LEARNER_ROLES: readonly AppRole[] = ['student', 'guest'];
const OVERSIGHT_ROLES: readonly AppRole[] = ['admin', 'dpo'];

const has = (roles: readonly AppRole[], wanted: readonly AppRole[]) => roles.some((r) => wanted.includes(r));
export const teachesHere = (c: CallerFacts) => has(c.rolesHere, TEACHING_ROLES);
const permit = (...ruleIds: string[]): Decision => ({ allow: true, ruleIds });
const deny = (status: 403 | 404 | 409 | 423, ruleIds: string[], detail: string, type?: string): Decision => ({
  allow: false,
  status,
  type: type ?? (status === 404 ? 'not-found' : status === 409 ? 'conflict' : status === 423 ? 'restricted' : 'forbidden'),
  ruleIds,
  detail,
});

/** ACC-01 refusals: pupils must not even learn that another pupil's grid exists. */
function refuseGrid(c: CallerFacts): Decision {
  if (has(c.rolesHere, LEARNER_ROLES)) return deny(404, ['ACC-01'], 'Kein Kompetenzraster gefunden.');
  if (has(c.rolesHere, OVERSIGHT_ROLES) || has(c.rolesElsewhere, OVERSIGHT_ROLES)) {
    return deny(403, ['ACC-01'], 'Administration und Datenschutzbeauftragte haben keinen Routinezugriff auf Kompetenzraster (ACC-01).');
  }
  if (has(c.rolesHere, TEACHING_ROLES) || has(c.rolesElsewhere, TEACHING_ROLES)) {
    return deny(403, ['ACC-01'], 'Kompetenzraster sehen nur die Lehrkräfte dieses Kurses und die betreffende Schülerin bzw. der betreffende Schüler (ACC-01).');
  }
  return deny(404, ['ACC-01'], 'Kein Kompetenzraster gefunden.');
}

export function decideGrid(action: GridAction, c: CallerFacts, grid: GridFacts, options: { selfAssessmentAllowed: boolean }): Decision {
  const isPupil = c.userId === grid.pupilId;
  const teacher = teachesHere(c);
  let base: Decision;
  switch (action) {
    case 'read':
      base = teacher || isPupil ? permit('ACC-01') : refuseGrid(c);
      break;
    case 'write':
      if (teacher) base = permit('ACC-01');
      else if (isPupil) base = deny(403, ['ACC-01'], 'Einschätzungen der Lehrkraft und den Aufbau des Rasters ändern nur die Lehrkräfte des Kurses (ACC-01). Ihre Selbsteinschätzung können Sie selbst eintragen.');
      else base = refuseGrid(c);
      break;
    case 'self-assess':
      if (isPupil) {
        base = options.selfAssessmentAllowed
          ? permit('ACC-01')
          : deny(403, ['ACC-01'], 'Ihre Schule hat die Selbsteinschätzung in der Schulbrücke abgeschaltet; bitte in Moodle eintragen.', 'policy-denied');
      } else if (teacher) base = deny(403, ['ACC-01'], 'Die Selbsteinschätzung trägt nur die Schülerin bzw. der Schüler selbst ein (ACC-01).');
      else base = refuseGrid(c);
      break;
    case 'delete':
      if (teacher) base = permit('ACC-01');
      else if (isPupil) {
        base = grid.standardReachedAt
          ? permit('RET-08')
          : deny(409, ['RET-08'], 'Das Raster kann erst gelöscht werden, wenn der Bildungsstandard erreicht ist (RET-08).');
      } else base = refuseGrid(c);
      break;
  }
  return restrict(base, grid.restricted, action === 'read', 'Kompetenzraster');
}

/** ACC-02 refusals: every pupil gets 404 (their own LEB included); every other teacher 403. */
function refuseLeb(c: CallerFacts, leb: LebFacts): Decision {
  if (c.userId === leb.pupilId || has(c.rolesHere, LEARNER_ROLES) || has(c.rolesElsewhere, LEARNER_ROLES)) {
    return deny(404, ['ACC-02'], 'Kein Lernentwicklungsbericht gefunden.');
  }
  if (has(c.rolesHere, OVERSIGHT_ROLES) || has(c.rolesElsewhere, OVERSIGHT_ROLES)) {
    return deny(403, ['ACC-02'], 'Administration und Datenschutzbeauftragte haben keinen Routinezugriff auf Lernentwicklungsberichte (ACC-02).');
  }
  if (has(c.rolesHere, TEACHING_ROLES) || has(c.rolesElsewhere, TEACHING_ROLES)) {
    return deny(403, ['ACC-02'], 'Lernentwicklungsberichte sehen nur die dafür verantwortlichen Lehrkräfte (ACC-02).');
  }
  return deny(404, ['ACC-02'], 'Kein Lernentwicklungsbericht gefunden.');
}

export function decideLeb(action: LebAction, c: CallerFacts, leb: LebFacts): Decision {
  const responsible = teachesHere(c) && leb.responsibleTeacherIds.includes(c.userId);
  const base = responsible ? permit('ACC-02') : refuseLeb(c, leb);
  return restrict(base, leb.restricted, action === 'read', 'Lernentwicklungsbericht');
}

/**
 * ACC-02 for a new LEB: the author must teach in the context and be among the
 * responsible teachers (otherwise they could write what they may not read back).
 */
export function decideLebCreate(c: CallerFacts, responsibleTeacherIds: readonly string[], pupilId: string): Decision {
  if (teachesHere(c) && responsibleTeacherIds.includes(c.userId)) return permit('ACC-02');
  if (teachesHere(c)) return deny(403, ['ACC-02'], 'Wer einen Lernentwicklungsbericht anlegt, muss selbst zu den verantwortlichen Lehrkräften gehören (ACC-02).');
  return refuseLeb(c, { pupilId, responsibleTeacherIds, restricted: false });
}

/** Art. 18: a restricted record is hidden (reads) and frozen (changes) for everyone outside the DPO path. */
function restrict(base: Decision, restricted: boolean, isRead: boolean, what: string): Decision {
  if (!base.allow || !restricted) return base;
  return isRead
    ? deny(404, ['DSR-03'], `Dieser ${what} ist nach Art. 18 DSGVO eingeschränkt und nur über die Datenschutzbeauftragte bzw. den Datenschutzbeauftragten zugänglich (DSR-03).`)
    : deny(423, ['DSR-03'], `Dieser ${what} ist nach Art. 18 DSGVO eingeschränkt und darf nicht geändert werden (DSR-03).`);
}
