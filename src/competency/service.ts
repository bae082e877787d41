/**
 * The competency module's operations, each decided by policy.ts against what the
 * bridge itself knows about the acting person, and each decision written to the
 * activity log with its rule id. Used by the REST routes (the LMS names the
 * acting user) and by the pages (the session's user).
 */
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/index.js';
import type { DB } from '../db/schema.js';
import { isRestricted } from '../privacy/restrictions.js';
import type { Clock } from '../shared/clock.js';
import { ProblemError } from '../shared/errors.js';
import { tenantSettingsSchema } from '../tenants/settings.js';
import { findById } from '../tenants/store.js';
import { decideGrid, decideLeb, decideLebCreate, type CallerFacts, type Decision, teachesHere } from './policy.js';
import * as store from './store.js';
import { GRID_CATEGORY, LEB_CATEGORY, type GridRow, type ItemRow, type LebWithTeachers } from './store.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
  audit: AuditLog;
}

/** The person acting: from a session (page) or named by the LMS (REST, `onBehalfOf`). */
export interface Actor {
  tenantId: string;
  userId: string;
  via: 'page' | 'lms';
}

export interface CompetencySettings {
  selfAssessment: boolean;
  gradingScheme: string[];
}

export async function competencySettings(db: Kysely<DB>, tenantId: string): Promise<CompetencySettings> {
  const tenant = await findById(db, tenantId);
  if (!tenant) throw new ProblemError(404, 'not-found', 'Diese Schule gibt es nicht (mehr).', { ruleIds: ['ACC-04'] });
  return tenant.settings.competency;
}

async function factsOf(db: Kysely<DB>, actor: Actor, contextId: string): Promise<CallerFacts> {
  return (await factsAndSettings(db, actor, contextId)).facts;
}

/** The context check, the caller's verified roles and the tenant's competency settings in one round trip. */
async function factsAndSettings(db: Kysely<DB>, actor: Actor, contextId: string): Promise<{ facts: CallerFacts; settings: CompetencySettings }> {
  const { context, user, settings } = await store.contextAndCaller(db, actor.tenantId, actor.userId, contextId);
  if (!context || settings === null || settings === undefined) {
    throw new ProblemError(404, 'not-found', 'Diesen Kurs bzw. diese Gruppe gibt es in dieser Schule nicht.', { ruleIds: ['ACC-04'] });
  }
  if (!user) throw new ProblemError(404, 'not-found', 'Die handelnde Person ist in dieser Schule nicht bekannt.', { ruleIds: ['ACC-04'] });
  return { facts: user, settings: tenantSettingsSchema.parse(settings).competency };
}

function enforce(deps: Deps, actor: Actor, contextId: string, action: string, objectType: string, objectId: string | undefined, decision: Decision): void {
  deps.audit.activity({
    tenantId: actor.tenantId,
    actorId: actor.userId,
    contextId,
    action,
    objectType,
    ...(objectId ? { objectId } : {}),
    outcome: decision.allow ? 'permit' : 'deny',
    ruleIds: decision.ruleIds,
    details: { via: actor.via, ...(decision.allow ? {} : { status: decision.status }) },
  });
  if (!decision.allow) throw new ProblemError(decision.status, decision.type, decision.detail, { ruleIds: decision.ruleIds });
}

const invalid = (field: string, message: string) =>
  new ProblemError(422, 'validation-failed', 'Bitte die markierten Felder prüfen.', { extra: { errors: [{ in: 'body', field, message, code: 'custom' }] } });

// ---- views -------------------------------------------------------------------

const level = (value: number | null, scheme: string[]) => (value === null ? null : { level: value, label: scheme[value] ?? `Stufe ${value}` });

export function gridView(grid: GridRow, items: ItemRow[], scheme: string[]) {
  return {
    id: grid.id,
    contextId: grid.context_id,
    pupilId: grid.pupil_id,
    framework: grid.framework,
    title: grid.title,
    gradingScheme: scheme,
    standardReachedAt: grid.standard_reached_at?.toISOString() ?? null,
    createdAt: grid.created_at.toISOString(),
    updatedAt: grid.updated_at.toISOString(),
    items: items.map((i) => ({
      competencyId: i.competency_id,
      title: i.title,
      position: i.position,
      selfAssessment: i.self_level === null ? null : { ...level(i.self_level, scheme)!, assessedAt: i.self_assessed_at?.toISOString() ?? null },
      teacherAssessment:
        i.teacher_level === null ? null : { ...level(i.teacher_level, scheme)!, assessorId: i.assessed_by, assessedAt: i.assessed_at?.toISOString() ?? null },
      evidence: i.evidence,
    })),
  };
}
export type GridView = ReturnType<typeof gridView>;

export function lebView(leb: LebWithTeachers) {
  return {
    id: leb.id,
    contextId: leb.context_id,
    pupilId: leb.pupil_id,
    schoolYear: leb.school_year,
    responsibleTeacherIds: leb.teacherIds,
    socialBehaviour: leb.social_behaviour,
    learningBehaviour: leb.learning_behaviour,
    subjectCompetencies: leb.subject_competencies,
    standardReachedAt: leb.standard_reached_at?.toISOString() ?? null,
    createdAt: leb.created_at.toISOString(),
    updatedAt: leb.updated_at.toISOString(),
  };
}
export type LebView = ReturnType<typeof lebView>;

// ---- grids -------------------------------------------------------------------

async function gridFacts(db: Kysely<DB>, tenantId: string, grid: { pupil_id: string; standard_reached_at: Date | null }) {
  return { pupilId: grid.pupil_id, standardReachedAt: grid.standard_reached_at, restricted: await isRestricted(db, tenantId, grid.pupil_id, GRID_CATEGORY) };
}

/** Loads a grid and decides `action` on it; unknown grids are a 404 like any hidden one (ACC-01). */
async function decidedGrid(deps: Deps, db: Kysely<DB>, actor: Actor, contextId: string, gridId: string, action: 'read' | 'write' | 'self-assess' | 'delete', settings: CompetencySettings) {
  const facts = await factsOf(db, actor, contextId);
  const grid = await store.findGrid(db, actor.tenantId, contextId, gridId);
  const verb = action === 'self-assess' ? 'write' : action;
  if (!grid) {
    enforce(deps, actor, contextId, `competency.grid.${verb}`, 'grid', gridId, { allow: false, status: 404, type: 'not-found', ruleIds: ['ACC-01'], detail: 'Kein Kompetenzraster gefunden.' });
    throw new Error('unreachable');
  }
  const decision = decideGrid(action, facts, await gridFacts(db, actor.tenantId, grid), { selfAssessmentAllowed: settings.selfAssessment });
  enforce(deps, actor, contextId, `competency.grid.${verb}`, 'grid', grid.id, decision);
  return { grid, facts };
}

export async function readGrid(deps: Deps, actor: Actor, contextId: string, gridId: string): Promise<GridView> {
  const settings = await competencySettings(deps.db, actor.tenantId);
  const { grid } = await decidedGrid(deps, deps.db, actor, contextId, gridId, 'read', settings);
  return gridView(grid, await store.itemsOfGrid(deps.db, grid.id), settings.gradingScheme);
}

export interface GridSummary {
  id: string;
  pupilId: string;
  framework: string;
  title: string;
  standardReachedAt: string | null;
}

/** Teachers of the context see every (unrestricted) grid; a pupil sees their own; everyone else is refused (ACC-01). */
export async function listGrids(deps: Deps, actor: Actor, contextId: string): Promise<GridSummary[]> {
  const facts = await factsOf(deps.db, actor, contextId);
  const teacher = teachesHere(facts);
  const rows = teacher ? await store.gridsOfContext(deps.db, actor.tenantId, contextId) : await store.gridsOfPupil(deps.db, actor.tenantId, contextId, actor.userId);
  const decision: Decision = teacher || facts.rolesHere.includes('student') || rows.length ? { allow: true, ruleIds: ['ACC-01'] } : decideGrid('read', facts, { pupilId: '', standardReachedAt: null, restricted: false }, { selfAssessmentAllowed: false });
  enforce(deps, actor, contextId, 'competency.grid.list', 'context', contextId, decision);
  const restricted = await store.restrictedAmong(deps.db, actor.tenantId, [...new Set(rows.map((r) => r.pupil_id))], GRID_CATEGORY);
  return rows
    .filter((r) => !restricted.has(r.pupil_id))
    .map((r) => ({ id: r.id, pupilId: r.pupil_id, framework: r.framework, title: r.title, standardReachedAt: r.standard_reached_at?.toISOString() ?? null }));
}

/** ACC-01 for writes to a context's grids as a whole (e.g. a pull from Moodle): teachers of the context only. */
export async function authorizeGridWrites(deps: Deps, actor: Actor, contextId: string): Promise<void> {
  const facts = await factsOf(deps.db, actor, contextId);
  const decision = decideGrid('write', facts, { pupilId: '', standardReachedAt: null, restricted: false }, { selfAssessmentAllowed: false });
  enforce(deps, actor, contextId, 'competency.grid.pull', 'context', contextId, decision);
}

export interface ClassOverview {
  contextId: string;
  framework: string;
  gradingScheme: string[];
  competencies: { competencyId: string; title: string }[];
  pupils: { pupilId: string; gridId: string; levels: Record<string, { teacher: number | null; self: number | null }> }[];
}

/** ACC-01: the pupils × competencies table, for the context's teachers only. */
export async function classOverview(deps: Deps, actor: Actor, contextId: string, framework: string): Promise<ClassOverview> {
  const { facts, settings } = await factsAndSettings(deps.db, actor, contextId);
  const decision = teachesHere(facts) ? ({ allow: true, ruleIds: ['ACC-01'] } as Decision) : decideGrid('read', facts, { pupilId: '', standardReachedAt: null, restricted: false }, { selfAssessmentAllowed: false });
  enforce(deps, actor, contextId, 'competency.grid.overview', 'context', contextId, decision);
  const gradingScheme = settings.gradingScheme;
  const cells = await store.overviewCells(deps.db, actor.tenantId, contextId, framework);
  const competencies = new Map<string, { competencyId: string; title: string; order: number }>();
  const pupils: ClassOverview['pupils'] = [];
  let current: ClassOverview['pupils'][number] | undefined;
  let order = 0;
  for (const c of cells) {
    if (current?.pupilId !== c.pupil_id) pupils.push((current = { pupilId: c.pupil_id, gridId: c.grid_id, levels: {} }));
    if (!competencies.has(c.competency_id)) competencies.set(c.competency_id, { competencyId: c.competency_id, title: c.title, order: order++ });
    current.levels[c.competency_id] = { teacher: c.teacher_level, self: c.self_level };
  }
  return {
    contextId,
    framework,
    gradingScheme,
    competencies: [...competencies.values()].sort((a, b) => a.order - b.order).map(({ competencyId, title }) => ({ competencyId, title })),
    pupils,
  };
}

export interface GridItemBody {
  competencyId: string;
  title: string;
  position?: number | undefined;
  teacherAssessment?: number | null | undefined;
  /** Only accepted when it equals what is stored: the pupil alone changes it. */
  selfAssessment?: number | null | undefined;
  evidence?: string | null | undefined;
}

export interface GridBody {
  pupilId: string;
  framework: string;
  title?: string | undefined;
  standardReachedAt?: string | null | undefined;
  items: GridItemBody[];
}

/** One grid upsert inside the caller's transaction (single PUT or one entry of a batch). */
export async function putGridIn(trx: Kysely<DB>, deps: Deps, actor: Actor, contextId: string, body: GridBody, settings: CompetencySettings): Promise<{ id: string; created: boolean }> {
  const facts = await factsOf(trx, actor, contextId);
  const existing = await store.findGridByKey(trx, { tenantId: actor.tenantId, contextId, pupilId: body.pupilId, framework: body.framework });
  const restricted = await isRestricted(trx, actor.tenantId, body.pupilId, GRID_CATEGORY);
  const decision = decideGrid('write', facts, { pupilId: body.pupilId, standardReachedAt: existing?.standard_reached_at ?? null, restricted }, { selfAssessmentAllowed: settings.selfAssessment });
  enforce(deps, actor, contextId, 'competency.grid.write', 'grid', existing?.id, decision);

  if (!existing && !(await store.pupilsAmong(trx, actor.tenantId, contextId, [body.pupilId])).has(body.pupilId)) {
    throw invalid('pupilId', 'ist keine Schülerin / kein Schüler dieses Kurses (Mitgliedschaft aus Start, Teilnehmerliste oder Roster)');
  }
  const max = settings.gradingScheme.length - 1;
  const seen = new Set<string>();
  const stored = existing ? new Map((await store.itemsOfGrid(trx, existing.id)).map((i) => [i.competency_id, i])) : new Map<string, ItemRow>();
  for (const [index, item] of body.items.entries()) {
    if (seen.has(item.competencyId)) throw invalid(`items.${index}.competencyId`, 'kommt doppelt vor');
    seen.add(item.competencyId);
    for (const key of ['teacherAssessment', 'selfAssessment'] as const) {
      const v = item[key];
      if (v !== undefined && v !== null && v > max) throw invalid(`items.${index}.${key}`, `Stufe ${v} gibt es im Bewertungsschema der Schule nicht (0–${max})`);
    }
    if (item.selfAssessment !== undefined && item.selfAssessment !== (stored.get(item.competencyId)?.self_level ?? null)) {
      enforce(deps, actor, contextId, 'competency.grid.write', 'grid', existing?.id, {
        allow: false,
        status: 403,
        type: 'forbidden',
        ruleIds: ['ACC-01'],
        detail: `Eintrag items.${index}: Die Selbsteinschätzung trägt nur die Schülerin bzw. der Schüler selbst ein (ACC-01), über …/self-assessment.`,
      });
    }
  }
  return store.upsertGrid(trx, deps.clock.now(), {
    tenantId: actor.tenantId,
    contextId,
    pupilId: body.pupilId,
    framework: body.framework,
    title: body.title ?? existing?.title ?? body.framework,
    standardReachedAt: body.standardReachedAt === undefined ? (existing?.standard_reached_at ?? null) : body.standardReachedAt === null ? null : new Date(body.standardReachedAt),
    items: body.items.map((item, index) => ({
      competencyId: item.competencyId,
      title: item.title,
      position: item.position ?? index,
      teacherLevel: item.teacherAssessment ?? null,
      evidence: item.evidence ?? null,
    })),
  }, actor.userId);
}

export async function putGrid(deps: Deps, actor: Actor, contextId: string, body: GridBody): Promise<{ grid: GridView; created: boolean }> {
  const settings = await competencySettings(deps.db, actor.tenantId);
  const result = await deps.db.transaction().execute((trx) => putGridIn(trx, deps, actor, contextId, body, settings));
  const grid = (await store.findGrid(deps.db, actor.tenantId, contextId, result.id))!;
  return { grid: gridView(grid, await store.itemsOfGrid(deps.db, grid.id), settings.gradingScheme), created: result.created };
}

/** All or nothing: the first failing entry aborts the transaction and is named by its index. */
export async function putGridBatch(deps: Deps, actor: Actor, contextId: string, bodies: GridBody[]): Promise<{ id: string; created: boolean }[]> {
  const settings = await competencySettings(deps.db, actor.tenantId);
  return deps.db.transaction().execute(async (trx) => {
    const results: { id: string; created: boolean }[] = [];
    for (const [index, body] of bodies.entries()) {
      try {
        results.push(await putGridIn(trx, deps, actor, contextId, body, settings));
      } catch (error) {
        throw batchFailure(index, error);
      }
    }
    return results;
  });
}

export function batchFailure(index: number, error: unknown): unknown {
  if (!(error instanceof ProblemError)) return error;
  return new ProblemError(422, 'batch-item-failed', `Eintrag ${index} wurde abgelehnt (${error.status}): ${error.detail ?? error.type}. Es wurde nichts gespeichert.`, {
    ruleIds: error.ruleIds,
    extra: {
      index,
      item: {
        status: error.status,
        type: error.type,
        detail: error.detail,
        ...(error.ruleIds.length ? { ruleIds: error.ruleIds } : {}),
        ...(Array.isArray(error.extra.errors) ? { errors: error.extra.errors } : {}),
      },
    },
  });
}

/** The pupil's self-assessments of one grid (one transaction; where the tenant allows it). */
export async function selfAssess(deps: Deps, actor: Actor, contextId: string, gridId: string, changes: { competencyId: string; level: number | null }[]): Promise<void> {
  const settings = await competencySettings(deps.db, actor.tenantId);
  await deps.db.transaction().execute(async (trx) => {
    const { grid } = await decidedGrid(deps, trx, actor, contextId, gridId, 'self-assess', settings);
    for (const change of changes) {
      if (change.level !== null && change.level > settings.gradingScheme.length - 1) throw invalid('level', `Stufe ${change.level} gibt es im Bewertungsschema der Schule nicht`);
      if (!(await store.setSelfAssessment(trx, grid.id, change.competencyId, change.level, deps.clock.now()))) throw new ProblemError(404, 'not-found', 'Diese Kompetenz gehört nicht zu dem Raster.');
    }
  });
}

/** A teacher's assessments of one grid, with assessor and time (one transaction). */
export async function assess(
  deps: Deps,
  actor: Actor,
  contextId: string,
  gridId: string,
  changes: { competencyId: string; level: number | null; evidence?: string | null | undefined }[],
  standardReachedAt?: Date | null,
): Promise<void> {
  const settings = await competencySettings(deps.db, actor.tenantId);
  await deps.db.transaction().execute(async (trx) => {
    const { grid } = await decidedGrid(deps, trx, actor, contextId, gridId, 'write', settings);
    const now = deps.clock.now();
    for (const change of changes) {
      if (change.level !== null && change.level > settings.gradingScheme.length - 1) throw invalid('level', `Stufe ${change.level} gibt es im Bewertungsschema der Schule nicht`);
      if (!(await store.setTeacherAssessment(trx, grid.id, change.competencyId, change, actor.userId, now))) throw new ProblemError(404, 'not-found', 'Diese Kompetenz gehört nicht zu dem Raster.');
    }
    if (standardReachedAt !== undefined) await trx.updateTable('competency_grids').set({ standard_reached_at: standardReachedAt, updated_at: now }).where('id', '=', grid.id).execute();
  });
}

/** Teachers of the context, or the pupil once the standard is reached (RET-08). */
export async function deleteGridAs(deps: Deps, actor: Actor, contextId: string, gridId: string): Promise<void> {
  const settings = await competencySettings(deps.db, actor.tenantId);
  await deps.db.transaction().execute(async (trx) => {
    const { grid } = await decidedGrid(deps, trx, actor, contextId, gridId, 'delete', settings);
    await store.deleteGrid(trx, actor.tenantId, grid.id);
  });
}

// ---- LEBs --------------------------------------------------------------------

async function lebRestricted(db: Kysely<DB>, tenantId: string, leb: { pupil_id: string; restricted_at: Date | null }): Promise<boolean> {
  return leb.restricted_at !== null || (await isRestricted(db, tenantId, leb.pupil_id, LEB_CATEGORY));
}

async function decidedLeb(deps: Deps, db: Kysely<DB>, actor: Actor, contextId: string, lebId: string, action: 'read' | 'write' | 'delete') {
  const facts = await factsOf(db, actor, contextId);
  const leb = await store.findLeb(db, actor.tenantId, contextId, lebId);
  if (!leb) {
    enforce(deps, actor, contextId, `competency.leb.${action}`, 'leb', lebId, { allow: false, status: 404, type: 'not-found', ruleIds: ['ACC-02'], detail: 'Kein Lernentwicklungsbericht gefunden.' });
    throw new Error('unreachable');
  }
  const decision = decideLeb(action, facts, { pupilId: leb.pupil_id, responsibleTeacherIds: leb.teacherIds, restricted: await lebRestricted(db, actor.tenantId, leb) });
  enforce(deps, actor, contextId, `competency.leb.${action}`, 'leb', leb.id, decision);
  return leb;
}

export async function readLeb(deps: Deps, actor: Actor, contextId: string, lebId: string): Promise<LebView> {
  return lebView(await decidedLeb(deps, deps.db, actor, contextId, lebId, 'read'));
}

/** The LEBs of the context the acting teacher is responsible for; pupils 404, others 403 (ACC-02). */
export async function listLebs(deps: Deps, actor: Actor, contextId: string): Promise<LebView[]> {
  const facts = await factsOf(deps.db, actor, contextId);
  const decision = teachesHere(facts) ? ({ allow: true, ruleIds: ['ACC-02'] } as Decision) : decideLeb('read', facts, { pupilId: '', responsibleTeacherIds: [], restricted: false });
  enforce(deps, actor, contextId, 'competency.leb.list', 'context', contextId, decision);
  const rows = await store.lebsOfTeacher(deps.db, actor.tenantId, contextId, actor.userId);
  const restricted = await store.restrictedAmong(deps.db, actor.tenantId, [...new Set(rows.map((r) => r.pupil_id))], LEB_CATEGORY);
  return rows.filter((r) => !restricted.has(r.pupil_id)).map(lebView);
}

export interface LebBody {
  pupilId: string;
  schoolYear: string;
  responsibleTeacherIds: string[];
  socialBehaviour?: string | undefined;
  learningBehaviour?: string | undefined;
  subjectCompetencies?: string | undefined;
  standardReachedAt?: string | null | undefined;
}

export async function putLebIn(trx: Kysely<DB>, deps: Deps, actor: Actor, contextId: string, body: LebBody): Promise<{ id: string; created: boolean }> {
  const facts = await factsOf(trx, actor, contextId);
  const existing = await store.findLebByKey(trx, { tenantId: actor.tenantId, contextId, pupilId: body.pupilId, schoolYear: body.schoolYear });
  const restricted = existing ? await lebRestricted(trx, actor.tenantId, existing) : await isRestricted(trx, actor.tenantId, body.pupilId, LEB_CATEGORY);
  const decision = existing
    ? decideLeb('write', facts, { pupilId: existing.pupil_id, responsibleTeacherIds: existing.teacherIds, restricted })
    : decideLebCreate(facts, body.responsibleTeacherIds, body.pupilId);
  enforce(deps, actor, contextId, 'competency.leb.write', 'leb', existing?.id, decision.allow && !existing && restricted
    ? { allow: false, status: 423, type: 'restricted', ruleIds: ['DSR-03'], detail: 'Die Verarbeitung der Daten dieser Schülerin bzw. dieses Schülers ist nach Art. 18 DSGVO eingeschränkt (DSR-03).' }
    : decision);

  const teachers = await store.teachersAmong(trx, actor.tenantId, contextId, body.responsibleTeacherIds);
  const notTeachers = body.responsibleTeacherIds.filter((id) => !teachers.has(id));
  if (notTeachers.length) throw invalid('responsibleTeacherIds', `${notTeachers.length} der genannten Personen unterrichten nicht in dieser Klasse bzw. Lerngruppe`);
  if (!existing && !(await store.pupilsAmong(trx, actor.tenantId, contextId, [body.pupilId])).has(body.pupilId)) {
    throw invalid('pupilId', 'ist keine Schülerin / kein Schüler dieser Klasse bzw. Lerngruppe');
  }
  const id = await store.upsertLeb(trx, deps.clock.now(), {
    tenantId: actor.tenantId,
    contextId,
    pupilId: body.pupilId,
    schoolYear: body.schoolYear,
    responsibleTeacherIds: [...new Set(body.responsibleTeacherIds)],
    socialBehaviour: body.socialBehaviour ?? existing?.social_behaviour ?? '',
    learningBehaviour: body.learningBehaviour ?? existing?.learning_behaviour ?? '',
    subjectCompetencies: body.subjectCompetencies ?? existing?.subject_competencies ?? '',
    standardReachedAt: body.standardReachedAt === undefined ? (existing?.standard_reached_at ?? null) : body.standardReachedAt === null ? null : new Date(body.standardReachedAt),
  });
  return { id, created: !existing };
}

export async function putLeb(deps: Deps, actor: Actor, contextId: string, body: LebBody): Promise<{ leb: LebView; created: boolean }> {
  const result = await deps.db.transaction().execute((trx) => putLebIn(trx, deps, actor, contextId, body));
  return { leb: lebView((await store.findLeb(deps.db, actor.tenantId, contextId, result.id))!), created: result.created };
}

export async function putLebBatch(deps: Deps, actor: Actor, contextId: string, bodies: LebBody[]): Promise<{ id: string; created: boolean }[]> {
  return deps.db.transaction().execute(async (trx) => {
    const results: { id: string; created: boolean }[] = [];
    for (const [index, body] of bodies.entries()) {
      try {
        results.push(await putLebIn(trx, deps, actor, contextId, body));
      } catch (error) {
        throw batchFailure(index, error);
      }
    }
    return results;
  });
}

export async function deleteLebAs(deps: Deps, actor: Actor, contextId: string, lebId: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const leb = await decidedLeb(deps, trx, actor, contextId, lebId, 'delete');
    await store.deleteLeb(trx, actor.tenantId, leb.id);
  });
}
