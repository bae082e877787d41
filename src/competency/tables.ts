import type { CreatedAt, Generated, Timestamp } from '../db/types.js';

export interface CompetencyTables {
  /** A pupil's competency grid (Kompetenzraster) in one context, copied from the LMS (ACC-01, RET-08). */
  competency_grids: {
    id: Generated<string>;
    tenant_id: string;
    context_id: string;
    pupil_id: string;
    /** The framework / grid reference in the LMS (core_competency framework idnumber, exacomp subject). */
    framework: string;
    title: string;
    /** RET-08: from here on the pupil may delete the grid. */
    standard_reached_at: Timestamp | null;
    created_at: CreatedAt;
    updated_at: Timestamp;
  };
  /**
   * One competency of one grid. tenant, context, framework and pupil are copied
   * from the grid so a class overview is a single index range scan.
   */
  competency_items: {
    grid_id: string;
    tenant_id: string;
    context_id: string;
    framework: string;
    pupil_id: string;
    competency_id: string;
    title: string;
    position: number;
    /** Index into the tenant's grading scheme (settings.competency.gradingScheme), lowest first. */
    self_level: number | null;
    self_assessed_at: Timestamp | null;
    teacher_level: number | null;
    assessed_by: string | null;
    assessed_at: Timestamp | null;
    evidence: string | null;
    updated_at: Timestamp;
  };
  /** Lernentwicklungsbericht: readable only by its responsible teachers (ACC-02), kept until RET-09. */
  lebs: {
    id: Generated<string>;
    tenant_id: string;
    /** The class or learning group. */
    context_id: string;
    /** No foreign key: an LEB may outlive the account until its RET-09 date (DSR-03). */
    pupil_id: string;
    /** e.g. '2025/26' */
    school_year: string;
    social_behaviour: string;
    learning_behaviour: string;
    subject_competencies: string;
    standard_reached_at: Timestamp | null;
    /** Art. 18: set when an erasure had to keep the LEB (RET-09); hidden from everyone but the DPO path. */
    restricted_at: Timestamp | null;
    created_at: CreatedAt;
    updated_at: Timestamp;
  };
  leb_teachers: {
    leb_id: string;
    tenant_id: string;
    teacher_id: string;
  };
}
