import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { DataSubject, PrivacyProvider } from '../privacy/registry.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { tenantSettingsSchema } from '../tenants/settings.js';
import { lebDeletionDate } from './schoolyear.js';

async function schoolYearStartOf(db: Kysely<DB>, tenantId: string): Promise<string> {
  const row = await db.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirst();
  return tenantSettingsSchema.parse(row?.settings ?? {}).schoolYearStart;
}

/**
 * Grids go with the account (RET-08). An LEB is deleted only once its RET-09
 * date has passed; before that it is kept, restricted (Art. 18) and hidden from
 * everyone but the DPO path, and RET-09 deletes it later (DSR-03).
 */
export function createCompetencyPrivacy(clock: Clock = systemClock): PrivacyProvider {
  return {
    name: 'competency',
    describe: () => [
      {
        category: 'competency.grids',
        table: 'competency_grids',
        userColumns: ['pupil_id'],
        fields: ['context_id', 'framework', 'title', 'standard_reached_at', 'created_at', 'updated_at'],
        purpose: { de: 'Kompetenzraster: Dokumentation des Lernfortschritts (Kopie aus Moodle)', en: 'Competency grids: documenting learning progress (copy from Moodle)' },
        retentionRule: 'RET-08',
        legalBasis: 'Art. 6 (1) e DSGVO i. V. m. Schulgesetz',
      },
      {
        category: 'competency.items',
        table: 'competency_items',
        userColumns: ['pupil_id'],
        fields: ['competency_id', 'title', 'self_level', 'self_assessed_at', 'teacher_level', 'assessed_at', 'evidence'],
        purpose: { de: 'Selbsteinschätzung und Einschätzung der Lehrkraft je Kompetenz', en: 'Self-assessment and teacher assessment per competency' },
        retentionRule: 'RET-08',
      },
      {
        category: 'competency.assessor',
        table: 'competency_items',
        userColumns: ['assessed_by'],
        fields: ['assessed_by', 'assessed_at'],
        purpose: { de: 'Welche Lehrkraft eine Einschätzung eingetragen hat', en: 'Which teacher entered an assessment' },
        retentionRule: 'RET-08',
      },
      {
        category: 'competency.lebs',
        table: 'lebs',
        userColumns: ['pupil_id'],
        fields: ['context_id', 'school_year', 'social_behaviour', 'learning_behaviour', 'subject_competencies', 'standard_reached_at', 'restricted_at'],
        purpose: { de: 'Lernentwicklungsbericht: Lern- und Sozialverhalten, fachspezifische Kompetenzen', en: 'Learning-development report: learning and social behaviour, subject competencies' },
        retentionRule: 'RET-09',
        legalBasis: 'Art. 6 (1) e DSGVO i. V. m. VwV Datenschutz an öffentlichen Schulen',
      },
      {
        category: 'competency.leb_teachers',
        table: 'leb_teachers',
        userColumns: ['teacher_id'],
        fields: ['leb_id'],
        purpose: { de: 'Für einen Lernentwicklungsbericht verantwortliche Lehrkräfte (ACC-02)', en: 'Teachers responsible for a learning-development report (ACC-02)' },
        retentionRule: 'RET-09',
      },
    ],
    async *export(db, s: DataSubject) {
      const grids = await db.selectFrom('competency_grids').selectAll().where('tenant_id', '=', s.tenantId).where('pupil_id', '=', s.userId).orderBy('created_at').execute();
      for (const g of grids) {
        yield { category: 'competency.grids', row: { id: g.id, contextId: g.context_id, framework: g.framework, title: g.title, standardReachedAt: g.standard_reached_at, createdAt: g.created_at, updatedAt: g.updated_at } };
        const items = await db.selectFrom('competency_items').selectAll().where('grid_id', '=', g.id).orderBy('position').execute();
        for (const i of items) {
          yield {
            category: 'competency.items',
            row: { gridId: g.id, competencyId: i.competency_id, title: i.title, selfLevel: i.self_level, selfAssessedAt: i.self_assessed_at, teacherLevel: i.teacher_level, assessedAt: i.assessed_at, evidence: i.evidence },
          };
        }
      }
      const assessed = await db
        .selectFrom('competency_items')
        .select(['grid_id', 'competency_id', 'assessed_at'])
        .where('tenant_id', '=', s.tenantId)
        .where('assessed_by', '=', s.userId)
        .where('pupil_id', '!=', s.userId)
        .execute();
      for (const a of assessed) yield { category: 'competency.assessor', row: { gridId: a.grid_id, competencyId: a.competency_id, assessedAt: a.assessed_at } };
      const lebs = await db.selectFrom('lebs').selectAll().where('tenant_id', '=', s.tenantId).where('pupil_id', '=', s.userId).orderBy('school_year').execute();
      for (const l of lebs) {
        yield {
          category: 'competency.lebs',
          row: {
            id: l.id,
            contextId: l.context_id,
            schoolYear: l.school_year,
            socialBehaviour: l.social_behaviour,
            learningBehaviour: l.learning_behaviour,
            subjectCompetencies: l.subject_competencies,
            standardReachedAt: l.standard_reached_at,
            restrictedAt: l.restricted_at,
          },
        };
      }
      const responsible = await db
        .selectFrom('leb_teachers')
        .innerJoin('lebs', 'lebs.id', 'leb_teachers.leb_id')
        .select(['lebs.id', 'lebs.context_id', 'lebs.school_year'])
        .where('leb_teachers.tenant_id', '=', s.tenantId)
        .where('leb_teachers.teacher_id', '=', s.userId)
        .execute();
      for (const r of responsible) yield { category: 'competency.leb_teachers', row: { lebId: r.id, contextId: r.context_id, schoolYear: r.school_year } };
    },
    async erase(trx, s: DataSubject) {
      const now = clock.now();
      const items = await trx.deleteFrom('competency_items').where('tenant_id', '=', s.tenantId).where('pupil_id', '=', s.userId).executeTakeFirst();
      const grids = await trx.deleteFrom('competency_grids').where('tenant_id', '=', s.tenantId).where('pupil_id', '=', s.userId).executeTakeFirst();
      const unlinked = await trx.updateTable('competency_items').set({ assessed_by: null }).where('tenant_id', '=', s.tenantId).where('assessed_by', '=', s.userId).executeTakeFirst();

      const schoolYearStart = await schoolYearStartOf(trx, s.tenantId);
      const lebs = await trx.selectFrom('lebs').select(['id', 'standard_reached_at', 'restricted_at']).where('tenant_id', '=', s.tenantId).where('pupil_id', '=', s.userId).execute();
      const due = lebs.filter((l) => l.standard_reached_at && lebDeletionDate(l.standard_reached_at, schoolYearStart) <= now).map((l) => l.id);
      const kept = lebs.filter((l) => !due.includes(l.id));
      if (due.length) await trx.deleteFrom('lebs').where('id', 'in', due).execute();
      const toRestrict = kept.filter((l) => !l.restricted_at).map((l) => l.id);
      if (toRestrict.length) await trx.updateTable('lebs').set({ restricted_at: now }).where('id', 'in', toRestrict).execute();
      const teacherLinks = await trx.deleteFrom('leb_teachers').where('tenant_id', '=', s.tenantId).where('teacher_id', '=', s.userId).executeTakeFirst();

      return [
        { category: 'competency.items', deleted: Number(items.numDeletedRows), kept: 0 },
        { category: 'competency.grids', deleted: Number(grids.numDeletedRows), kept: 0 },
        { category: 'competency.assessor', deleted: Number(unlinked.numUpdatedRows), kept: 0 },
        { category: 'competency.lebs', deleted: due.length, kept: kept.length, ...(kept.length ? { keptBecause: 'RET-09' } : {}) },
        { category: 'competency.leb_teachers', deleted: Number(teacherLinks.numDeletedRows), kept: 0 },
      ];
    },
  };
}

export const competencyPrivacy = createCompetencyPrivacy();
