import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../db/schema.js';
import { TEACHING_ROLES, type AppRole } from '../identity/roles.js';
import type { CallerFacts } from './policy.js';
import type { CompetencyTables } from './tables.js';

export type GridRow = Selectable<CompetencyTables['competency_grids']>;
export type ItemRow = Selectable<CompetencyTables['competency_items']>;
export type LebRow = Selectable<CompetencyTables['lebs']>;

export const GRID_CATEGORY = 'competency.grids';
export const LEB_CATEGORY = 'competency.lebs';

/**
 * In one round trip: does the context exist in the tenant, and the caller's
 * verified roles there and elsewhere in the tenant. `user` is null when the
 * person is unknown in this tenant or deleted.
 */
export async function contextAndCaller(db: Kysely<DB>, tenantId: string, userId: string, contextId: string): Promise<{ context: boolean; user: CallerFacts | null; settings: unknown }> {
  const row = await sql<{ context: boolean; user: boolean; memberships: { c: string; r: AppRole[] }[] | null; settings: unknown }>`
    select
      (select settings from tenants where id = ${tenantId} and deleted_at is null) as settings,
      exists (select 1 from contexts where id = ${contextId} and tenant_id = ${tenantId} and deleted_at is null) as context,
      exists (select 1 from users where id = ${userId} and tenant_id = ${tenantId} and deleted_at is null) as user,
      (select json_agg(json_build_object('c', context_id, 'r', roles)) from memberships where tenant_id = ${tenantId} and user_id = ${userId}) as memberships`.execute(db);
  const r = row.rows[0]!;
  if (!r.user) return { context: r.context, user: null, settings: r.settings };
  const here = new Set<AppRole>();
  const elsewhere = new Set<AppRole>();
  for (const m of r.memberships ?? []) for (const role of m.r) (m.c === contextId ? here : elsewhere).add(role);
  return { context: r.context, user: { userId, rolesHere: [...here], rolesElsewhere: [...elsewhere] }, settings: r.settings };
}

/** The caller's verified roles here and elsewhere in the tenant; null when the user is unknown or deleted. */
export async function callerFacts(db: Kysely<DB>, tenantId: string, userId: string, contextId: string): Promise<CallerFacts | null> {
  return (await contextAndCaller(db, tenantId, userId, contextId)).user;
}

export async function contextExists(db: Kysely<DB>, tenantId: string, contextId: string): Promise<boolean> {
  const row = await db.selectFrom('contexts').select('id').where('id', '=', contextId).where('tenant_id', '=', tenantId).where('deleted_at', 'is', null).executeTakeFirst();
  return Boolean(row);
}

/** Users among `userIds` holding one of `roles` in the context (live accounts only). */
export async function membersWithRoles(db: Kysely<DB>, tenantId: string, contextId: string, userIds: readonly string[], roles: readonly AppRole[]): Promise<Set<string>> {
  if (!userIds.length) return new Set();
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['memberships.user_id', 'memberships.roles'])
    .where('memberships.tenant_id', '=', tenantId)
    .where('memberships.context_id', '=', contextId)
    .where('memberships.user_id', 'in', [...userIds])
    .where('users.deleted_at', 'is', null)
    .execute();
  return new Set(rows.filter((r) => (r.roles as AppRole[]).some((x) => roles.includes(x))).map((r) => r.user_id));
}

export const teachersAmong = (db: Kysely<DB>, tenantId: string, contextId: string, ids: readonly string[]) => membersWithRoles(db, tenantId, contextId, ids, TEACHING_ROLES);
export const pupilsAmong = (db: Kysely<DB>, tenantId: string, contextId: string, ids: readonly string[]) => membersWithRoles(db, tenantId, contextId, ids, ['student']);

/** Art. 18 restrictions among `userIds` for a category (or all of it / '*'), plus which users exist at all. */
export async function restrictedAmong(db: Kysely<DB>, tenantId: string, userIds: readonly string[], category: string): Promise<Set<string>> {
  if (!userIds.length) return new Set();
  const rows = await db
    .selectFrom('privacy_restrictions')
    .select('user_id')
    .where('tenant_id', '=', tenantId)
    .where('user_id', 'in', [...userIds])
    .where('lifted_at', 'is', null)
    .where('category', 'in', [category, '*', category.split('.')[0]!])
    .execute();
  return new Set(rows.map((r) => r.user_id));
}

// ---- grids -------------------------------------------------------------------

export async function findGrid(db: Kysely<DB>, tenantId: string, contextId: string, gridId: string): Promise<GridRow | null> {
  const row = await db.selectFrom('competency_grids').selectAll().where('tenant_id', '=', tenantId).where('context_id', '=', contextId).where('id', '=', gridId).executeTakeFirst();
  return row ?? null;
}

export async function findGridByKey(db: Kysely<DB>, key: { tenantId: string; contextId: string; pupilId: string; framework: string }): Promise<GridRow | null> {
  const row = await db
    .selectFrom('competency_grids')
    .selectAll()
    .where('tenant_id', '=', key.tenantId)
    .where('context_id', '=', key.contextId)
    .where('pupil_id', '=', key.pupilId)
    .where('framework', '=', key.framework)
    .executeTakeFirst();
  return row ?? null;
}

export async function itemsOfGrid(db: Kysely<DB>, gridId: string): Promise<ItemRow[]> {
  return db.selectFrom('competency_items').selectAll().where('grid_id', '=', gridId).orderBy('position').orderBy('competency_id').execute();
}

export async function gridsOfPupil(db: Kysely<DB>, tenantId: string, contextId: string, pupilId: string): Promise<GridRow[]> {
  return db.selectFrom('competency_grids').selectAll().where('tenant_id', '=', tenantId).where('context_id', '=', contextId).where('pupil_id', '=', pupilId).orderBy('framework').execute();
}

export async function gridsOfContext(db: Kysely<DB>, tenantId: string, contextId: string): Promise<GridRow[]> {
  return db.selectFrom('competency_grids').selectAll().where('tenant_id', '=', tenantId).where('context_id', '=', contextId).orderBy('framework').orderBy('pupil_id').execute();
}

export interface OverviewCell {
  grid_id: string;
  pupil_id: string;
  competency_id: string;
  title: string;
  teacher_level: number | null;
  self_level: number | null;
}

/**
 * The class overview (pupils × competencies) of one framework: one range scan
 * on competency_items_overview, already in (pupil, position) order, so no sort;
 * pupils under an Art. 18 restriction are left out.
 */
export async function overviewCells(db: Kysely<DB>, tenantId: string, contextId: string, framework: string): Promise<OverviewCell[]> {
  const result = await sql<OverviewCell>`
    select i.grid_id, i.pupil_id, i.competency_id, i.title, i.teacher_level, i.self_level
    from competency_items i
    where i.tenant_id = ${tenantId} and i.context_id = ${contextId} and i.framework = ${framework}
      and not exists (
        select 1 from privacy_restrictions r
        where r.user_id = i.pupil_id and r.tenant_id = ${tenantId} and r.lifted_at is null
          and r.category in (${GRID_CATEGORY}, 'competency', '*'))
    order by i.pupil_id, i.position`.execute(db);
  return result.rows;
}

export interface ItemInput {
  competencyId: string;
  title: string;
  position: number;
  teacherLevel: number | null;
  evidence: string | null;
}

export interface GridInput {
  tenantId: string;
  contextId: string;
  pupilId: string;
  framework: string;
  title: string;
  standardReachedAt: Date | null;
  items: ItemInput[];
}

/**
 * Idempotent upsert of a grid and its full item set (PUT semantics: items not
 * named are removed). A teacher assessment keeps its assessor and time unless
 * its level changes; the pupil's self-assessment is never touched here.
 */
export async function upsertGrid(trx: Kysely<DB>, now: Date, input: GridInput, assessorId: string): Promise<{ id: string; created: boolean }> {
  const grid = await trx
    .insertInto('competency_grids')
    .values({
      tenant_id: input.tenantId,
      context_id: input.contextId,
      pupil_id: input.pupilId,
      framework: input.framework,
      title: input.title,
      standard_reached_at: input.standardReachedAt,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'context_id', 'pupil_id', 'framework']).doUpdateSet({ title: input.title, standard_reached_at: input.standardReachedAt, updated_at: now }),
    )
    .returning(['id', sql<boolean>`(xmax = 0)`.as('inserted')])
    .executeTakeFirstOrThrow();
  const ids = input.items.map((i) => i.competencyId);
  let removal = trx.deleteFrom('competency_items').where('grid_id', '=', grid.id);
  if (ids.length) removal = removal.where('competency_id', 'not in', ids);
  await removal.execute();
  if (input.items.length) {
    await trx
      .insertInto('competency_items')
      .values(
        input.items.map((item) => ({
          grid_id: grid.id,
          tenant_id: input.tenantId,
          context_id: input.contextId,
          framework: input.framework,
          pupil_id: input.pupilId,
          competency_id: item.competencyId,
          title: item.title,
          position: item.position,
          teacher_level: item.teacherLevel,
          assessed_by: item.teacherLevel === null ? null : assessorId,
          assessed_at: item.teacherLevel === null ? null : now,
          evidence: item.evidence,
          updated_at: now,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['grid_id', 'competency_id']).doUpdateSet({
          title: sql`excluded.title`,
          position: sql`excluded.position`,
          evidence: sql`excluded.evidence`,
          teacher_level: sql`excluded.teacher_level`,
          assessed_by: sql`case when competency_items.teacher_level is not distinct from excluded.teacher_level then competency_items.assessed_by else excluded.assessed_by end`,
          assessed_at: sql`case when competency_items.teacher_level is not distinct from excluded.teacher_level then competency_items.assessed_at else excluded.assessed_at end`,
          updated_at: now,
        }),
      )
      .execute();
  }
  return { id: grid.id, created: grid.inserted };
}

export async function setSelfAssessment(trx: Kysely<DB>, gridId: string, competencyId: string, level: number | null, now: Date): Promise<boolean> {
  const r = await trx
    .updateTable('competency_items')
    .set({ self_level: level, self_assessed_at: level === null ? null : now, updated_at: now })
    .where('grid_id', '=', gridId)
    .where('competency_id', '=', competencyId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function setTeacherAssessment(
  trx: Kysely<DB>,
  gridId: string,
  competencyId: string,
  change: { level: number | null; evidence?: string | null | undefined },
  assessorId: string,
  now: Date,
): Promise<boolean> {
  const r = await trx
    .updateTable('competency_items')
    .set({
      teacher_level: change.level,
      assessed_by: change.level === null ? null : assessorId,
      assessed_at: change.level === null ? null : now,
      ...(change.evidence !== undefined ? { evidence: change.evidence } : {}),
      updated_at: now,
    })
    .where('grid_id', '=', gridId)
    .where('competency_id', '=', competencyId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteGrid(trx: Kysely<DB>, tenantId: string, gridId: string): Promise<number> {
  const r = await trx.deleteFrom('competency_grids').where('tenant_id', '=', tenantId).where('id', '=', gridId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

// ---- LEBs --------------------------------------------------------------------

export interface LebWithTeachers extends LebRow {
  teacherIds: string[];
}

async function withTeachers(db: Kysely<DB>, rows: LebRow[]): Promise<LebWithTeachers[]> {
  if (!rows.length) return [];
  const links = await db.selectFrom('leb_teachers').select(['leb_id', 'teacher_id']).where('leb_id', 'in', rows.map((r) => r.id)).execute();
  return rows.map((r) => ({ ...r, teacherIds: links.filter((l) => l.leb_id === r.id).map((l) => l.teacher_id).sort() }));
}

export async function findLeb(db: Kysely<DB>, tenantId: string, contextId: string, lebId: string): Promise<LebWithTeachers | null> {
  const row = await db.selectFrom('lebs').selectAll().where('tenant_id', '=', tenantId).where('context_id', '=', contextId).where('id', '=', lebId).executeTakeFirst();
  return row ? (await withTeachers(db, [row]))[0]! : null;
}

export async function findLebByKey(db: Kysely<DB>, key: { tenantId: string; contextId: string; pupilId: string; schoolYear: string }): Promise<LebWithTeachers | null> {
  const row = await db
    .selectFrom('lebs')
    .selectAll()
    .where('tenant_id', '=', key.tenantId)
    .where('context_id', '=', key.contextId)
    .where('pupil_id', '=', key.pupilId)
    .where('school_year', '=', key.schoolYear)
    .executeTakeFirst();
  return row ? (await withTeachers(db, [row]))[0]! : null;
}

/** LEBs of a context for which the teacher is responsible, unrestricted only. */
export async function lebsOfTeacher(db: Kysely<DB>, tenantId: string, contextId: string, teacherId: string): Promise<LebWithTeachers[]> {
  const rows = await db
    .selectFrom('lebs')
    .innerJoin('leb_teachers', 'leb_teachers.leb_id', 'lebs.id')
    .selectAll('lebs')
    .where('lebs.tenant_id', '=', tenantId)
    .where('lebs.context_id', '=', contextId)
    .where('leb_teachers.teacher_id', '=', teacherId)
    .where('lebs.restricted_at', 'is', null)
    .orderBy('lebs.school_year', 'desc')
    .execute();
  return withTeachers(db, rows);
}

export interface LebInput {
  tenantId: string;
  contextId: string;
  pupilId: string;
  schoolYear: string;
  responsibleTeacherIds: string[];
  socialBehaviour: string;
  learningBehaviour: string;
  subjectCompetencies: string;
  standardReachedAt: Date | null;
}

export async function upsertLeb(trx: Kysely<DB>, now: Date, input: LebInput): Promise<string> {
  const row = await trx
    .insertInto('lebs')
    .values({
      tenant_id: input.tenantId,
      context_id: input.contextId,
      pupil_id: input.pupilId,
      school_year: input.schoolYear,
      social_behaviour: input.socialBehaviour,
      learning_behaviour: input.learningBehaviour,
      subject_competencies: input.subjectCompetencies,
      standard_reached_at: input.standardReachedAt,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'context_id', 'pupil_id', 'school_year']).doUpdateSet({
        social_behaviour: input.socialBehaviour,
        learning_behaviour: input.learningBehaviour,
        subject_competencies: input.subjectCompetencies,
        standard_reached_at: input.standardReachedAt,
        updated_at: now,
      }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx.deleteFrom('leb_teachers').where('leb_id', '=', row.id).where('teacher_id', 'not in', input.responsibleTeacherIds).execute();
  await trx
    .insertInto('leb_teachers')
    .values(input.responsibleTeacherIds.map((teacherId) => ({ leb_id: row.id, tenant_id: input.tenantId, teacher_id: teacherId })))
    .onConflict((oc) => oc.doNothing())
    .execute();
  return row.id;
}

export async function deleteLeb(trx: Kysely<DB>, tenantId: string, lebId: string): Promise<number> {
  const r = await trx.deleteFrom('lebs').where('tenant_id', '=', tenantId).where('id', '=', lebId).executeTakeFirst();
  return Number(r.numDeletedRows);
}
