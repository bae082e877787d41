import type { Kysely, Migration } from 'kysely';
import { ddl } from '../db/ddl.js';

export const competencyMigrations: Record<string, Migration> = {
  '0400_competency_grids': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table competency_grids (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          context_id uuid not null references contexts(id) on delete cascade,
          pupil_id uuid not null references users(id) on delete cascade,
          framework text not null,
          title text not null default '',
          standard_reached_at timestamptz,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          unique (tenant_id, context_id, pupil_id, framework)
        )`,
        `create index competency_grids_pupil on competency_grids (tenant_id, pupil_id)`,
        `create table competency_items (
          grid_id uuid not null references competency_grids(id) on delete cascade,
          tenant_id uuid not null,
          context_id uuid not null,
          framework text not null,
          pupil_id uuid not null,
          competency_id text not null,
          title text not null,
          position integer not null default 0,
          self_level smallint check (self_level >= 0),
          self_assessed_at timestamptz,
          teacher_level smallint check (teacher_level >= 0),
          assessed_by uuid references users(id) on delete set null,
          assessed_at timestamptz,
          evidence text,
          updated_at timestamptz not null default now(),
          primary key (grid_id, competency_id)
        )`,
        // The class overview (ACC-01, teachers of the context): one range scan per context and framework.
        `create index competency_items_overview on competency_items (tenant_id, context_id, framework, pupil_id, position)`,
        `create index competency_items_assessor on competency_items (assessed_by) where assessed_by is not null`,
      );
    },
  },
  '0410_lebs': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table lebs (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          context_id uuid not null references contexts(id) on delete cascade,
          pupil_id uuid not null,
          school_year text not null check (school_year ~ '^[0-9]{4}/[0-9]{2}$'),
          social_behaviour text not null default '',
          learning_behaviour text not null default '',
          subject_competencies text not null default '',
          standard_reached_at timestamptz,
          restricted_at timestamptz,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          unique (tenant_id, context_id, pupil_id, school_year)
        )`,
        `create index lebs_pupil on lebs (tenant_id, pupil_id)`,
        `create index lebs_due on lebs (tenant_id, standard_reached_at) where standard_reached_at is not null`,
        `create table leb_teachers (
          leb_id uuid not null references lebs(id) on delete cascade,
          tenant_id uuid not null,
          teacher_id uuid not null references users(id) on delete cascade,
          primary key (leb_id, teacher_id)
        )`,
        `create index leb_teachers_teacher on leb_teachers (tenant_id, teacher_id)`,
      );
    },
  },
};
